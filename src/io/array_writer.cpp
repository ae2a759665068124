// Arrays out: HDF5 datasets, .npy and .csv, written in bounded pieces.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "embcluster/error.h"
#include "embcluster/output.h"
#include "io/h5_handle.h"

namespace embcluster {
namespace {

size_t elem_bytes(ElemType t) { return t == ElemType::i64 ? 8 : 4; }

void write_h5(const std::string& path, const std::string& dataset, ElemType type,
              const void* data, int64_t rows, int64_t cols) {
  std::lock_guard<std::mutex> lock(h5_mutex());
  h5_quiet();
  H5Id f(std::filesystem::exists(path) ? H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT)
                                       : H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
  require(f.ok(), path, ": cannot create HDF5 file");
  if (H5Lexists(f.get(), dataset.c_str(), H5P_DEFAULT) > 0) H5Ldelete(f.get(), dataset.c_str(), H5P_DEFAULT);
  const hid_t file_type = type == ElemType::f32 ? H5T_IEEE_F32LE
                          : type == ElemType::i32 ? H5T_STD_I32LE : H5T_STD_I64LE;
  const hid_t mem_type = type == ElemType::f32 ? H5T_NATIVE_FLOAT
                         : type == ElemType::i32 ? H5T_NATIVE_INT32 : H5T_NATIVE_INT64;
  const int rank = cols > 0 ? 2 : 1;
  hsize_t dims[2] = {hsize_t(rows), hsize_t(cols)};
  H5Id space(H5Screate_simple(rank, dims, nullptr));
  H5Id lcpl(H5Pcreate(H5P_LINK_CREATE));
  H5Pset_create_intermediate_group(lcpl.get(), 1);
  H5Id ds(H5Dcreate2(f.get(), dataset.c_str(), file_type, space.get(), lcpl.get(), H5P_DEFAULT,
                     H5P_DEFAULT));
  require(ds.ok(), path, ": cannot create dataset ", dataset);
  require(rows == 0 || H5Dwrite(ds.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0,
          path, ": write failed (disk full?)");
}

void write_npy(const std::string& path, ElemType type, const void* data, int64_t rows,
               int64_t cols) {
  const char* descr = type == ElemType::f32 ? "<f4" : type == ElemType::i32 ? "<i4" : "<i8";
  std::string shape = cols > 0 ? "(" + std::to_string(rows) + ", " + std::to_string(cols) + ")"
                               : "(" + std::to_string(rows) + ",)";
  std::string header = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': " +
                       shape + ", }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::ofstream out(path, std::ios::binary);
  require(out.good(), path, ": cannot create");
  const uint16_t len = static_cast<uint16_t>(header.size());
  out.write("\x93NUMPY\x01\x00", 8);
  out.put(static_cast<char>(len & 0xff));
  out.put(static_cast<char>(len >> 8));
  out << header;
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(
                                                rows * std::max<int64_t>(cols, 1) * elem_bytes(type)));
  out.close();
  require(out.good(), path, ": write failed (disk full?)");
}

void write_csv(const std::string& path, ElemType type, const void* data, int64_t rows,
               int64_t cols, const std::string& header) {
  FILE* f = std::fopen(path.c_str(), "w");
  require(f != nullptr, path, ": cannot create");
  if (!header.empty()) std::fprintf(f, "%s\n", header.c_str());
  const int64_t c = std::max<int64_t>(cols, 1);
  for (int64_t i = 0; i < rows; ++i) {
    for (int64_t j = 0; j < c; ++j) {
      const int64_t k = i * c + j;
      if (j) std::fputc(',', f);
      if (type == ElemType::f32) std::fprintf(f, "%.9g", static_cast<const float*>(data)[k]);
      else if (type == ElemType::i32) std::fprintf(f, "%d", static_cast<const int32_t*>(data)[k]);
      else std::fprintf(f, "%lld", static_cast<long long>(static_cast<const int64_t*>(data)[k]));
    }
    std::fputc('\n', f);
  }
  const bool ok = std::ferror(f) == 0;
  require(std::fclose(f) == 0 && ok, path, ": write failed (disk full?)");
}

}  // namespace

void write_array(const std::string& path, const std::string& dataset, ElemType type,
                 const void* data, int64_t rows, int64_t cols, const std::string& header) {
  std::string ext = std::filesystem::path(path).extension().string();
  if (ext == ".h5" || ext == ".hdf5") return write_h5(path, dataset, type, data, rows, cols);
  if (ext == ".npy") return write_npy(path, type, data, rows, cols);
  if (ext == ".csv") return write_csv(path, type, data, rows, cols, header);
  throw_error(path, ": unknown output format (use .h5, .npy or .csv)");
}

}  // namespace embcluster
