// Sources and sinks: every dtype, block boundaries, bad inputs named, atomic outputs.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "embcluster/error.h"
#include "embcluster/output.h"
#include "embcluster/source.h"
#include "io/readers.h"
#include "testutil.h"

using namespace embcluster;
using testutil::TempDir;

namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

#define EXPECT_ERROR(stmt, ...)                                          \
  do {                                                                   \
    const std::string msg = error_of([&] { stmt; });                     \
    for (const char* needle : {__VA_ARGS__})                             \
      EXPECT_NE(msg.find(needle), std::string::npos) << "message: " << msg; \
  } while (0)

// Writes a 2-D HDF5 dataset of the given file type from doubles.
void write_h5_typed(const std::string& file, const std::string& ds, hid_t type,
                    const std::vector<double>& v, hsize_t rows, hsize_t cols) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  hid_t f = std::filesystem::exists(file) ? H5Fopen(file.c_str(), H5F_ACC_RDWR, H5P_DEFAULT)
                                          : H5Fcreate(file.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  hsize_t dims[2] = {rows, cols};
  hid_t space = H5Screate_simple(2, dims, nullptr);
  hid_t d = H5Dcreate2(f, ds.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(d, 0);
  ASSERT_GE(H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), 0);
  H5Dclose(d);
  H5Sclose(space);
  H5Fclose(f);
}

hid_t half_type() {  // IEEE binary16 as h5py writes it
  hid_t t = H5Tcopy(H5T_IEEE_F32LE);
  H5Tset_fields(t, 15, 10, 5, 0, 10);
  H5Tset_size(t, 2);
  H5Tset_ebias(t, 15);
  return t;
}

void write_npy(const std::string& path, const std::string& descr, const std::string& shape,
               const void* data, size_t bytes) {
  std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  while ((10 + header.size() + 1) % 64) header += ' ';
  header += '\n';
  std::ofstream out(path, std::ios::binary);
  out.write("\x93NUMPY\x01\x00", 8);
  const uint16_t len = static_cast<uint16_t>(header.size());
  out.write(reinterpret_cast<const char*>(&len), 2);
  out << header;
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(bytes));
}

std::vector<double> values(int64_t n) {
  std::vector<double> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = static_cast<double>((i * 37) % 101) - 50;  // exact in every type
  return v;
}

}  // namespace

TEST(Readers, Hdf5EveryDtypeReadsAsFloat) {
  TempDir tmp;
  const std::string f = tmp.file("types.h5");
  const auto v = values(7 * 3);
  const hid_t half = half_type();
  const std::vector<std::pair<std::string, hid_t>> types = {
      {"f16", half},          {"f32", H5T_IEEE_F32LE}, {"f64", H5T_IEEE_F64LE},
      {"i8", H5T_STD_I8LE},   {"i16", H5T_STD_I16LE},  {"i32", H5T_STD_I32LE},
      {"i64", H5T_STD_I64LE}, {"u8", H5T_STD_U8LE},    {"u16", H5T_STD_U16LE}};
  for (const auto& [name, t] : types) {
    std::vector<double> w = v;
    if (name[0] == 'u') for (auto& x : w) x += 50;
    write_h5_typed(f, "/" + name, t, w, 7, 3);
    auto src = open_source(f + ":/" + name);
    ASSERT_EQ(src->rows(), 7);
    ASSERT_EQ(src->cols(), 3);
    auto got = read_all(*src);
    for (size_t i = 0; i < w.size(); ++i) ASSERT_EQ(got[i], static_cast<float>(w[i])) << name;
  }
  EXPECT_EQ(open_source(f + ":/f16")->dtype(), "float16");
  EXPECT_EQ(open_source(f + ":/u8")->dtype(), "uint8");
  H5Tclose(half);
  auto list = list_datasets(f);
  EXPECT_EQ(list.size(), types.size());
}

TEST(Readers, BlockBoundariesDoNotMatter) {
  TempDir tmp;
  auto b = testutil::make_blobs(1001, 5, 3, 1);
  testutil::write_h5_f32(tmp.file("x.h5"), "/data", b.x, b.n, b.d);
  auto src = open_source(tmp.file("x.h5"));  // the file's only 2-D dataset
  const auto all = read_all(*src);
  EXPECT_EQ(all, b.x);
  for (int64_t block : {1, 7, 64, 1000, 1001}) {
    std::vector<float> got(all.size());
    for (int64_t s = 0; s < src->rows(); s += block)
      src->read(s, std::min(block, src->rows() - s), got.data() + s * 5);
    EXPECT_EQ(got, all) << "block " << block;
  }
}

TEST(Readers, Hdf5BadInputsAreNamed) {
  TempDir tmp;
  const std::string f = tmp.file("bad.h5");
  testutil::write_h5_i32(f, "/labels", {1, 2, 3});
  testutil::write_h5_f32(f, "/empty", {}, 0, 4);
  testutil::write_h5_f32(f, "/nocols", {}, 5, 0);
  std::vector<float> nan_data = {1, 2, 3, 4, NAN, 6};
  testutil::write_h5_f32(f, "/nan", nan_data, 3, 2);
  std::vector<float> inf_data = {1, 2, 3, 4, 5, INFINITY};
  testutil::write_h5_f32(f, "/inf", inf_data, 3, 2);
  EXPECT_ERROR(open_source(f + ":/nope"), "bad.h5", "no dataset /nope", "/labels");
  EXPECT_ERROR(open_source(f + ":/labels"), "/labels", "1-D", "2-D");
  EXPECT_ERROR(open_source(f + ":/empty"), "/empty", "empty");
  EXPECT_ERROR(open_source(f + ":/nocols"), "/nocols", "0 columns");
  EXPECT_ERROR(read_all(*open_source(f + ":/nan")), "/nan", "row 2", "NaN");
  EXPECT_ERROR(read_all(*open_source(f + ":/inf")), "/inf", "row 2", "Inf");
  EXPECT_ERROR(open_source(tmp.file("missing.h5")), "missing.h5", "no such file");
  {  // strings are not numbers
    hid_t file = H5Fopen(f.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t st = H5Tcopy(H5T_C_S1);
    H5Tset_size(st, 4);
    hsize_t dims[2] = {2, 2};
    hid_t sp = H5Screate_simple(2, dims, nullptr);
    hid_t d = H5Dcreate2(file, "/text", st, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dclose(d);
    H5Sclose(sp);
    H5Tclose(st);
    H5Fclose(file);
  }
  EXPECT_ERROR(open_source(f + ":/text"), "/text", "string", "expected numbers");
  // Random bytes and a truncated file.
  std::ofstream(tmp.file("junk.h5")) << "this is not hdf5 at all";
  EXPECT_ERROR(open_source(tmp.file("junk.h5")), "junk.h5", "not an HDF5 file");
  auto b = testutil::make_blobs(20000, 16, 2, 3);
  testutil::write_h5_f32(tmp.file("cut.h5"), "/data", b.x, b.n, b.d);
  std::filesystem::resize_file(tmp.file("cut.h5"), 600000);
  EXPECT_ERROR(read_all(*open_source(tmp.file("cut.h5") + ":/data")), "cut.h5");
}

TEST(Readers, NpyEveryDtypeAndBadFiles) {
  TempDir tmp;
  const std::vector<float> f32 = {1.5f, -2, 3, 4, 5, 6};
  write_npy(tmp.file("f4.npy"), "<f4", "(3, 2)", f32.data(), 24);
  EXPECT_EQ(read_all(*open_source(tmp.file("f4.npy"))), f32);
  const std::vector<double> f64 = {1.5, -2, 3, 4, 5, 6};
  write_npy(tmp.file("f8.npy"), "<f8", "(2, 3)", f64.data(), 48);
  auto s8 = open_source(tmp.file("f8.npy"));
  EXPECT_EQ(s8->rows(), 2);
  EXPECT_EQ(read_all(*s8), f32);
  const uint16_t halves[4] = {0x3c00, 0xc000, 0x0001, 0x7bff};  // 1, -2, smallest subnormal, 65504
  write_npy(tmp.file("f2.npy"), "<f2", "(2, 2)", halves, 8);
  auto h = read_all(*open_source(tmp.file("f2.npy")));
  EXPECT_EQ(h[0], 1.0f);
  EXPECT_EQ(h[1], -2.0f);
  EXPECT_EQ(h[2], std::ldexp(1.0f, -24));
  EXPECT_EQ(h[3], 65504.0f);
  const int8_t i1[4] = {-1, 2, -3, 4};
  write_npy(tmp.file("i1.npy"), "|i1", "(2, 2)", i1, 4);
  EXPECT_EQ(read_all(*open_source(tmp.file("i1.npy"))), (std::vector<float>{-1, 2, -3, 4}));
  const uint8_t u1[4] = {255, 2, 3, 4};
  write_npy(tmp.file("u1.npy"), "|u1", "(2, 2)", u1, 4);
  EXPECT_EQ(read_all(*open_source(tmp.file("u1.npy")))[0], 255.0f);
  const int32_t i4[4] = {-100000, 2, 3, 4};
  write_npy(tmp.file("i4.npy"), "<i4", "(2, 2)", i4, 16);
  EXPECT_EQ(read_all(*open_source(tmp.file("i4.npy")))[0], -100000.0f);

  write_npy(tmp.file("short.npy"), "<f4", "(10, 2)", f32.data(), 24);
  EXPECT_ERROR(open_source(tmp.file("short.npy")), "short.npy", "truncated");
  write_npy(tmp.file("one.npy"), "<f4", "(6,)", f32.data(), 24);
  EXPECT_ERROR(open_source(tmp.file("one.npy")), "one.npy", "1-D");
  SourceOptions o;
  o.allow_1d = true;
  EXPECT_EQ(open_source(tmp.file("one.npy"), o)->cols(), 1);
  write_npy(tmp.file("str.npy"), "<U3", "(2, 2)", f32.data(), 24);
  EXPECT_ERROR(open_source(tmp.file("str.npy")), "str.npy", "<U3");
  std::ofstream(tmp.file("bad.npy")) << "garbage";
  EXPECT_ERROR(open_source(tmp.file("bad.npy")), "bad.npy", "not a valid .npy");
  write_npy(tmp.file("empty.npy"), "<f4", "(0, 2)", f32.data(), 0);
  EXPECT_ERROR(open_source(tmp.file("empty.npy")), "empty.npy", "empty");
}

TEST(Readers, VecsFormatsAndCorruption) {
  TempDir tmp;
  {
    std::ofstream out(tmp.file("x.fvecs"), std::ios::binary);
    for (int r = 0; r < 3; ++r) {
      int32_t d = 2;
      float v[2] = {float(r), float(-r)};
      out.write(reinterpret_cast<char*>(&d), 4);
      out.write(reinterpret_cast<char*>(v), 8);
    }
  }
  auto s = open_source(tmp.file("x.fvecs"));
  EXPECT_EQ(s->rows(), 3);
  EXPECT_EQ(read_all(*s), (std::vector<float>{0, 0, 1, -1, 2, -2}));
  {
    std::ofstream out(tmp.file("x.bvecs"), std::ios::binary);
    int32_t d = 3;
    uint8_t v[3] = {1, 200, 3};
    out.write(reinterpret_cast<char*>(&d), 4);
    out.write(reinterpret_cast<char*>(v), 3);
  }
  EXPECT_EQ(read_all(*open_source(tmp.file("x.bvecs"))), (std::vector<float>{1, 200, 3}));
  std::filesystem::copy(tmp.file("x.fvecs"), tmp.file("cut.fvecs"));
  std::filesystem::resize_file(tmp.file("cut.fvecs"), 30);
  EXPECT_ERROR(open_source(tmp.file("cut.fvecs")), "cut.fvecs", "multiple of the row size");
  {  // the second row claims another dimension
    std::fstream io(tmp.file("x.fvecs"), std::ios::in | std::ios::out | std::ios::binary);
    io.seekp(12);
    int32_t d = 9;
    io.write(reinterpret_cast<char*>(&d), 4);
  }
  EXPECT_ERROR(read_all(*open_source(tmp.file("x.fvecs"))), "x.fvecs", "row 1");
}

TEST(Readers, CsvColumnsImputationAndErrors) {
  TempDir tmp;
  std::ofstream(tmp.file("a.csv")) << "id,name,x,y\n1,\"Smith, J\",1.5,2\n2,Doe,3,4\n3,\"Roe\",5, 6\n";
  auto s = open_source(tmp.file("a.csv"));
  EXPECT_EQ(s->cols(), 3);  // id, x, y: the text column is skipped
  EXPECT_EQ(read_all(*s), (std::vector<float>{1, 1.5, 2, 2, 3, 4, 3, 5, 6}));
  SourceOptions o;
  o.columns = {"y", "2"};
  EXPECT_EQ(read_all(*open_source(tmp.file("a.csv"), o)), (std::vector<float>{2, 1.5, 4, 3, 6, 5}));
  o.columns = {"name"};
  EXPECT_ERROR(open_source(tmp.file("a.csv"), o), "a.csv", "'name' is not numeric", "line 2");
  o.columns = {"zzz"};
  EXPECT_ERROR(open_source(tmp.file("a.csv"), o), "no column 'zzz'");

  std::ofstream(tmp.file("gap.csv")) << "x,y\n1,2\n3,\n5,6\n";
  EXPECT_ERROR(open_source(tmp.file("gap.csv")), "gap.csv", "line 3", "'y' is empty", "--impute");
  SourceOptions m;
  m.impute = "mean";
  EXPECT_EQ(read_all(*open_source(tmp.file("gap.csv"), m)), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  std::ofstream(tmp.file("ragged.csv")) << "x,y\n1,2\n3,4,5\n";
  EXPECT_ERROR(open_source(tmp.file("ragged.csv")), "ragged.csv", "line 3 has 3 fields");
  std::ofstream(tmp.file("head.csv")) << "x,y\n";
  EXPECT_ERROR(open_source(tmp.file("head.csv")), "head.csv", "empty");
  std::ofstream(tmp.file("x.txt")) << "1 2\n";
  EXPECT_ERROR(open_source(tmp.file("x.txt")), "x.txt", "unknown format");
}

TEST(Output, ArraysRoundTripInEveryFormat) {
  TempDir tmp;
  const std::vector<float> c = {1.25f, -2, 3e-7f, 4e8f, 5, 6};
  const std::vector<int32_t> l = {0, 1, 2, -1};
  for (const std::string ext : {"h5", "npy", "csv"}) {
    const std::string cf = tmp.file("c." + ext), lf = tmp.file("l." + ext);
    write_array(cf, "/c", ElemType::f32, c.data(), 3, 2, ext == "csv" ? "a,b" : "");
    write_array(lf, "/l", ElemType::i32, l.data(), 4, 0, ext == "csv" ? "label" : "");
    EXPECT_EQ(read_all(*open_source(ext == "h5" ? cf + ":/c" : cf)), c) << ext;
    SourceOptions o;
    o.allow_1d = true;
    EXPECT_EQ(read_all(*open_source(ext == "h5" ? lf + ":/l" : lf, o)),
              (std::vector<float>{0, 1, 2, -1})) << ext;
  }
}

TEST(Output, FilesAppearOnlyOnCommit) {
  TempDir tmp;
  const std::string dir = tmp.file("out/nested");
  {
    OutputDir out(dir, false);
    out.write_text("report.json", "{}");
    EXPECT_FALSE(std::filesystem::exists(dir + "/report.json"));
  }  // no commit: nothing left, not even the directory
  EXPECT_FALSE(std::filesystem::exists(dir));
  {
    OutputDir out(dir, false);
    out.write_text("report.json", "{\"a\": 1}");
    out.commit();
  }
  EXPECT_EQ(testutil::read_text(dir + "/report.json"), "{\"a\": 1}");
  {
    OutputDir out(dir, false);
    EXPECT_ERROR(out.stage("report.json"), "report.json exists", "--force");
  }
  EXPECT_EQ(testutil::read_text(dir + "/report.json"), "{\"a\": 1}");
  {
    OutputDir out(dir, true);
    out.write_text("report.json", "{}");
    out.commit();
  }
  EXPECT_EQ(testutil::read_text(dir + "/report.json"), "{}");
  EXPECT_ERROR(OutputDir("/proc/forbidden", false), "/proc/forbidden");
}
