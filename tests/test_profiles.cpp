// Cluster profiles: per-cluster means of every column in the data's units, in the kmeans report of
// tabular data.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "embcluster/error.h"
#include "embcluster/metrics.h"
#include "testutil.h"

using namespace embcluster;

TEST(Profiles, MeansPerClusterAndOverallWhateverTheBlocks) {
  const std::vector<float> x = {1, 10, 3, 30, 5, 50, 7, 70, 100, 0};
  const std::vector<int32_t> labels = {0, 0, 2, 2, -1};
  auto src = memory_source(x.data(), 5, 2);
  for (const int64_t budget : {int64_t(0), int64_t(16)}) {
    ExecutionContext ctx;
    ctx.memory_budget = budget;
    const ClusterProfiles p = cluster_profiles(*src, labels, 3, ctx);
    EXPECT_EQ(p.means[0], 2);
    EXPECT_EQ(p.means[1], 20);
    EXPECT_TRUE(std::isnan(p.means[2]) && std::isnan(p.means[3]));  // cluster 1 is empty
    EXPECT_EQ(p.means[4], 6);
    EXPECT_EQ(p.means[5], 60);
    EXPECT_EQ(p.overall, (std::vector<double>{23.2, 32}));
    EXPECT_EQ(p.sizes, (std::vector<int64_t>{2, 0, 2}));
  }
  EXPECT_ERROR(cluster_profiles(*src, {0, 0, 3, 0, 0}, 3), "row 2 has label 3, outside -1..2");
}

TEST(Profiles, KMeansReportOfACsvHasThemInTheDataUnits) {
  testutil::TempDir tmp;
  std::ofstream(tmp.file("c.csv"))
      << "age,income,name\n20,30000,a\n22,32000,b\n60,90000,c\n62,95000,d\n21,31000,e\n";
  std::string out;
  ASSERT_EQ(
      testutil::run_cli("kmeans " + tmp.file("c.csv") +
                            " -k 2 --scale standard --no-metrics --quiet --out " + tmp.file("o"),
                        &out),
      0)
      << out;
  const auto j = nlohmann::json::parse(testutil::read_text(tmp.file("o/report.json")));
  const auto& p = j["profiles"];
  EXPECT_EQ(p["columns"], nlohmann::json({"age", "income"}));
  EXPECT_EQ(p["overall_mean"], nlohmann::json({37.0, 55600.0}));
  std::vector<double> ages;
  for (const auto& c : p["clusters"]) ages.push_back(c["mean"][0]);
  std::sort(ages.begin(), ages.end());
  EXPECT_EQ(ages, (std::vector<double>{21, 61}));
}
