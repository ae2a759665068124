// Sinks: array round trips in every format, and output directories that appear atomically.
#include <gtest/gtest.h>
#include <hdf5.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>

#include "embcluster/error.h"
#include "embcluster/output.h"
#include "embcluster/source.h"
#include "testutil.h"

using namespace embcluster;
using testutil::error_of;
using testutil::TempDir;
namespace fs = std::filesystem;

namespace {

std::string spec(const std::string& file, const std::string& dataset) {
  const std::string ext = fs::path(file).extension().string();
  return ext == ".h5" || ext == ".hdf5" ? file + ":" + dataset : file;
}

std::vector<std::string> entries(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

// --- write_array -------------------------------------------------------------------------------

TEST(WriteArray, RoundTripsThroughOpenSource) {
  TempDir tmp;
  // Values that need all nine significant digits to survive a text round trip.
  const std::vector<float> c = {1.25f, -2, 3e-7f, 4e8f, 0.1f, 1.0f / 3, 1e-38f, 3.4e38f};
  const std::vector<int32_t> l = {0, 1, 2, -1, 2147483647};
  const std::vector<int64_t> g = {-5, 6, 7, 8, 9, 10};
  SourceOptions one_d;
  one_d.allow_1d = true;
  for (const std::string ext : {"h5", "hdf5", "npy", "csv"}) {
    const bool csv = ext == "csv";
    const std::string cf = tmp.file("c." + ext), lf = tmp.file("l." + ext),
                      gf = tmp.file("g." + ext);
    write_array(cf, "/centroids", ElemType::f32, c.data(), 4, 2, csv ? "a,b" : "");
    write_array(lf, "/labels", ElemType::i32, l.data(), 5, 0, csv ? "label" : "");
    write_array(gf, "/group/sizes", ElemType::i64, g.data(), 3, 2, csv ? "p,q" : "");
    auto cs = open_source(spec(cf, "/centroids"));
    EXPECT_EQ(cs->rows(), 4) << ext;
    EXPECT_EQ(cs->cols(), 2) << ext;
    EXPECT_EQ(read_all(*cs), c) << ext;
    auto ls = open_source(spec(lf, "/labels"), one_d);
    EXPECT_EQ(ls->cols(), 1) << ext;
    EXPECT_EQ(read_all(*ls), std::vector<float>(l.begin(), l.end())) << ext;
    EXPECT_EQ(read_all(*open_source(spec(gf, "/group/sizes"))),
              std::vector<float>(g.begin(), g.end()))
        << ext;
  }
  EXPECT_EQ(testutil::read_text(tmp.file("l.csv")), "label\n0\n1\n2\n-1\n2147483647\n");
  EXPECT_EQ(testutil::read_text(tmp.file("g.csv")), "p,q\n-5,6\n7,8\n9,10\n");
}

TEST(WriteArray, ElementTypesAreKept) {
  TempDir tmp;
  const std::vector<int64_t> big = {(int64_t(1) << 40) + 1, -3};  // not exact as a float
  write_array(tmp.file("g.h5"), "/big", ElemType::i64, big.data(), 2, 0);
  EXPECT_EQ(testutil::read_h5(tmp.file("g.h5"), "/big"),
            (std::vector<double>{double(big[0]), -3.0}));
  EXPECT_EQ(list_datasets(tmp.file("g.h5"))[0].dtype, "int64");
  write_array(tmp.file("g.npy"), "", ElemType::i64, big.data(), 2, 0);
  write_array(tmp.file("i.npy"), "", ElemType::i32, big.data(), 1, 1);
  write_array(tmp.file("f.npy"), "", ElemType::f32, big.data(), 1, 1);
  const std::string header = testutil::read_text(tmp.file("g.npy")).substr(0, 128);
  EXPECT_NE(header.find("'descr': '<i8'"), std::string::npos) << header;
  EXPECT_NE(header.find("'shape': (2,)"), std::string::npos) << header;
  EXPECT_NE(testutil::read_text(tmp.file("i.npy")).find("'<i4'"), std::string::npos);
  EXPECT_NE(testutil::read_text(tmp.file("f.npy")).find("'shape': (1, 1)"), std::string::npos);
  // numpy's layout: data 64-byte aligned after the header.
  EXPECT_EQ(fs::file_size(tmp.file("g.npy")) % 64, 16u);
  std::ifstream in(tmp.file("g.npy"), std::ios::binary);
  uint16_t header_len = 0;
  in.seekg(8);
  in.read(reinterpret_cast<char*>(&header_len), 2);
  EXPECT_EQ((10 + header_len) % 64, 0);
  in.seekg(10 + header_len);
  int64_t first = 0;
  in.read(reinterpret_cast<char*>(&first), 8);
  EXPECT_EQ(first, big[0]);
  EXPECT_EQ(open_source(tmp.file("i.npy"))->dtype(), "int32");
}

TEST(WriteArray, Hdf5DatasetsAreAddedAndReplaced) {
  TempDir tmp;
  const std::string f = tmp.file("out.h5");
  const std::vector<float> a = {1, 2, 3, 4, 5, 6};
  const std::vector<float> b = {9, 8, 7};
  write_array(f, "/a", ElemType::f32, a.data(), 3, 2);
  write_array(f, "/deep/er/b", ElemType::f32, b.data(), 1, 3);
  write_array(f, "/a", ElemType::f32, b.data(), 3, 1);  // replaced, with another shape
  EXPECT_EQ(read_all(*open_source(f + ":/a")), b);
  EXPECT_EQ(open_source(f + ":/a")->cols(), 1);
  EXPECT_EQ(read_all(*open_source(f + ":/deep/er/b")), b);
  EXPECT_EQ(list_datasets(f).size(), 2u);
  EXPECT_ERROR(write_array(f, "/deep", ElemType::f32, b.data(), 1, 3), "out.h5",
               "/deep exists and is not a dataset");
  write_array(f, "", ElemType::f32, a.data(), 2, 3);  // no name: /data
  EXPECT_EQ(read_all(*open_source(f + ":/data")), a);
}

TEST(WriteArray, LargeArraysAreWrittenInBlocks) {
  TempDir tmp;
  const int64_t rows = 1200000, cols = 3;  // more than one 1M-element block
  std::vector<float> x(rows * cols);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 9973) - 4000.5f;
  for (const char* name : {"big.h5", "big.npy"}) {
    write_array(tmp.file(name), "/x", ElemType::f32, x.data(), rows, cols);
    auto src = open_source(spec(tmp.file(name), "/x"));
    ASSERT_EQ(src->rows(), rows);
    EXPECT_EQ(read_all(*src), x) << name;
  }
}

TEST(WriteArray, ErrorsNameThePath) {
  TempDir tmp;
  const std::vector<float> a = {1, 2};
  EXPECT_ERROR(write_array(tmp.file("a.txt"), "", ElemType::f32, a.data(), 1, 2), "a.txt",
               "unknown output format");
  for (const char* name : {"no/such/dir/a.h5", "no/such/dir/a.npy", "no/such/dir/a.csv"}) {
    EXPECT_ERROR(write_array(tmp.file(name), "/a", ElemType::f32, a.data(), 1, 2), name);
  }
  std::ofstream(tmp.file("noth5.h5")) << "text, not HDF5";
  EXPECT_ERROR(write_array(tmp.file("noth5.h5"), "/a", ElemType::f32, a.data(), 1, 2), "noth5.h5");
  // Zero rows are written (a run may find no noise points); reading them back is "empty".
  write_array(tmp.file("z.npy"), "", ElemType::i32, a.data(), 0, 0);
  write_array(tmp.file("z.h5"), "/z", ElemType::i32, a.data(), 0, 0);
  write_array(tmp.file("z.csv"), "", ElemType::i32, a.data(), 0, 0, "label");
  SourceOptions one_d;
  one_d.allow_1d = true;
  EXPECT_ERROR(open_source(tmp.file("z.npy"), one_d), "z.npy is empty");
  EXPECT_ERROR(open_source(tmp.file("z.h5:/z"), one_d), "z.h5:/z is empty");
  EXPECT_EQ(testutil::read_text(tmp.file("z.csv")), "label\n");
}

// --- OutputDir -------------------------------------------------------------------------------

TEST(OutputDir, FilesAppearOnlyOnCommit) {
  TempDir tmp;
  const std::string dir = tmp.file("run");
  {
    OutputDir out(dir, false);
    EXPECT_EQ(out.dir(), dir);
    const std::vector<int32_t> l = {1, 2, 3};
    const std::string staged = out.stage("labels.h5");
    EXPECT_EQ(fs::path(staged).parent_path(), fs::path(dir));  // same file system: rename
    EXPECT_EQ(fs::path(staged).extension(), ".h5");            // selects the writer
    EXPECT_EQ(fs::path(staged).filename().string()[0], '.');   // hidden meanwhile
    EXPECT_EQ(out.stage("labels.h5"), staged);                 // same name, same file
    write_array(staged, "/labels", ElemType::i32, l.data(), 3, 0);
    out.write_text("report.json", "{\"a\": 1}");
    out.stage("never_written.csv");
    EXPECT_FALSE(fs::exists(dir + "/labels.h5"));
    EXPECT_FALSE(fs::exists(dir + "/report.json"));
    out.commit();
    EXPECT_EQ(entries(dir), (std::vector<std::string>{"labels.h5", "report.json"}));
  }
  EXPECT_EQ(entries(dir), (std::vector<std::string>{"labels.h5", "report.json"}));
  EXPECT_EQ(testutil::read_text(dir + "/report.json"), "{\"a\": 1}");
  EXPECT_EQ(testutil::read_h5(dir + "/labels.h5", "/labels"), (std::vector<double>{1, 2, 3}));
}

TEST(OutputDir, NothingIsLeftWithoutCommit) {
  TempDir tmp;
  const std::string dir = tmp.file("fresh");
  {
    OutputDir out(dir, false);
    EXPECT_TRUE(fs::is_directory(dir));
    out.write_text("report.json", "{}");
    const std::vector<float> c = {1, 2};
    write_array(out.stage("centroids.npy"), "", ElemType::f32, c.data(), 1, 2);
    EXPECT_EQ(entries(dir).size(), 2u);  // the two temporaries
  }                                      // an error on the way: no commit
  EXPECT_FALSE(fs::exists(dir));         // created here, so removed again

  // A directory that was already there stays, with its other files untouched.
  fs::create_directory(tmp.file("kept"));
  std::ofstream(tmp.file("kept/other.txt")) << "mine";
  {
    OutputDir out(tmp.file("kept"), false);
    out.write_text("report.json", "{}");
  }
  EXPECT_EQ(entries(tmp.file("kept")), (std::vector<std::string>{"other.txt"}));
  { OutputDir out(tmp.file("kept2"), false); }
  EXPECT_FALSE(fs::exists(tmp.file("kept2")));
}

TEST(OutputDir, ExistingFilesNeedForce) {
  TempDir tmp;
  const std::string dir = tmp.file("out");
  {
    OutputDir out(dir, false);
    out.write_text("report.json", "old");
    out.commit();
  }
  {
    OutputDir out(dir, false);
    const std::string exists = dir + "/report.json exists (use --force to overwrite)";
    EXPECT_ERROR(out.stage("report.json"), exists.c_str());
    out.write_text("other.json", "new");  // names not taken are fine
  }
  EXPECT_EQ(testutil::read_text(dir + "/report.json"), "old");
  EXPECT_FALSE(fs::exists(dir + "/other.json"));
  {
    OutputDir out(dir, true);
    out.write_text("report.json", "new");
    EXPECT_EQ(testutil::read_text(dir + "/report.json"), "old");  // until commit
    out.commit();
  }
  EXPECT_EQ(testutil::read_text(dir + "/report.json"), "new");
  EXPECT_EQ(entries(dir), (std::vector<std::string>{"report.json"}));
}

TEST(OutputDir, UnusableDirectoriesAreErrors) {
  TempDir tmp;
  EXPECT_ERROR(OutputDir("/proc/embcluster-forbidden", false),
               "cannot write to output directory /proc/embcluster-forbidden");
  std::ofstream(tmp.file("file")) << "x";
  EXPECT_ERROR(OutputDir(tmp.file("file"), false), "cannot write to output directory",
               "not a directory");
  EXPECT_ERROR(OutputDir(tmp.file("file/sub"), false), "cannot write to output directory",
               "file/sub");
  OutputDir out(tmp.file("d"), false);
  EXPECT_ERROR(out.stage("a/b.json"), "'a/b.json' is not a plain file name");
  EXPECT_ERROR(out.stage(""), "is not a plain file name");
  fs::create_directory(tmp.file("d/sub"));
  EXPECT_ERROR(out.stage("sub"), "d/sub exists and is a directory");
}

// A neighbour who plants links at the names a run writes to cannot make it write elsewhere: the
// write probe, the staged outputs and generate's temporary file never follow a link.
namespace {

// Runs `shell` with $E the command, $D the scratch directory; $$ is the command's own process id
// (the shell execs it), so links named after it sit where a predictable name would be.
int run_shell(const TempDir& tmp, const std::string& shell) {
  const std::string cmd = "cd " + tmp.path() + " && E=" + EMBCLUSTER_CLI + " D=" + tmp.path() +
                          " sh -c '" + shell + "' >/dev/null 2>&1";
  return std::system(cmd.c_str());
}

std::string text_of(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

TEST(PlantedLinks, WriteProbeAndStagedOutputsDoNotFollowThem) {
  TempDir tmp;
  std::ofstream(tmp.file("victim")) << "KEEP\n";
  ASSERT_EQ(run_shell(tmp, "$E -q generate --n 200 --d 4 --k 3 --out $D/blobs.h5"), 0);
  fs::create_directory(tmp.file("od"));
  // Links at the names a pid-based scheme would use for the probe and the staged report.
  const int rc = run_shell(tmp,
                           "ln -s $D/victim od/.write-probe-$$; "
                           "ln -s $D/victim od/.report.tmp-$$.json; "
                           "exec $E -q kmeans $D/blobs.h5:/data -k 3 --device cpu --out $D/od");
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(text_of(tmp.file("victim")), "KEEP\n");
  EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(tmp.file("od/report.json"))));
  EXPECT_NE(text_of(tmp.file("od/report.json")).find("\"inertia\""), std::string::npos);
}

TEST(PlantedLinks, GenerateTemporaryFileDoesNotFollowThem) {
  TempDir tmp;
  std::ofstream(tmp.file("victim")) << "KEEP\n";
  const int rc = run_shell(
      tmp, "ln -s $D/victim $D/g.h5.tmp-$$; exec $E -q generate --n 10 --d 2 --k 2 --out $D/g.h5");
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(text_of(tmp.file("victim")), "KEEP\n");
  EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(tmp.file("g.h5"))));
  EXPECT_EQ(testutil::read_h5(tmp.file("g.h5"), "/data").size(), 20u);
}

TEST(PlantedLinks, ArrayWritersRefuseALinkAtTheirPath) {
  TempDir tmp;
  std::ofstream(tmp.file("victim")) << "KEEP\n";
  const std::vector<float> v = {1, 2, 3, 4};
  for (const char* name : {"a.npy", "a.csv", "a.h5"}) {
    fs::create_symlink(tmp.file("victim"), tmp.file(name));
    EXPECT_ERROR(write_array(tmp.file(name), "/a", ElemType::f32, v.data(), 2, 2), name);
    EXPECT_EQ(text_of(tmp.file("victim")), "KEEP\n") << name;
  }
}

// Two runs writing the same directory at once: the second is refused while the first holds it.
TEST(OutputDir, ASecondWriterIsRefusedWhileTheFirstHoldsTheDirectory) {
  TempDir tmp;
  {
    OutputDir first(tmp.file("out"), false);
    EXPECT_ERROR(OutputDir(tmp.file("out"), true), "out is in use by another run");
    first.write_text("report.json", "{}\n");
    first.commit();
  }
  OutputDir again(tmp.file("out"), true);  // free once the first is done
  again.write_text("report.json", "{\"n\": 2}\n");
  again.commit();
  EXPECT_EQ(testutil::read_text(tmp.file("out/report.json")), "{\"n\": 2}\n");
}
