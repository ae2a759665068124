// `embcluster evaluate` end to end, and the metrics section of the kmeans report.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>

#include "testutil.h"

using testutil::file_exists;
using testutil::run_cli;
using testutil::TempDir;

namespace {

const std::string kDir = EMBCLUSTER_TEST_DATA;
const std::string kData = kDir + "/metrics_data.npy";
const std::string kLabels = kDir + "/metrics_labels.npy";

nlohmann::json reference() {
  return nlohmann::json::parse(testutil::read_text(kDir + "/metrics_ref.json"));
}

nlohmann::json report_of(const std::string& dir) {
  return nlohmann::json::parse(testutil::read_text(dir + "/report.json"));
}

}  // namespace

TEST(EvaluateCli, ScoresMatchScikitLearnAndOutputsAreWritten) {
  TempDir tmp;
  const auto ref = reference();
  const std::string dir = tmp.file("out");
  std::string out;
  ASSERT_EQ(run_cli("evaluate " + kData + " --labels " + kLabels + " --out " + dir, &out), 0)
      << out;
  EXPECT_NE(out.find("silhouette 0.0802"), std::string::npos) << out;
  EXPECT_NE(out.find("Davies-Bouldin 1.6577"), std::string::npos) << out;
  EXPECT_NE(out.find("12 rows labelled -1 left out"), std::string::npos) << out;
  const auto r = report_of(dir);
  EXPECT_EQ(r["command"], "evaluate");
  EXPECT_EQ(r["silhouette"]["method"], "exact");
  EXPECT_NEAR(r["silhouette"]["score"].get<double>(), ref["euclidean"]["silhouette"].get<double>(),
              1e-5);
  EXPECT_NEAR(r["davies_bouldin"].get<double>(), ref["euclidean"]["davies_bouldin"].get<double>(),
              1e-5);
  const double ch = ref["euclidean"]["calinski_harabasz"];
  EXPECT_NEAR(r["calinski_harabasz"].get<double>(), ch, 1e-5 * ch);
  EXPECT_GT(r["inertia"].get<double>(), 0);
  EXPECT_EQ(r["noise"]["rows"], 12);
  EXPECT_EQ(r["noise"]["included"], false);
  EXPECT_EQ(r["silhouette"]["clusters"].size(), 5u);
  EXPECT_EQ(r["silhouette"]["clusters"][4]["label"], 7);
  EXPECT_EQ(r["cluster_sizes"].size(), 5u);
  // One value per row, NaN for the noise rows.
  const auto samples = testutil::read_h5(dir + "/silhouette_samples.h5", "/silhouette_samples");
  ASSERT_EQ(samples.size(), 300u);
  const auto& want = ref["euclidean"]["samples"];
  size_t next = 0, nan = 0;
  for (double v : samples) {
    if (std::isnan(v)) {
      ++nan;
      continue;
    }
    EXPECT_NEAR(v, want[next++].get<double>(), 1e-5);
  }
  EXPECT_EQ(nan, 12u);
  // Nothing temporary is left behind.
  int files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir)) {
    ++files;
    EXPECT_NE(e.path().filename().string()[0], '.') << e.path();
  }
  EXPECT_EQ(files, 2);
  // Existing outputs are kept without --force.
  EXPECT_NE(run_cli("evaluate " + kData + " --labels " + kLabels + " --out " + dir, &out), 0);
  EXPECT_NE(out.find("--force"), std::string::npos) << out;
  ASSERT_EQ(run_cli("evaluate " + kData + " --labels " + kLabels +
                        " --force --format npy --metric cosine --out " + dir, &out), 0) << out;
  EXPECT_TRUE(file_exists(dir + "/silhouette_samples.npy"));
  EXPECT_NEAR(report_of(dir)["silhouette"]["score"].get<double>(),
              ref["cosine"]["silhouette"].get<double>(), 1e-5);
}

TEST(EvaluateCli, NoiseSampleAndSimplified) {
  TempDir tmp;
  const auto ref = reference();
  std::string out;
  ASSERT_EQ(run_cli("evaluate " + kData + " --labels " + kLabels + " --include-noise --out " +
                        tmp.file("all"), &out), 0) << out;
  auto r = report_of(tmp.file("all"));
  EXPECT_NEAR(r["silhouette"]["score"].get<double>(), ref["all"]["silhouette"].get<double>(), 1e-5);
  EXPECT_NEAR(r["davies_bouldin"].get<double>(), ref["all"]["davies_bouldin"].get<double>(), 1e-5);
  EXPECT_EQ(r["noise"]["included"], true);

  ASSERT_EQ(run_cli("evaluate " + kData + " --labels " + kLabels + " --sample 100 --seed 4 --out " +
                        tmp.file("s"),
                    &out),
            0)
      << out;
  EXPECT_NE(out.find("95% CI"), std::string::npos) << out;
  r = report_of(tmp.file("s"));
  EXPECT_EQ(r["silhouette"]["method"], "sampled");
  EXPECT_EQ(r["silhouette"]["rows_scored"], 100);
  EXPECT_EQ(r["parameters"]["seed"], 4);
  const double lo = r["silhouette"]["ci95"][0], hi = r["silhouette"]["ci95"][1];
  EXPECT_LT(lo, r["silhouette"]["score"].get<double>());
  EXPECT_GT(hi, r["silhouette"]["score"].get<double>());
  EXPECT_EQ(testutil::read_h5(tmp.file("s") + "/silhouette_samples.h5", "/silhouette_samples").size(),
            300u);

  ASSERT_EQ(run_cli("evaluate " + kData + " --labels " + kLabels + " --simplified --out " +
                        tmp.file("c"), &out), 0) << out;
  r = report_of(tmp.file("c"));
  EXPECT_EQ(r["silhouette"]["method"], "simplified");
  EXPECT_EQ(r["silhouette"]["rows_scored"], 288);
}

TEST(EvaluateCli, BadInputIsOneLineAndWritesNothing) {
  TempDir tmp;
  const std::string dir = tmp.file("out");
  const std::string data = tmp.file("x.h5");
  std::vector<float> x(100 * 4);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((i * 37) % 17);
  testutil::write_h5_f32(data, "/data", x, 100, 4);
  std::vector<int32_t> labels(100);
  for (int i = 0; i < 100; ++i) labels[i] = i % 3;
  testutil::write_h5_i32(data, "/labels", labels);
  testutil::write_h5_i32(data, "/short", std::vector<int32_t>(99, 0));
  testutil::write_h5_i32(data, "/one", std::vector<int32_t>(100, 5));
  std::vector<float> frac(100, 1.0f);
  frac[12] = 0.5f;
  testutil::write_h5_f32(data, "/frac", frac, 100, 1);
  x[4 * 61 + 2] = std::numeric_limits<float>::quiet_NaN();
  testutil::write_h5_f32(data, "/nan", x, 100, 4);

  struct Case {
    std::string args, message;
  };
  const std::vector<Case> cases = {
      {data + ":/data --labels " + data + ":/short", "x.h5:/short has 99 rows; the data has 100"},
      {data + ":/data --labels " + data + ":/frac", "row 12"},
      {data + ":/data --labels " + data + ":/one",
       "Number of labels is 1. Valid values are 2 to n_samples - 1"},
      {data + ":/nan --labels " + data + ":/labels", "row 61 contains NaN"},
      {data + ":/data --labels " + data + ":/labels --metric manhattan", "manhattan"},
  };
  for (const auto& c : cases) {
    std::string out;
    const int rc = run_cli("evaluate " + c.args + " --out " + dir, &out);
    EXPECT_NE(rc, 0) << c.args;
    EXPECT_NE(out.find(c.message), std::string::npos) << c.args << "\n" << out;
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
    EXPECT_FALSE(file_exists(dir + "/report.json")) << c.args;
    EXPECT_FALSE(file_exists(dir + "/silhouette_samples.h5")) << c.args;
  }
  std::string out;
  EXPECT_EQ(run_cli("evaluate " + data + ":/data --labels " + data + ":/labels", &out), 0) << out;
}

TEST(EvaluateCli, KMeansReportCarriesMetrics) {
  TempDir tmp;
  std::string out;
  const std::string small = tmp.file("small.h5"), big = tmp.file("big.h5");
  ASSERT_EQ(run_cli("generate --n 2000 --d 6 --k 4 --seed 2 --quiet --out " + small, &out), 0)
      << out;
  ASSERT_EQ(run_cli("kmeans " + small + ":/data -k 4 --device cpu --quiet --out " +
                        tmp.file("a"), &out), 0) << out;
  auto m = report_of(tmp.file("a"))["metrics"];
  EXPECT_EQ(m["silhouette"]["method"], "exact");
  EXPECT_GT(m["silhouette"]["score"].get<double>(), 0.5);  // separated blobs
  EXPECT_GT(m["davies_bouldin"].get<double>(), 0);
  EXPECT_GT(m["calinski_harabasz"].get<double>(), 0);
  // The same figures as evaluate on the written labels.
  ASSERT_EQ(run_cli("evaluate " + small + ":/data --labels " + tmp.file("a") +
                        "/labels.h5 --quiet --out " + tmp.file("e"), &out), 0) << out;
  auto e = report_of(tmp.file("e"));
  EXPECT_NEAR(e["silhouette"]["score"].get<double>(), m["silhouette"]["score"].get<double>(),
              1e-12);
  EXPECT_EQ(e["davies_bouldin"], m["davies_bouldin"]);

  // More than 10,000 rows: a sample of min(10000, max(1000, k x iterations)) rows by default,
  // or --metrics-sample rows; said so in the report.
  ASSERT_EQ(run_cli("generate --n 12000 --d 4 --k 3 --seed 5 --quiet --out " + big, &out), 0)
      << out;
  ASSERT_EQ(run_cli("kmeans " + big + " -k 3 --device cpu --quiet --out " + tmp.file("b"), &out),
            0) << out;
  auto rb = report_of(tmp.file("b"));
  m = rb["metrics"];
  EXPECT_EQ(m["silhouette"]["method"], "sampled");
  EXPECT_EQ(m["silhouette"]["rows_scored"],
            std::clamp(3 * rb["iterations"].get<int>(), 1000, 10000));
  EXPECT_NE(m["silhouette"]["sampled_because"].get<std::string>().find("--metrics-sample"),
            std::string::npos);
  EXPECT_TRUE(m["silhouette"].contains("ci95"));
  ASSERT_EQ(run_cli("kmeans " + big + " -k 3 --device cpu --metrics-sample 10000 --out " +
                        tmp.file("b2"), &out),
            0)
      << out;
  m = report_of(tmp.file("b2"))["metrics"];
  EXPECT_EQ(m["silhouette"]["rows_scored"], 10000);
  // The summary carries the scores.
  EXPECT_NE(out.find("silhouette 0."), std::string::npos) << out;
  EXPECT_NE(out.find("(10000 sampled rows), Davies-Bouldin"), std::string::npos) << out;

  // --metrics-sample 0: no silhouette; --no-metrics: no metrics at all.
  ASSERT_EQ(run_cli("kmeans " + big + " -k 3 --device cpu --quiet --metrics-sample 0 --out " +
                        tmp.file("b3"), &out),
            0)
      << out;
  m = report_of(tmp.file("b3"))["metrics"];
  EXPECT_FALSE(m.contains("silhouette"));
  EXPECT_GT(m["davies_bouldin"].get<double>(), 0);
  ASSERT_EQ(run_cli("kmeans " + big + " -k 3 --device cpu --quiet --no-metrics --out " +
                        tmp.file("b4"), &out),
            0)
      << out;
  EXPECT_FALSE(report_of(tmp.file("b4")).contains("metrics"));

  // One cluster: no silhouette, but the clustering still succeeds.
  ASSERT_EQ(run_cli("kmeans " + small + " -k 1 --device cpu --quiet --out " + tmp.file("one"),
                    &out), 0) << out;
  m = report_of(tmp.file("one"))["metrics"];
  EXPECT_NE(m["error"].get<std::string>().find("Number of labels is 1"), std::string::npos);
}
