// The command under faults and awkward input: a write that fails part way, runs killed while
// writing, a --force run replacing another run's outputs, inputs that need a note or a clearer
// error (text columns, duplicate rows, header-less labels), and --quiet.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "testutil.h"

using testutil::file_exists;
using testutil::run_cli;
using testutil::TempDir;

namespace {

// Runs the command through sh with a file size limit of `blocks` (1 KiB each) and SIGXFSZ ignored,
// so that writes fail with EFBIG as on a full disk. Returns the exit status (-1 when a signal ended
// it) and the output.
int run_with_file_limit(int blocks, const std::string& args, std::string* out) {
  const std::string cmd = "sh -c \"trap '' XFSZ; ulimit -f " + std::to_string(blocks) + "; exec " +
                          EMBCLUSTER_CLI + " " + args + "\" 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return -2;
  char buf[4096];
  size_t got;
  out->clear();
  while ((got = fread(buf, 1, sizeof buf, p)) > 0) out->append(buf, got);
  const int status = pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

nlohmann::json report_of(const std::string& dir) {
  return nlohmann::json::parse(testutil::read_text(dir + "/report.json"));
}

std::vector<std::string> listing(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

class CliFaults : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = tmp_.file("blobs.h5");
    std::string out;
    ASSERT_EQ(run_cli("generate --n 40000 --d 4 --k 4 --seed 3 --quiet --out " + data_, &out), 0)
        << out;
  }
  TempDir tmp_;
  std::string data_;
};

}  // namespace

// A write that fails part way is one error naming the file as the user knows it, exit 1, no crash
// when the HDF5 library shuts down, and nothing left behind.
TEST_F(CliFaults, FailedWritesAreOneErrorWithoutACrash) {
  std::string out;
  EXPECT_EQ(
      run_with_file_limit(100, "generate --n 20000 --d 32 --k 5 --out " + tmp_.file("g.h5"), &out),
      1)
      << out;
  EXPECT_NE(out.find("g.h5: write failed"), std::string::npos) << out;
  for (const std::string format : {"h5", "npy", "csv"}) {
    const std::string dir = tmp_.file("out_" + format);
    EXPECT_EQ(run_with_file_limit(100,
                                  "kmeans " + data_ + " -k 4 --device cpu --quiet --format " +
                                      format + " --out " + dir,
                                  &out),
              1)
        << format << ": " << out;
    EXPECT_NE(out.find(dir + "/labels." + format + ": write failed (disk full?)"),
              std::string::npos)
        << out;
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
    EXPECT_FALSE(file_exists(dir)) << format;
  }
  const auto left = listing(tmp_.path());
  EXPECT_EQ(left, std::vector<std::string>{"blobs.h5"});
}

// Temporaries of a run that died (its pid gone) are removed by the next run of the directory; a
// live process's are kept.
TEST_F(CliFaults, StaleTemporariesOfDeadRunsAreRemoved) {
  const std::string dir = tmp_.file("o");
  ASSERT_EQ(run_cli("kmeans " + data_ + " -k 4 --device cpu --quiet --out " + dir), 0);
  // A pid that no longer runs: a child that has exited and been reaped.
  const pid_t dead = fork();
  if (dead == 0) _exit(0);
  waitpid(dead, nullptr, 0);
  const std::string stale = dir + "/.labels.tmp-" + std::to_string(dead) + "-0123456789abcdef.h5";
  const std::string live =
      dir + "/.labels.tmp-" + std::to_string(getpid()) + "-0123456789abcdef.h5";
  std::ofstream(stale) << "partial";
  std::ofstream(live) << "in progress";
  std::ofstream(dir + "/.write-probe-0123456789abcdef").close();
  ASSERT_EQ(run_cli("kmeans " + data_ + " -k 4 --device cpu --quiet --force --out " + dir), 0);
  EXPECT_FALSE(file_exists(stale));
  EXPECT_FALSE(file_exists(dir + "/.write-probe-0123456789abcdef"));
  EXPECT_TRUE(file_exists(live));
}

// --force replaces the previous run's outputs as a set (its report's manifest): another --format or
// another command leaves none of the old files beside the new ones.
TEST_F(CliFaults, ForceReplacesThePreviousOutputsAsASet) {
  const std::string dir = tmp_.file("o");
  ASSERT_EQ(run_cli("kmeans " + data_ + " -k 4 --device cpu --quiet --out " + dir), 0);
  EXPECT_EQ(report_of(dir)["outputs"],
            nlohmann::json({"labels.h5", "centroids.h5", "report.json"}));
  std::ofstream(dir + "/mine.txt") << "not an output";
  ASSERT_EQ(
      run_cli("kmeans " + data_ + " -k 4 --device cpu --quiet --force --format npy --out " + dir),
      0);
  EXPECT_EQ(listing(dir),
            (std::vector<std::string>{"centroids.npy", "labels.npy", "mine.txt", "report.json"}));
  ASSERT_EQ(run_cli("kdist " + data_ + " --k 4 --sample 500 --quiet --force --out " + dir), 0);
  EXPECT_EQ(listing(dir), (std::vector<std::string>{"kdist.h5", "mine.txt", "report.json"}));
}

// A CSV's text and empty columns are left out with a note (report and stderr); a stray cell in a
// column of numbers is an error naming line and column.
TEST_F(CliFaults, CsvColumnsLeftOutAreSaidAndStrayCellsRefused) {
  std::ofstream(tmp_.file("c.csv")) << "id,name,empty,x\n1,Ann,,1.5\n2,Bob,,3\n3,Cy,,4\n4,Di,,8\n";
  std::string out;
  ASSERT_EQ(run_cli("kmeans " + tmp_.file("c.csv") +
                        " -k 2 --device cpu --impute mean --no-metrics --out " + tmp_.file("o"),
                    &out),
            0)
      << out;
  EXPECT_NE(out.find("c.csv: columns id, x read; column 'name' left out: not "
                     "numeric (line 2: 'Ann'); column 'empty' left out: every cell is empty"),
            std::string::npos)
      << out;
  const auto input = report_of(tmp_.file("o"))["input"];
  EXPECT_EQ(input["columns"], nlohmann::json({"id", "x"}));
  EXPECT_EQ(input["notes"].size(), 2u);
  std::ofstream(tmp_.file("bad.csv")) << "a,b,c\n1,2,3\n4,x,6\n7,8,9\n";
  EXPECT_EQ(run_cli("kmeans " + tmp_.file("bad.csv") + " -k 2 --out " + tmp_.file("b"), &out), 1);
  EXPECT_NE(out.find("bad.csv: line 3, column 'b': 'x' is not a number"), std::string::npos) << out;
  EXPECT_FALSE(file_exists(tmp_.file("b")));
  EXPECT_EQ(run_cli("kmeans " + data_ + " -k 2 --columns 0", &out), 1);
  EXPECT_NE(out.find("--columns applies to CSV input only"), std::string::npos) << out;
}

// Duplicate rows: K-means says it found fewer distinct clusters (as scikit-learn warns); kdist does
// not suggest the eps 0 that dbscan refuses.
TEST_F(CliFaults, DuplicateRowsGetANoteNotAnEpsOfZero) {
  std::vector<float> same(60 * 3, 2.5f);
  testutil::write_h5_f32(tmp_.file("same.h5"), "/data", same, 60, 3);
  std::string out;
  ASSERT_EQ(run_cli("kmeans " + tmp_.file("same.h5") + " -k 3 --device cpu --no-metrics", &out), 0);
  EXPECT_NE(out.find("only 1 distinct cluster found, fewer than n_clusters=3"), std::string::npos)
      << out;
  ASSERT_EQ(run_cli("kdist " + tmp_.file("same.h5") + " --k 3", &out), 0);
  EXPECT_NE(out.find("no eps to suggest"), std::string::npos) << out;
  EXPECT_EQ(out.find("--eps 0 "), std::string::npos) << out;
  // One row apart from the rest: the suggestion is a distance dbscan takes.
  same[0] = 9;
  testutil::write_h5_f32(tmp_.file("near.h5"), "/data", same, 60, 3);
  ASSERT_EQ(
      run_cli("kdist " + tmp_.file("near.h5") + " --k 3 --quiet --out " + tmp_.file("k"), &out), 0);
  EXPECT_GT(report_of(tmp_.file("k"))["suggested_eps"].get<double>(), 0);
}

// Messages: a labels CSV without its header, --n 0, --quiet.
TEST_F(CliFaults, MessagesNameTheFixAndQuietIsQuiet) {
  std::string labels;
  for (int i = 0; i < 40000; ++i) labels += std::to_string(i % 4) + "\n";
  std::ofstream(tmp_.file("l.csv")) << labels;
  std::string out;
  EXPECT_EQ(run_cli("evaluate " + data_ + " --labels " + tmp_.file("l.csv"), &out), 1);
  EXPECT_NE(out.find("has 39999 rows; the data has 40000 (a CSV file's first line is its header"),
            std::string::npos)
      << out;
  EXPECT_EQ(run_cli("generate --n 0 --d 2 --k 2 --out " + tmp_.file("z.h5"), &out), 2);
  EXPECT_NE(out.find("--n: 0 must be a whole number >= 1"), std::string::npos) << out;
  EXPECT_LT(out.size(), 120u) << out;
  ASSERT_EQ(run_cli("kmeans " + data_ + " -k 4 --device cpu --quiet --out " + tmp_.file("q"), &out),
            0);
  EXPECT_EQ(out, "");
}

// SIGTERM (or Ctrl-C) stops a run at its next check: exit 130, the previous outputs kept, no
// temporaries left.
TEST_F(CliFaults, TerminatedRunsKeepThePreviousOutputsAndLeaveNoTemporaries) {
  const std::string dir = tmp_.file("o");
  ASSERT_EQ(run_cli("kmeans " + data_ + " -k 3 --device cpu --quiet --out " + dir), 0);
  const std::string before = testutil::read_text(dir + "/report.json");
  std::string big = tmp_.file("big.h5");
  ASSERT_EQ(run_cli("generate --n 400000 --d 32 --k 50 --quiet --out " + big), 0);
  const std::string cmd = std::string("sh -c '") + EMBCLUSTER_CLI + " kmeans " + big +
                          " -k 200 --device cpu --quiet --force --out " + dir +
                          " & pid=$!; sleep 1; kill -TERM $pid; wait $pid; echo rc=$?' 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_TRUE(p);
  std::string out;
  char buf[4096];
  size_t got;
  while ((got = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, got);
  pclose(p);
  EXPECT_NE(out.find("interrupted"), std::string::npos) << out;
  EXPECT_NE(out.find("rc=130"), std::string::npos) << out;
  EXPECT_EQ(testutil::read_text(dir + "/report.json"), before);
  EXPECT_EQ(listing(dir), (std::vector<std::string>{"centroids.h5", "labels.h5", "report.json"}));
}
