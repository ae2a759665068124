// The embcluster command end to end: outputs, reports, exit codes, nothing written on error.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>

#include "testutil.h"

using testutil::file_exists;
using testutil::run_cli;
using testutil::TempDir;

namespace {

// A small generated data set shared by the tests of this file.
class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = tmp_.file("blobs.h5");
    std::string out;
    ASSERT_EQ(run_cli("generate --n 3000 --d 8 --k 4 --seed 3 --out " + data_ + " --quiet", &out), 0)
        << out;
  }
  TempDir tmp_;
  std::string data_;
};

}  // namespace

TEST_F(Cli, GenerateWritesDataLabelsAndCentres) {
  auto x = testutil::read_h5(data_, "/data");
  auto labels = testutil::read_h5(data_, "/labels");
  auto centres = testutil::read_h5(data_, "/centers");
  EXPECT_EQ(x.size(), 3000u * 8);
  EXPECT_EQ(labels.size(), 3000u);
  EXPECT_EQ(centres.size(), 4u * 8);
  for (double l : labels) ASSERT_TRUE(l >= 0 && l < 4);
  // Same seed, same file.
  const std::string again = tmp_.file("again.h5");
  ASSERT_EQ(run_cli("generate --n 3000 --d 8 --k 4 --seed 3 --out " + again + " --threads 1"), 0);
  EXPECT_EQ(testutil::read_h5(again, "/data"), x);
  // An existing file is kept without --force.
  std::string out;
  EXPECT_NE(run_cli("generate --n 10 --d 2 --k 1 --out " + again, &out), 0);
  EXPECT_NE(out.find("--force"), std::string::npos) << out;
  EXPECT_EQ(testutil::read_h5(again, "/data"), x);
}

TEST_F(Cli, KMeansWritesLabelsCentroidsAndReport) {
  const std::string dir = tmp_.file("out");
  std::string out;
  ASSERT_EQ(run_cli("kmeans " + data_ + ":/data --n-clusters 4 --device cpu --out " + dir, &out), 0)
      << out;
  EXPECT_NE(out.find("inertia"), std::string::npos);
  EXPECT_NE(out.find("cluster sizes"), std::string::npos);
  auto labels = testutil::read_h5(dir + "/labels.h5", "/labels");
  auto truth = testutil::read_h5(data_, "/labels");
  ASSERT_EQ(labels.size(), truth.size());
  std::vector<int32_t> a(labels.begin(), labels.end()), b(truth.begin(), truth.end());
  EXPECT_DOUBLE_EQ(testutil::adjusted_rand_index(a, b), 1.0);
  EXPECT_EQ(testutil::read_h5(dir + "/centroids.h5", "/centroids").size(), 4u * 8);
  auto report = nlohmann::json::parse(testutil::read_text(dir + "/report.json"));
  EXPECT_EQ(report["parameters"]["n_clusters"], 4);
  EXPECT_EQ(report["input"]["rows"], 3000);
  EXPECT_GE(report["iterations"].get<int>(), 1);
  EXPECT_EQ(report["history"].size(), report["iterations"].get<size_t>());
  EXPECT_EQ(report["cluster_sizes"].size(), 4u);
  EXPECT_GT(report["timings_s"]["total"].get<double>(), 0);
  EXPECT_GT(report["rows_per_s"].get<double>(), 0);
  // Nothing temporary is left behind.
  int files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir)) {
    ++files;
    EXPECT_EQ(e.path().filename().string().rfind(".", 0), std::string::npos) << e.path();
  }
  EXPECT_EQ(files, 3);
  // Existing outputs are refused without --force, accepted with it.
  EXPECT_NE(run_cli("kmeans " + data_ + " -k 4 --device cpu --out " + dir, &out), 0);
  EXPECT_NE(out.find("--force"), std::string::npos) << out;
  EXPECT_EQ(run_cli("kmeans " + data_ + " -k 3 --device cpu --force --format npy --out " + dir), 0);
  EXPECT_TRUE(file_exists(dir + "/labels.npy"));
}

TEST_F(Cli, ErrorsGiveOneLineAndWriteNothing) {
  struct Case {
    std::string args, needle;
    int code;
  };
  const std::string out_dir = tmp_.file("never");
  const std::vector<Case> cases = {
      {"kmeans /nonexistent.h5 -k 2", "/nonexistent.h5", 1},
      {"kmeans " + data_ + ":/nope -k 2", "/nope", 1},
      {"kmeans " + data_ + ":/data -k 0", "n_clusters=0", 1},
      {"kmeans " + data_ + ":/data -k 3001", "n_clusters=3001", 1},
      {"kmeans " + data_ + ":/labels -k 2", "2-D", 1},
      {"kmeans " + data_ + ":/data -k 2 --bogus", "--bogus", 2},
      {"kmeans " + data_ + ":/data -k 2 --memory lots", "--memory", 1},
      {"kmeans " + data_ + ":/data -k 2 --device tpu", "--device", 1},
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

TEST_F(Cli, UnwritableOutputDirectoryIsAnError) {
  std::string out;
  const int code = run_cli("kmeans " + data_ + " -k 2 --out /proc/embcluster-out", &out);
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("/proc/embcluster-out"), std::string::npos) << out;
}

TEST_F(Cli, InfoDescribesBuildAndFiles) {
  std::string out;
  ASSERT_EQ(run_cli("info", &out), 0) << out;
  EXPECT_NE(out.find("cuda backend"), std::string::npos) << out;
  ASSERT_EQ(run_cli("info " + data_, &out), 0) << out;
  EXPECT_NE(out.find("/data"), std::string::npos);
  EXPECT_NE(out.find("3000 x 8"), std::string::npos) << out;
  EXPECT_NE(out.find("float32"), std::string::npos) << out;
}

TEST_F(Cli, StreamedRunEqualsInMemoryRun) {
  const std::string a = tmp_.file("a"), b = tmp_.file("b");
  ASSERT_EQ(run_cli("kmeans " + data_ + " -k 5 --device cpu --quiet --out " + a), 0);
  ASSERT_EQ(run_cli("kmeans " + data_ + " -k 5 --device cpu --quiet --memory 64K --out " + b), 0);
  EXPECT_EQ(testutil::read_h5(a + "/labels.h5", "/labels"), testutil::read_h5(b + "/labels.h5", "/labels"));
  EXPECT_EQ(testutil::read_h5(a + "/centroids.h5", "/centroids"),
            testutil::read_h5(b + "/centroids.h5", "/centroids"));
  auto rb = nlohmann::json::parse(testutil::read_text(b + "/report.json"));
  EXPECT_TRUE(rb["streamed"].get<bool>());
}

// Absurd thread counts are capped at 4 x the cores with a note (100000 threads crashed the OpenMP
// runtime); negative ones are a plain error.
TEST_F(Cli, ThreadCountsAreCappedOrRefused) {
  for (const char* cmd : {"kmeans --n-clusters 4 --device cpu --no-metrics",
                          "dbscan --eps 3 --min-samples 5 --device cpu", "kdist --k 5",
                          "evaluate --device cpu --labels " /* labels appended below */}) {
    std::string args = std::string("--threads 100000 ") + cmd;
    if (args.find("evaluate") != std::string::npos) args += data_ + ":/labels";
    std::string out;
    EXPECT_EQ(run_cli(args + " " + data_ + ":/data", &out), 0) << out;
    EXPECT_NE(out.find("--threads 100000 is more than 4 x the"), std::string::npos) << out;
  }
  std::string out;
  EXPECT_EQ(run_cli("--threads -1 kmeans --n-clusters 4 " + data_ + ":/data", &out), 2);
  EXPECT_NE(out.find("--threads: -1 must be a whole number >= 0 (0 = all cores)"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find("308"), std::string::npos) << out;
}

// A memory size beyond any machine is named as such, not taken for a negative number.
TEST_F(Cli, HugeMemorySizeIsNamed) {
  std::string out;
  EXPECT_EQ(
      run_cli("--memory 99999999999999999999G kmeans --n-clusters 4 " + data_ + ":/data", &out),
      1);
  EXPECT_NE(out.find("is larger than any machine's memory"), std::string::npos) << out;
}
