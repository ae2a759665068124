// `embcluster dbscan` and `embcluster kdist` end to end: outputs, reports, formats, streaming,
// FAISS indexes, exit codes and nothing written on error.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "testutil.h"

using testutil::file_exists;
using testutil::run_cli;
using testutil::TempDir;

namespace {

class DBSCANCli : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = tmp_.file("blobs.h5");
    std::string out;
    ASSERT_EQ(run_cli("generate --n 3000 --d 8 --k 4 --seed 3 --out " + data_ + " --quiet", &out),
              0)
        << out;
  }
  nlohmann::json report(const std::string& dir) {
    return nlohmann::json::parse(testutil::read_text(dir + "/report.json"));
  }
  TempDir tmp_;
  std::string data_;
};

const std::string kArgs = " --eps 2.6 --min-samples 8";

}  // namespace

TEST_F(DBSCANCli, WritesLabelsCoreSamplesAndReport) {
  const std::string dir = tmp_.file("out");
  std::string out;
  ASSERT_EQ(run_cli("dbscan " + data_ + ":/data" + kArgs + " --out " + dir, &out), 0) << out;
  EXPECT_NE(out.find("clusters 4"), std::string::npos) << out;
  EXPECT_NE(out.find("noise"), std::string::npos) << out;
  const auto labels = testutil::read_h5(dir + "/labels.h5", "/labels");
  ASSERT_EQ(labels.size(), 3000u);
  const auto truth = testutil::read_h5(data_, "/labels");
  std::vector<int32_t> a(labels.begin(), labels.end()), b(truth.begin(), truth.end());
  EXPECT_GT(testutil::adjusted_rand_index(a, b), 0.9);
  const auto core = testutil::read_h5(dir + "/core_samples.h5", "/core_samples");
  auto r = report(dir);
  EXPECT_EQ(r["command"], "dbscan");
  EXPECT_EQ(r["parameters"]["eps"], 2.6);
  EXPECT_EQ(r["parameters"]["min_samples"], 8);
  EXPECT_EQ(r["n_clusters"], 4);
  EXPECT_EQ(r["n_core"].get<size_t>(), core.size());
  EXPECT_GT(r["n_noise"].get<int>(), 0);
  int64_t total = r["n_noise"].get<int64_t>();
  for (auto s : r["cluster_sizes"]) total += s.get<int64_t>();
  EXPECT_EQ(total, 3000);
  EXPECT_EQ(std::count(labels.begin(), labels.end(), -1.0), r["n_noise"].get<int64_t>());
  for (double c : core) EXPECT_GE(labels[static_cast<size_t>(c)], 0);
  for (const char* phase : {"prepare", "count", "union", "border", "total"})
    EXPECT_GE(r["timings_s"][phase].get<double>(), 0) << phase;
  EXPECT_EQ(r["tile_passes"].size(), 3u);
  EXPECT_FALSE(r["streamed"].get<bool>());
  int files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir)) {
    ++files;
    EXPECT_NE(e.path().filename().string()[0], '.') << e.path();
  }
  EXPECT_EQ(files, 3);
  // Existing outputs are kept without --force.
  EXPECT_NE(run_cli("dbscan " + data_ + kArgs + " --out " + dir, &out), 0);
  EXPECT_NE(out.find("--force"), std::string::npos) << out;
  EXPECT_EQ(testutil::read_h5(dir + "/labels.h5", "/labels"), labels);
  // Other formats.
  ASSERT_EQ(run_cli("dbscan " + data_ + kArgs + " --quiet --force --format npy --out " + dir), 0);
  EXPECT_TRUE(file_exists(dir + "/labels.npy"));
  ASSERT_EQ(run_cli("dbscan " + data_ + kArgs + " --quiet --force --format csv --out " + dir), 0);
  EXPECT_TRUE(file_exists(dir + "/labels.csv"));
  EXPECT_TRUE(file_exists(dir + "/core_samples.csv"));
}

TEST_F(DBSCANCli, StreamedThreadsAndFaissFlatGiveTheSameLabels) {
  const std::string a = tmp_.file("a"), b = tmp_.file("b"), c = tmp_.file("c");
  ASSERT_EQ(run_cli("dbscan " + data_ + kArgs + " --quiet --out " + a), 0);
  ASSERT_EQ(run_cli("dbscan " + data_ + kArgs + " --quiet --memory 48K --threads 1 --out " + b), 0);
  ASSERT_EQ(run_cli("dbscan " + data_ + kArgs + " --quiet --index flat --out " + c), 0);
  const auto la = testutil::read_h5(a + "/labels.h5", "/labels");
  EXPECT_EQ(testutil::read_h5(b + "/labels.h5", "/labels"), la);
  EXPECT_EQ(testutil::read_h5(c + "/labels.h5", "/labels"), la);
  EXPECT_TRUE(report(b)["streamed"].get<bool>());
  EXPECT_GT(report(b)["blocks"].get<int>(), 1);
  const auto rc = report(c);
  EXPECT_EQ(rc["parameters"]["index"], "flat");
  EXPECT_DOUBLE_EQ(rc["check"]["core_recall"].get<double>(), 1.0);
}

TEST_F(DBSCANCli, ApproximateIndexesReportTheirCheck) {
  const std::string dir = tmp_.file("ivf");
  std::string out;
  ASSERT_EQ(run_cli("dbscan " + data_ + kArgs +
                        " --index ivf --nlist 16 --nprobe 2 "
                        "--check-sample 300 --out " +
                        dir,
                    &out),
            0)
      << out;
  EXPECT_NE(out.find("core recall"), std::string::npos) << out;
  auto r = report(dir);
  EXPECT_EQ(r["parameters"]["nlist"], 16);
  EXPECT_EQ(r["parameters"]["nprobe"], 2);
  EXPECT_EQ(r["check"]["sample_rows"], 300);
  EXPECT_GT(r["check"]["core_recall"].get<double>(), 0.5);
  EXPECT_GT(r["timings_s"]["index_train"].get<double>(), 0);
  const std::string h = tmp_.file("hnsw");
  ASSERT_EQ(run_cli("dbscan " + data_ + kArgs +
                        " --index hnsw --hnsw-m 16 --ef-search 32 "
                        "--quiet --out " +
                        h,
                    &out),
            0)
      << out;
  EXPECT_EQ(report(h)["parameters"]["ef_search"], 32);
}

TEST_F(DBSCANCli, ErrorsGiveOneLineAndWriteNothing) {
  struct Case {
    std::string args, needle;
    int code;
  };
  const std::string out_dir = tmp_.file("never");
  const std::vector<Case> cases = {
      {"dbscan " + data_ + " --eps 0 --min-samples 5", "eps", 1},
      {"dbscan " + data_ + " --eps -1 --min-samples 5", "eps", 1},
      {"dbscan " + data_ + " --eps nan --min-samples 5", "eps", 1},
      {"dbscan " + data_ + " --eps 1 --min-samples 0", "min_samples", 1},
      {"dbscan " + data_ + " --min-samples 5", "--eps", 2},
      {"dbscan " + data_ + " --eps 1 --min-samples 5 --index kd", "--index", 2},
      {"dbscan " + data_ + " --eps 1 --min-samples 5 --metric l1", "--metric", 2},
      {"dbscan " + data_ + " --eps 1 --min-samples 5 --index ivf --nlist 5000", "nlist", 1},
      {"dbscan /nonexistent.h5 --eps 1 --min-samples 5", "/nonexistent.h5", 1},
      {"dbscan " + data_ + ":/nope --eps 1 --min-samples 5", "/nope", 1},
      {"kdist " + data_ + " --k 0", "k=0", 1},
      {"kdist " + data_ + " --k 3001", "k=3001", 1},
      {"kdist /nonexistent.npy --k 3", "/nonexistent.npy", 1},
  };
  for (const auto& c : cases) {
    std::string out;
    const int code = run_cli(c.args + " --out " + out_dir, &out);
    EXPECT_EQ(code, c.code) << c.args << "\n" << out;
    EXPECT_NE(out.find(c.needle), std::string::npos) << c.args << "\n" << out;
    EXPECT_NE(out.find("error"), std::string::npos) << out;
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
    EXPECT_FALSE(file_exists(out_dir)) << c.args;
  }
}

TEST_F(DBSCANCli, KDistPrintsQuantilesAndSuggestsEps) {
  const std::string dir = tmp_.file("kd");
  std::string out;
  ASSERT_EQ(run_cli("kdist " + data_ + " --k 8 --sample 500 --seed 4 --out " + dir, &out), 0)
      << out;
  for (const char* word : {"min", "10%", "50%", "90%", "99%", "max", "suggested eps"})
    EXPECT_NE(out.find(word), std::string::npos) << word << "\n" << out;
  const auto kd = testutil::read_h5(dir + "/kdist.h5", "/kdist");
  ASSERT_EQ(kd.size(), 500u);
  EXPECT_TRUE(std::is_sorted(kd.begin(), kd.end()));
  auto r = report(dir);
  EXPECT_EQ(r["parameters"]["k"], 8);
  EXPECT_NEAR(r["quantiles"]["min"].get<double>(), kd.front(), 1e-6);
  EXPECT_NEAR(r["quantiles"]["max"].get<double>(), kd.back(), 1e-6);
  const double eps = r["suggested_eps"];
  EXPECT_GE(eps, kd.front());
  EXPECT_LE(eps, kd.back());
  // The suggestion is a working eps: the blobs come out as clusters.
  const std::string db = tmp_.file("db");
  ASSERT_EQ(run_cli("dbscan " + data_ + " --eps " + std::to_string(eps) +
                    " --min-samples 8 --quiet --out " + db),
            0);
  EXPECT_EQ(report(db)["n_clusters"], 4);
  // Same seed, same sample; csv output.
  ASSERT_EQ(run_cli("kdist " + data_ +
                    " --k 8 --sample 500 --seed 4 --quiet --format csv --force "
                    "--out " +
                    dir),
            0);
  EXPECT_TRUE(file_exists(dir + "/kdist.csv"));
}

TEST_F(DBSCANCli, HelpListsTheCommands) {
  std::string out;
  ASSERT_EQ(run_cli("--help", &out), 0);
  const auto k = out.find("\n  kmeans "), d = out.find("\n  dbscan "), kd = out.find("\n  kdist ");
  ASSERT_NE(k, std::string::npos) << out;
  ASSERT_NE(d, std::string::npos) << out;
  ASSERT_NE(kd, std::string::npos) << out;
  EXPECT_LT(k, d);
  EXPECT_LT(d, kd);
  ASSERT_EQ(run_cli("dbscan --help", &out), 0);
  for (const char* opt : {"--eps", "--min-samples", "--metric", "--index", "--nlist", "--nprobe",
                          "--hnsw-m", "--ef-search", "--out", "--force", "--format"})
    EXPECT_NE(out.find(opt), std::string::npos) << opt;
}
