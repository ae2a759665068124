// Sources: every dtype of every format, block boundaries, and bad inputs named in the error.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <random>
#include <thread>

#include "embcluster/error.h"
#include "embcluster/source.h"
#include "io/readers.h"
#include "testutil.h"

using namespace embcluster;
using testutil::error_of;
using testutil::TempDir;
namespace fs = std::filesystem;

namespace {

// Writes a dataset of any rank and file type from doubles (HDF5 converts).
void write_h5(const std::string& file, const std::string& ds, hid_t type,
              const std::vector<double>& v, std::vector<hsize_t> dims) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  hid_t f = fs::exists(file) ? H5Fopen(file.c_str(), H5F_ACC_RDWR, H5P_DEFAULT)
                             : H5Fcreate(file.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(lcpl, 1);
  hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
  hid_t d = H5Dcreate2(f, ds.c_str(), type, space, lcpl, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(d, 0) << ds;
  if (!v.empty()) {
    ASSERT_GE(H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), 0);
  }
  H5Dclose(d);
  H5Sclose(space);
  H5Pclose(lcpl);
  H5Fclose(f);
}

hid_t half_type() {  // IEEE binary16 as h5py defines it
  hid_t t = H5Tcopy(H5T_IEEE_F32LE);
  H5Tset_fields(t, 15, 10, 5, 0, 10);
  H5Tset_size(t, 2);
  H5Tset_ebias(t, 15);
  return t;
}

void write_npy(const std::string& path, const std::string& descr, const std::string& shape,
               const void* data, size_t bytes, int version = 1, bool fortran = false) {
  std::string header = "{'descr': '" + descr +
                       "', 'fortran_order': " + (fortran ? "True" : "False") +
                       ", 'shape': " + shape + ", }";
  const size_t prefix = version == 1 ? 10 : 12;
  while ((prefix + header.size() + 1) % 64) header += ' ';
  header += '\n';
  std::ofstream out(path, std::ios::binary);
  out.write("\x93NUMPY", 6);
  out.put(static_cast<char>(version));
  out.put(0);
  const uint32_t len = static_cast<uint32_t>(header.size());
  out.write(reinterpret_cast<const char*>(&len), version == 1 ? 2 : 4);
  out << header;
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(bytes));
}

template <typename T>
void write_npy_values(const std::string& path, const std::string& descr,
                      const std::vector<double>& v, int64_t rows, int64_t cols) {
  std::vector<T> t(v.begin(), v.end());
  write_npy(path, descr, "(" + std::to_string(rows) + ", " + std::to_string(cols) + ")", t.data(),
            t.size() * sizeof(T));
}

template <typename T>
void write_vecs(const std::string& path, const std::vector<double>& v, int64_t rows, int32_t cols) {
  std::ofstream out(path, std::ios::binary);
  for (int64_t r = 0; r < rows; ++r) {
    out.write(reinterpret_cast<const char*>(&cols), 4);
    for (int32_t j = 0; j < cols; ++j) {
      const T x = static_cast<T>(v[r * cols + j]);
      out.write(reinterpret_cast<const char*>(&x), sizeof(T));
    }
  }
}

// Small integers, exact in every element type; non-negative when `unsigned_ok`.
std::vector<double> values(int64_t n, bool non_negative = false) {
  std::vector<double> v(n);
  for (int64_t i = 0; i < n; ++i)
    v[i] = static_cast<double>((i * 37) % 101) - (non_negative ? 0 : 50);
  return v;
}

std::vector<float> as_float(const std::vector<double>& v) { return {v.begin(), v.end()}; }

// Reads a source in blocks of `block` rows.
std::vector<float> read_in_blocks(Source& s, int64_t block) {
  std::vector<float> out(static_cast<size_t>(s.rows() * s.cols()));
  for (int64_t r = 0; r < s.rows(); r += block)
    s.read(r, std::min(block, s.rows() - r), out.data() + r * s.cols());
  return out;
}

// A reference binary16 decoder written from the definition.
float half_reference(uint16_t h) {
  const int exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  const float sign = (h & 0x8000) ? -1.0f : 1.0f;
  if (exp == 0) return sign * std::ldexp(static_cast<float>(mant), -24);
  if (exp == 31) return mant ? std::numeric_limits<float>::quiet_NaN() : sign * INFINITY;
  return sign * std::ldexp(1.0f + mant / 1024.0f, exp - 15);
}

}  // namespace

// --- HDF5 ---------------------------------------------------------------------------------------

TEST(Hdf5, EveryDtypeReadsAsFloat) {
  TempDir tmp;
  const std::string f = tmp.file("types.h5");
  const hid_t half = half_type();
  const std::vector<std::tuple<std::string, hid_t, std::string>> types = {
      {"f16", half, "float16"},           {"f32", H5T_IEEE_F32LE, "float32"},
      {"f64", H5T_IEEE_F64LE, "float64"}, {"f32be", H5T_IEEE_F32BE, "float32"},
      {"i8", H5T_STD_I8LE, "int8"},       {"u8", H5T_STD_U8LE, "uint8"},
      {"i16", H5T_STD_I16LE, "int16"},    {"u16", H5T_STD_U16LE, "uint16"},
      {"i32", H5T_STD_I32LE, "int32"},    {"u32", H5T_STD_U32LE, "uint32"},
      {"i64", H5T_STD_I64LE, "int64"}};
  for (const auto& [name, type, dtype] : types) {
    std::vector<double> v = values(7 * 3, name[0] == 'u');
    if (name[0] == 'f') v[4] = 0.5, v[5] = -0.25, v[6] = 3.125;  // fractions exact in binary16
    write_h5(f, "/" + name, type, v, {7, 3});
    auto src = open_source(f + ":/" + name);
    ASSERT_EQ(src->rows(), 7) << name;
    ASSERT_EQ(src->cols(), 3) << name;
    EXPECT_EQ(src->dtype(), dtype) << name;
    EXPECT_EQ(src->name(), f + ":/" + name);
    EXPECT_EQ(read_all(*src), as_float(v)) << name;
  }
  H5Tclose(half);
  const auto list = list_datasets(f);
  ASSERT_EQ(list.size(), types.size());
  for (const auto& d : list) {
    EXPECT_EQ(d.shape, (std::vector<int64_t>{7, 3})) << d.path;
    if (d.path == "/f16") {
      EXPECT_EQ(d.dtype, "float16");
    }
  }
}

TEST(Hdf5, DatasetSelection) {
  TempDir tmp;
  const std::string f = tmp.file("sel.h5");
  const auto v = values(12);
  write_h5(f, "/group/sub/x", H5T_IEEE_F32LE, v, {4, 3});
  write_h5(f, "/labels", H5T_STD_I32LE, {1, 2, 3, 4}, {4});
  // The only 2-D dataset is chosen, wherever it is.
  EXPECT_EQ(open_source(f)->name(), f + ":/group/sub/x");
  EXPECT_EQ(read_all(*open_source(f + ":group/sub/x")), as_float(v));  // leading slash optional
  // A 1-D dataset is a column when allowed.
  SourceOptions o;
  o.allow_1d = true;
  {
    auto labels = open_source(f + ":/labels", o);
    EXPECT_EQ(labels->cols(), 1);
    EXPECT_EQ(read_all(*labels), (std::vector<float>{1, 2, 3, 4}));
  }  // closed: HDF5 cannot open a file for writing while it is open for reading
  EXPECT_ERROR(open_source(f + ":/labels"), "sel.h5:/labels", "is 1-D", "expected a 2-D dataset");
  // Two 2-D datasets: ambiguous until one is /data.
  write_h5(f, "/y", H5T_IEEE_F32LE, v, {6, 2});
  EXPECT_ERROR(open_source(f), "sel.h5", "/group/sub/x", "/y", "/labels");
  write_h5(f, "/data", H5T_IEEE_F32LE, v, {2, 6});
  EXPECT_EQ(open_source(f)->cols(), 6);
  EXPECT_EQ(list_datasets(f).size(), 4u);
  // Upper-case extensions are HDF5 too.
  fs::copy(f, tmp.file("SEL.H5"));
  EXPECT_EQ(open_source(tmp.file("SEL.H5") + ":/y")->rows(), 6);
}

TEST(Hdf5, BadInputsAreNamed) {
  TempDir tmp;
  const std::string f = tmp.file("bad.h5");
  write_h5(f, "/a", H5T_IEEE_F32LE, values(6), {3, 2});
  write_h5(f, "/cube", H5T_IEEE_F32LE, values(8), {2, 2, 2});
  write_h5(f, "/empty", H5T_IEEE_F32LE, {}, {0, 4});
  write_h5(f, "/nocols", H5T_IEEE_F32LE, {}, {5, 0});
  write_h5(f, "/g/inner", H5T_IEEE_F32LE, values(2), {1, 2});
  {  // a string and a compound dataset
    hid_t file = H5Fopen(f.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    hsize_t dims[2] = {2, 2};
    hid_t sp = H5Screate_simple(2, dims, nullptr);
    hid_t st = H5Tcopy(H5T_C_S1);
    H5Tset_size(st, 4);
    H5Dclose(H5Dcreate2(file, "/text", st, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    hid_t ct = H5Tcreate(H5T_COMPOUND, 8);
    H5Tinsert(ct, "a", 0, H5T_NATIVE_FLOAT);
    H5Tinsert(ct, "b", 4, H5T_NATIVE_FLOAT);
    H5Dclose(H5Dcreate2(file, "/pairs", ct, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    H5Tclose(ct);
    H5Tclose(st);
    H5Sclose(sp);
    H5Fclose(file);
  }
  EXPECT_ERROR(open_source(f + ":/nope"), "bad.h5: no dataset /nope", "(datasets: ", "/a",
               "/g/inner");
  EXPECT_ERROR(open_source(f + ":/x/y/z"), "bad.h5: no dataset /x/y/z");
  EXPECT_ERROR(open_source(f + ":/g"), "bad.h5", "/g is not a dataset");
  EXPECT_ERROR(open_source(f + ":/cube"), "bad.h5:/cube is 3-D; expected a 2-D dataset");
  EXPECT_ERROR(open_source(f + ":/empty"), "bad.h5:/empty is empty");
  EXPECT_ERROR(open_source(f + ":/nocols"), "bad.h5:/nocols has 0 columns");
  EXPECT_ERROR(open_source(f + ":/text"), "bad.h5:/text has type string; expected numbers");
  EXPECT_ERROR(open_source(f + ":/pairs"), "bad.h5:/pairs has type compound; expected numbers");
  EXPECT_ERROR(open_source(tmp.file("missing.h5") + ":/a"), "missing.h5: no such file");
  std::ofstream(tmp.file("junk.h5")) << "this is not hdf5 at all, just some text";
  EXPECT_ERROR(open_source(tmp.file("junk.h5")), "junk.h5: not an HDF5 file");
  EXPECT_ERROR(list_datasets(tmp.file("junk.h5")), "junk.h5: not an HDF5 file");
  {  // random bytes
    std::mt19937 rng(5);
    std::ofstream out(tmp.file("random.h5"), std::ios::binary);
    for (int i = 0; i < 100000; ++i) out.put(static_cast<char>(rng()));
  }
  EXPECT_ERROR(open_source(tmp.file("random.h5")), "random.h5", "not an HDF5 file");
}

TEST(Hdf5, NonFiniteRowsAreNamed) {
  TempDir tmp;
  const std::string f = tmp.file("nf.h5");
  write_h5(f, "/nan", H5T_IEEE_F32LE, {1, 2, 3, 4, NAN, 6}, {3, 2});
  write_h5(f, "/inf", H5T_IEEE_F64LE, {1, 2, 3, -INFINITY, 5, 6}, {3, 2});
  EXPECT_ERROR(read_all(*open_source(f + ":/nan")), "nf.h5:/nan: row 2 contains NaN");
  EXPECT_ERROR(read_all(*open_source(f + ":/inf")), "nf.h5:/inf: row 1 contains Inf");
  auto src = open_source(f + ":/nan");
  std::vector<float> row(4);
  EXPECT_NO_THROW(src->read(0, 2, row.data()));  // the bad row is not in this block
  SourceOptions o;
  o.check_finite = false;
  EXPECT_TRUE(std::isnan(read_all(*open_source(f + ":/nan", o))[4]));
}

TEST(Hdf5, TruncatedFileIsAnError) {
  TempDir tmp;
  const std::string f = tmp.file("cut.h5");
  auto b = testutil::make_blobs(20000, 16, 2, 3);
  testutil::write_h5_f32(f, "/data", b.x, b.n, b.d);
  fs::resize_file(f, fs::file_size(f) / 2);
  // HDF5 checks the end of file on open; if that passes, the read fails instead.
  EXPECT_ERROR(read_all(*open_source(f)), "cut.h5", "truncated or corrupt");
}

TEST(Hdf5, CorruptChunkFailsTheRead) {
  if (H5Zfilter_avail(H5Z_FILTER_DEFLATE) <= 0) GTEST_SKIP() << "HDF5 built without deflate";
  TempDir tmp;
  const std::string f = tmp.file("z.h5");
  auto b = testutil::make_blobs(20000, 16, 2, 3);
  {  // compressed chunks: damaged data fails to decompress, while the metadata stays intact
    hid_t file = H5Fcreate(f.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t dims[2] = {20000, 16}, chunk[2] = {1000, 16};
    hid_t sp = H5Screate_simple(2, dims, nullptr);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 2, chunk);
    H5Pset_deflate(dcpl, 6);
    hid_t ds = H5Dcreate2(file, "/data", H5T_IEEE_F32LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, b.x.data());
    H5Dclose(ds);
    H5Pclose(dcpl);
    H5Sclose(sp);
    H5Fclose(file);
  }
  const auto size = fs::file_size(f);
  {
    std::fstream io(f, std::ios::in | std::ios::out | std::ios::binary);
    io.seekp(static_cast<std::streamoff>(size * 6 / 10));
    const std::string junk(size / 10, '\xff');
    io.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  auto src = open_source(f);
  EXPECT_ERROR(read_in_blocks(*src, 4096), "z.h5:/data: read failed at rows ",
               "(file truncated or corrupt?)");
}

TEST(Hdf5, ReadFromAnotherThread) {
  TempDir tmp;
  auto b = testutil::make_blobs(500, 4, 2, 9);
  testutil::write_h5_f32(tmp.file("t.h5"), "/data", b.x, b.n, b.d);
  auto src = open_source(tmp.file("t.h5"));
  std::vector<float> got(b.x.size());
  std::thread reader([&] { src->read(0, src->rows(), got.data()); });
  reader.join();
  EXPECT_EQ(got, b.x);
  std::thread closer([&] { src.reset(); });  // closing elsewhere too
  closer.join();
}

// --- block boundaries ------------------------------------------------------------------------

TEST(Readers, BlockBoundariesDoNotMatter) {
  TempDir tmp;
  const int64_t rows = 103, cols = 5;
  const auto v = values(rows * cols, true);
  write_h5(tmp.file("x.h5"), "/data", H5T_STD_U16LE, v, {hsize_t(rows), hsize_t(cols)});
  write_npy_values<float>(tmp.file("f4.npy"), "<f4", v, rows, cols);
  write_npy_values<int64_t>(tmp.file("i8.npy"), "<i8", v, rows, cols);
  write_vecs<float>(tmp.file("x.fvecs"), v, rows, cols);
  write_vecs<uint8_t>(tmp.file("x.bvecs"), v, rows, cols);
  write_vecs<int32_t>(tmp.file("x.ivecs"), v, rows, cols);
  {
    std::ofstream out(tmp.file("x.csv"));
    out << "a,b,c,d,e\n";
    for (int64_t r = 0; r < rows; ++r) {
      if (r == 50) out << "\n";  // a blank line is skipped, not a row
      for (int64_t j = 0; j < cols; ++j) out << (j ? "," : "") << v[r * cols + j];
      out << "\n";
    }
  }
  for (const char* name : {"x.h5", "f4.npy", "i8.npy", "x.fvecs", "x.bvecs", "x.ivecs", "x.csv"}) {
    auto src = open_source(tmp.file(name));
    ASSERT_EQ(src->rows(), rows) << name;
    ASSERT_EQ(src->cols(), cols) << name;
    const auto all = read_all(*src);
    EXPECT_EQ(all, as_float(v)) << name;
    for (int64_t block : {1, 2, 7, 10, 64, 102, 103})
      EXPECT_EQ(read_in_blocks(*src, block), all) << name << " block " << block;
    std::vector<float> one(cols);
    src->read(77, 1, one.data());  // a single row in the middle, after other reads
    EXPECT_EQ(one, std::vector<float>(all.begin() + 77 * cols, all.begin() + 78 * cols)) << name;
  }
}

TEST(Readers, LargeBlocksSpanConversionChunks) {
  TempDir tmp;
  const int64_t rows = 300000, cols = 4;  // 9.6 MB of float64: several internal chunks
  std::vector<double> v(rows * cols);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(i % 1000) * 0.5;
  write_npy_values<double>(tmp.file("big.npy"), "<f8", v, rows, cols);
  write_vecs<float>(tmp.file("big.fvecs"), v, rows, cols);
  for (const char* name : {"big.npy", "big.fvecs"}) {
    auto src = open_source(tmp.file(name));
    EXPECT_EQ(read_all(*src), as_float(v)) << name;
    EXPECT_EQ(read_in_blocks(*src, 123457), as_float(v)) << name;
  }
}

// --- .npy ------------------------------------------------------------------------------------

TEST(Npy, EveryDtype) {
  TempDir tmp;
  const int64_t rows = 4, cols = 3;
  const auto s = values(rows * cols), u = values(rows * cols, true);
  write_npy_values<float>(tmp.file("f4.npy"), "<f4", s, rows, cols);
  write_npy_values<double>(tmp.file("f8.npy"), "<f8", s, rows, cols);
  write_npy_values<int8_t>(tmp.file("i1.npy"), "|i1", s, rows, cols);
  write_npy_values<uint8_t>(tmp.file("u1.npy"), "|u1", u, rows, cols);
  write_npy_values<int16_t>(tmp.file("i2.npy"), "<i2", s, rows, cols);
  write_npy_values<uint16_t>(tmp.file("u2.npy"), "<u2", u, rows, cols);
  write_npy_values<int32_t>(tmp.file("i4.npy"), "<i4", s, rows, cols);
  write_npy_values<uint32_t>(tmp.file("u4.npy"), "<u4", u, rows, cols);
  write_npy_values<int64_t>(tmp.file("i8.npy"), "<i8", s, rows, cols);
  const std::vector<std::pair<std::string, std::string>> files = {
      {"f4", "float32"}, {"f8", "float64"}, {"i1", "int8"},   {"u1", "uint8"}, {"i2", "int16"},
      {"u2", "uint16"},  {"i4", "int32"},   {"u4", "uint32"}, {"i8", "int64"}};
  for (const auto& [name, dtype] : files) {
    auto src = open_source(tmp.file(name + ".npy"));
    EXPECT_EQ(src->dtype(), dtype);
    EXPECT_EQ(src->rows(), rows);
    EXPECT_EQ(read_all(*src), as_float(name[0] == 'u' ? u : s)) << name;
  }
  const int32_t big[2] = {-2147483647 - 1, 2147483647};
  write_npy(tmp.file("big.npy"), "<i4", "(1, 2)", big, 8);
  EXPECT_EQ(read_all(*open_source(tmp.file("big.npy"))),
            (std::vector<float>{-2147483648.0f, 2147483648.0f}));
}

TEST(Npy, HalfFloatsConvertExactly) {
  for (uint32_t h = 0; h < 65536; ++h) {  // every binary16 value
    const float got = half_to_float(static_cast<uint16_t>(h)), want = half_reference(h);
    if (std::isnan(want)) {
      ASSERT_TRUE(std::isnan(got)) << h;
    } else {
      ASSERT_EQ(got, want) << h;
      ASSERT_EQ(std::signbit(got), std::signbit(want)) << h;
    }
  }
  TempDir tmp;
  const uint16_t halves[6] = {0x3c00, 0xc000, 0x0001, 0x03ff, 0x7bff, 0x8000};
  write_npy(tmp.file("f2.npy"), "<f2", "(3, 2)", halves, sizeof halves);
  auto src = open_source(tmp.file("f2.npy"));
  EXPECT_EQ(src->dtype(), "float16");
  EXPECT_EQ(read_all(*src), (std::vector<float>{1.0f, -2.0f, std::ldexp(1.0f, -24),
                                                std::ldexp(1023.0f, -24), 65504.0f, -0.0f}));
  const uint16_t special[4] = {0x3c00, 0x3c00, 0x7c00, 0x7e00};  // row 1: Inf, NaN
  write_npy(tmp.file("inf.npy"), "<f2", "(2, 2)", special, sizeof special);
  EXPECT_ERROR(read_all(*open_source(tmp.file("inf.npy"))), "inf.npy: row 1 contains Inf");
  SourceOptions o;
  o.check_finite = false;
  const auto raw = read_all(*open_source(tmp.file("inf.npy"), o));
  EXPECT_TRUE(std::isinf(raw[2]));
  EXPECT_TRUE(std::isnan(raw[3]));
}

TEST(Npy, VersionsAndShapes) {
  TempDir tmp;
  const std::vector<float> v = {1, 2, 3, 4, 5, 6};
  for (int version : {1, 2, 3}) {
    const std::string f = tmp.file("v" + std::to_string(version) + ".npy");
    write_npy(f, "<f4", "(2, 3)", v.data(), 24, version);
    EXPECT_EQ(read_all(*open_source(f)), v) << version;
  }
  write_npy(tmp.file("one.npy"), "<f4", "(6,)", v.data(), 24);
  EXPECT_ERROR(open_source(tmp.file("one.npy")), "one.npy is 1-D; expected a 2-D array");
  SourceOptions o;
  o.allow_1d = true;
  auto col = open_source(tmp.file("one.npy"), o);
  EXPECT_EQ(col->rows(), 6);
  EXPECT_EQ(col->cols(), 1);
  EXPECT_EQ(read_all(*col), v);
  write_npy(tmp.file("cube.npy"), "<f4", "(1, 2, 3)", v.data(), 24);
  EXPECT_ERROR(open_source(tmp.file("cube.npy")), "cube.npy is 3-D");
  write_npy(tmp.file("empty.npy"), "<f4", "(0, 2)", v.data(), 0);
  EXPECT_ERROR(open_source(tmp.file("empty.npy")), "empty.npy is empty");
  write_npy(tmp.file("nocols.npy"), "<f4", "(3, 0)", v.data(), 0);
  EXPECT_ERROR(open_source(tmp.file("nocols.npy")), "nocols.npy has 0 columns");
}

TEST(Npy, BadFilesAreNamed) {
  TempDir tmp;
  const std::vector<float> v = {1, 2, 3, 4, 5, 6};
  write_npy(tmp.file("fortran.npy"), "<f4", "(2, 3)", v.data(), 24, 1, true);
  EXPECT_ERROR(open_source(tmp.file("fortran.npy")), "fortran.npy", "Fortran");
  write_npy(tmp.file("str.npy"), "<U3", "(2, 2)", v.data(), 24);
  EXPECT_ERROR(open_source(tmp.file("str.npy")), "str.npy", "'<U3'", "not supported");
  write_npy(tmp.file("be.npy"), ">f4", "(2, 3)", v.data(), 24);
  EXPECT_ERROR(open_source(tmp.file("be.npy")), "be.npy", "'>f4'");
  std::ofstream(tmp.file("bad.npy")) << "garbage that is long enough";
  EXPECT_ERROR(open_source(tmp.file("bad.npy")), "bad.npy: not a valid .npy file (bad magic)");
  std::ofstream(tmp.file("tiny.npy")) << "\x93NU";
  EXPECT_ERROR(open_source(tmp.file("tiny.npy")), "tiny.npy: not a valid .npy file");
  std::ofstream(tmp.file("v9.npy"), std::ios::binary)
      << std::string("\x93NUMPY\x09\x00\x10\x00", 10);
  EXPECT_ERROR(open_source(tmp.file("v9.npy")),
               "v9.npy: not a valid .npy file (unknown version 9)");
  {
    std::ofstream out(tmp.file("noshape.npy"), std::ios::binary);
    const std::string h = "{'descr': '<f4', 'fortran_order': False, }";
    out << std::string("\x93NUMPY\x01\x00", 8) << char(h.size()) << char(0) << h;
  }
  EXPECT_ERROR(open_source(tmp.file("noshape.npy")), "noshape.npy: not a valid .npy file", "shape");
  {
    std::ofstream out(tmp.file("shorthead.npy"), std::ios::binary);
    out << std::string("\x93NUMPY\x01\x00\xff\x00{'descr'", 18);
  }
  EXPECT_ERROR(open_source(tmp.file("shorthead.npy")), "shorthead.npy", "truncated header");
  write_npy(tmp.file("struct.npy"), "<f4", "(2, 3)", v.data(), 24);
  {  // structured dtypes are lists of fields
    std::ofstream out(tmp.file("struct.npy"), std::ios::binary);
    const std::string h = "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }";
    out << std::string("\x93NUMPY\x01\x00", 8) << char(h.size()) << char(0) << h;
    out.write(reinterpret_cast<const char*>(v.data()), 8);
  }
  EXPECT_ERROR(open_source(tmp.file("struct.npy")), "struct.npy", "structured");
  // A valid file cut short.
  std::vector<float> big(1000 * 8, 1.0f);
  write_npy(tmp.file("cut.npy"), "<f4", "(1000, 8)", big.data(), big.size() * 4);
  fs::resize_file(tmp.file("cut.npy"), fs::file_size(tmp.file("cut.npy")) - 28000);
  EXPECT_ERROR(open_source(tmp.file("cut.npy")),
               "cut.npy: truncated: expected 32000 bytes of data, found 4000");
  std::vector<float> nan_rows = {1, 2, 3, 4, 5, NAN};
  write_npy(tmp.file("nan.npy"), "<f4", "(3, 2)", nan_rows.data(), 24);
  EXPECT_ERROR(read_all(*open_source(tmp.file("nan.npy"))), "nan.npy: row 2 contains NaN");
}

// --- .fvecs / .bvecs / .ivecs ------------------------------------------------------------------

TEST(Vecs, RoundTripEveryKind) {
  TempDir tmp;
  const std::vector<double> f = {0.5, -1.25, 3, 1e6, -7, 8};
  write_vecs<float>(tmp.file("x.fvecs"), f, 2, 3);
  auto fs_ = open_source(tmp.file("x.fvecs"));
  EXPECT_EQ(fs_->dtype(), "float32");
  EXPECT_EQ(fs_->rows(), 2);
  EXPECT_EQ(fs_->cols(), 3);
  EXPECT_EQ(read_all(*fs_), as_float(f));
  const std::vector<double> b = {0, 1, 128, 255};
  write_vecs<uint8_t>(tmp.file("x.bvecs"), b, 1, 4);
  auto bs = open_source(tmp.file("x.bvecs"));
  EXPECT_EQ(bs->dtype(), "uint8");
  EXPECT_EQ(read_all(*bs), as_float(b));
  const std::vector<double> i = {-100000, 0, 7, 2147483647};
  write_vecs<int32_t>(tmp.file("x.ivecs"), i, 4, 1);
  auto is = open_source(tmp.file("x.ivecs"));
  EXPECT_EQ(is->dtype(), "int32");
  EXPECT_EQ(is->rows(), 4);
  EXPECT_EQ(read_all(*is), as_float(i));
}

TEST(Vecs, CorruptFilesAreNamed) {
  TempDir tmp;
  const auto v = values(30);
  write_vecs<float>(tmp.file("x.fvecs"), v, 10, 3);
  fs::copy(tmp.file("x.fvecs"), tmp.file("cut.fvecs"));
  fs::resize_file(tmp.file("cut.fvecs"), fs::file_size(tmp.file("x.fvecs")) - 5);
  EXPECT_ERROR(open_source(tmp.file("cut.fvecs")),
               "cut.fvecs: file size is not a multiple of the row size", "truncated or corrupt");
  {  // row 6 claims another dimension
    std::fstream io(tmp.file("x.fvecs"), std::ios::in | std::ios::out | std::ios::binary);
    io.seekp(6 * 16);
    const int32_t d = 9;
    io.write(reinterpret_cast<const char*>(&d), 4);
  }
  auto src = open_source(tmp.file("x.fvecs"));
  std::vector<float> head(5 * 3);
  EXPECT_NO_THROW(src->read(0, 5, head.data()));
  EXPECT_ERROR(read_all(*src), "x.fvecs: row 6 declares 9 dimensions");
  for (const int32_t d : {0, -3}) {
    std::ofstream out(tmp.file("zero.ivecs"), std::ios::binary);
    out.write(reinterpret_cast<const char*>(&d), 4);
    out.write("\0\0\0\0", 4);
    out.close();
    const std::string declared = "declares " + std::to_string(d) + " dimensions";
    EXPECT_ERROR(open_source(tmp.file("zero.ivecs")), "zero.ivecs", declared.c_str());
  }
  std::ofstream(tmp.file("empty.bvecs")).close();
  EXPECT_ERROR(open_source(tmp.file("empty.bvecs")), "empty.bvecs is empty");
  std::ofstream(tmp.file("short.bvecs")) << "ab";
  EXPECT_ERROR(open_source(tmp.file("short.bvecs")), "short.bvecs", "truncated");
}

// --- CSV -------------------------------------------------------------------------------------

TEST(Csv, QuotesAndNonNumericColumns) {
  TempDir tmp;
  std::ofstream(tmp.file("a.csv")) << "id,name,x,\"y\"\n"
                                      "1,\"Smith, J\",1.5,2\n"
                                      "2,Doe,3,\"4\"\n"
                                      "3,\"say \"\"hi\"\"\", 5 ,6e0\n";
  auto s = open_source(tmp.file("a.csv"));
  EXPECT_EQ(s->cols(), 3);  // id, x, y: the text column is skipped
  EXPECT_EQ(s->rows(), 3);
  EXPECT_EQ(read_all(*s), (std::vector<float>{1, 1.5, 2, 2, 3, 4, 3, 5, 6}));
  const auto list = list_datasets(tmp.file("a.csv"));
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].shape, (std::vector<int64_t>{3, 3}));
}

TEST(Csv, ColumnSelection) {
  TempDir tmp;
  std::ofstream(tmp.file("a.csv")) << "id,name,x,y\n1,Ann,1.5,2\n2,Bob,3,4\n3,Cy,5,6\n";
  SourceOptions o;
  o.columns = {"y", "2"};  // by name and by 0-based index
  EXPECT_EQ(read_all(*open_source(tmp.file("a.csv"), o)), (std::vector<float>{2, 1.5, 4, 3, 6, 5}));
  o.columns = {"0"};
  EXPECT_EQ(read_all(*open_source(tmp.file("a.csv"), o)), (std::vector<float>{1, 2, 3}));
  o.columns = {"name"};
  EXPECT_ERROR(open_source(tmp.file("a.csv"), o),
               "a.csv: column 'name' is not numeric (line 2: 'Ann')");
  o.columns = {"zzz"};
  EXPECT_ERROR(open_source(tmp.file("a.csv"), o), "a.csv: no column 'zzz'");
  o.columns = {"4"};
  EXPECT_ERROR(open_source(tmp.file("a.csv"), o), "a.csv: no column '4'");
}

TEST(Csv, MissingCellsAndImputation) {
  TempDir tmp;
  std::ofstream(tmp.file("gap.csv")) << "x,y\n1,2\n3,\n5,7\n,1\n";
  EXPECT_ERROR(open_source(tmp.file("gap.csv")),
               "gap.csv: line 3, column 'y' is empty (use --impute mean)");
  SourceOptions m;
  m.impute = "mean";
  EXPECT_EQ(read_all(*open_source(tmp.file("gap.csv"), m)),
            (std::vector<float>{1, 2, 3, 10.0f / 3, 5, 7, 3, 1}));
  m.impute = "median";
  EXPECT_ERROR(open_source(tmp.file("gap.csv"), m), "--impute", "median");
  // Only the selected columns need values.
  SourceOptions x;
  x.columns = {"x"};
  std::ofstream(tmp.file("gap2.csv")) << "x,y\n1,2\n3,\n";
  EXPECT_EQ(read_all(*open_source(tmp.file("gap2.csv"), x)), (std::vector<float>{1, 3}));
}

// A stray non-numeric cell in a column of numbers is an error naming it, never the column dropped
// in silence; text and empty columns left out of the automatic choice are said in notes.
TEST(Csv, StrayCellsAreErrorsAndLeftOutColumnsAreNoted) {
  TempDir tmp;
  std::ofstream(tmp.file("bad.csv")) << "a,b,c\n1,2,3\n4,x,6\n7,8,9\n";
  EXPECT_ERROR(open_source(tmp.file("bad.csv")),
               "bad.csv: line 3, column 'b': 'x' is not a number");
  {  // one bad cell near the end of a long file
    std::ofstream f(tmp.file("long.csv"));
    f << "u,v\n";
    for (int i = 0; i < 20000; ++i) f << i << "," << (i == 19990 ? "n/a" : "1.5") << "\n";
  }
  EXPECT_ERROR(open_source(tmp.file("long.csv")), "long.csv: line 19992, column 'v': 'n/a'");

  std::ofstream(tmp.file("mixed.csv")) << "id,name,empty,x\n1,Ann,,1.5\n2,Bob,,3\n";
  SourceOptions mean;
  mean.impute = "mean";
  auto s = open_source(tmp.file("mixed.csv"), mean);
  EXPECT_EQ(s->column_names(), (std::vector<std::string>{"id", "x"}));
  ASSERT_EQ(s->notes().size(), 2u);
  EXPECT_EQ(s->notes()[0], "column 'name' left out: not numeric (line 2: 'Ann')");
  EXPECT_EQ(s->notes()[1], "column 'empty' left out: every cell is empty");
  mean.columns = {"empty"};
  EXPECT_ERROR(open_source(tmp.file("mixed.csv"), mean), "column 'empty' has no values");
  SourceOptions twice;
  twice.columns = {"x", "3"};
  EXPECT_ERROR(open_source(tmp.file("mixed.csv"), twice), "column 'x' is named twice");
}

// --columns and --impute are CSV's; elsewhere they are refused rather than ignored.
TEST(Readers, CsvOptionsOnOtherFormatsAreRefused) {
  TempDir tmp;
  std::vector<float> w = {1, 2};
  write_npy(tmp.file("w.npy"), "<f4", "(1, 2)", w.data(), 8);
  SourceOptions o;
  o.columns = {"0"};
  EXPECT_ERROR(open_source(tmp.file("w.npy"), o), "w.npy: --columns applies to CSV input only");
  SourceOptions m;
  m.impute = "mean";
  EXPECT_ERROR(open_source(tmp.file("w.npy"), m), "w.npy: --impute applies to CSV input only");
}

TEST(Csv, MalformedFilesAreNamed) {
  TempDir tmp;
  std::ofstream(tmp.file("ragged.csv")) << "x,y\n1,2\n3,4,5\n";
  EXPECT_ERROR(open_source(tmp.file("ragged.csv")),
               "ragged.csv: line 3 has 3 fields; the header has 2");
  std::ofstream(tmp.file("head.csv")) << "x,y\n";
  EXPECT_ERROR(open_source(tmp.file("head.csv")), "head.csv is empty");
  std::ofstream(tmp.file("none.csv")).close();
  EXPECT_ERROR(open_source(tmp.file("none.csv")), "none.csv is empty");
  std::ofstream(tmp.file("text.csv")) << "a,b\nx,y\nz,w\n";
  EXPECT_ERROR(open_source(tmp.file("text.csv")), "text.csv: no numeric column");
  std::ofstream(tmp.file("quote.csv")) << "a,b\n1,\"2\n3,4\n";
  EXPECT_ERROR(open_source(tmp.file("quote.csv")), "quote.csv: line 2", "unterminated quote");
  std::ofstream(tmp.file("nan.csv")) << "a,b\n1,2\n3,nan\n";
  EXPECT_ERROR(read_all(*open_source(tmp.file("nan.csv"))), "nan.csv: row 1 contains NaN");
}

TEST(Csv, LineEndingsBlankLinesAndByteOrderMark) {
  TempDir tmp;
  std::ofstream(tmp.file("crlf.csv"), std::ios::binary)
      << "\xEF\xBB\xBFx, y\r\n1,2\r\n\r\n 3 , 4 \r\n5,6";  // no final newline
  SourceOptions o;
  o.columns = {"y", "x"};  // header names are trimmed, the BOM dropped
  auto s = open_source(tmp.file("crlf.csv"), o);
  EXPECT_EQ(s->rows(), 3);
  EXPECT_EQ(read_all(*s), (std::vector<float>{2, 1, 4, 3, 6, 5}));
  EXPECT_EQ(read_in_blocks(*s, 1), read_all(*s));
  std::ofstream(tmp.file("ln.csv")) << "x,y\n1,2\n\n3,4\n5\n";
  EXPECT_ERROR(open_source(tmp.file("ln.csv")), "ln.csv: line 5 has 1 fields");
}

// --- dispatch and the base class ----------------------------------------------------------------

TEST(Readers, DispatchAndBaseChecks) {
  TempDir tmp;
  std::ofstream(tmp.file("x.txt")) << "1 2\n";
  EXPECT_ERROR(open_source(tmp.file("x.txt")),
               "x.txt: unknown format (expected .h5, .npy, .fvecs, .bvecs, .ivecs or .csv)");
  EXPECT_ERROR(open_source(tmp.file("nothing.npy")), "nothing.npy: no such file");
  EXPECT_ERROR(list_datasets(tmp.file("nothing.csv")), "nothing.csv: no such file");
  fs::create_directory(tmp.file("dir.npy"));
  EXPECT_ERROR(open_source(tmp.file("dir.npy")), "dir.npy", "directory");

  const std::vector<float> v = {1, 2, 3, 4, 5, 6, NAN, 8};
  auto mem = memory_source(v.data(), 4, 2, "mine");
  EXPECT_EQ(mem->name(), "mine");
  EXPECT_EQ(mem->dtype(), "float32");
  std::vector<float> out(6);
  mem->read(0, 3, out.data());
  EXPECT_EQ(out, std::vector<float>(v.begin(), v.begin() + 6));
  EXPECT_ERROR(read_all(*mem), "mine: row 3 contains NaN");
  EXPECT_ERROR(mem->read(3, 2, out.data()), "mine: rows 3..4 are out of range (4 rows)");
  EXPECT_ERROR(mem->read(-1, 1, out.data()), "mine", "out of range");
  mem->read(2, 0, static_cast<float*>(nullptr));  // nothing to read

  std::vector<float> w = {1, 2};
  write_npy(tmp.file("w.npy"), "<f4", "(1, 2)", w.data(), 8);
  const auto info = list_datasets(tmp.file("w.npy"));
  ASSERT_EQ(info.size(), 1u);
  EXPECT_EQ(info[0].path, "w.npy");
  EXPECT_EQ(info[0].shape, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(info[0].dtype, "float32");
}
