// Arrays out: HDF5 datasets, .npy and .csv, written in bounded pieces.
#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>

#include "embcluster/error.h"
#include "embcluster/output.h"
#include "io/h5_handle.h"
#include "io/readers.h"
#include "io/safe_file.h"

namespace embcluster {
namespace {

// About 1M elements per write keeps conversion and I/O buffers bounded for any array size.
constexpr int64_t kBlockElems = int64_t(1) << 20;

int64_t elem_bytes(ElemType t) { return t == ElemType::i64 ? 8 : 4; }

int64_t rows_per_block(int64_t cols) {
  return std::max<int64_t>(1, kBlockElems / std::max<int64_t>(cols, 1));
}

void write_h5(const std::string& path, std::string dataset, ElemType type, const void* data,
              int64_t rows, int64_t cols) {
  if (dataset.empty()) dataset = "/data";
  if (dataset[0] != '/') dataset = "/" + dataset;
  std::lock_guard<std::mutex> lock(h5_mutex());
  h5_quiet();
  std::error_code ec;
  H5Id f(std::filesystem::exists(path, ec)
             ? H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT)
             : H5Fcreate(path.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, H5P_DEFAULT));  // no link followed
  require(f.ok(), path, ": cannot create or open as an HDF5 file for writing");
  if (H5Lexists(f.get(), dataset.c_str(), H5P_DEFAULT) > 0) {
    H5O_info_t info;
    require(H5Oget_info_by_name(f.get(), dataset.c_str(), &info, H5P_DEFAULT) >= 0 &&
                info.type == H5O_TYPE_DATASET,
            path, ": ", dataset, " exists and is not a dataset");
    require(H5Ldelete(f.get(), dataset.c_str(), H5P_DEFAULT) >= 0, path, ": cannot replace ",
            dataset);
  }
  const hid_t file_type = type == ElemType::f32   ? H5T_IEEE_F32LE
                          : type == ElemType::i32 ? H5T_STD_I32LE
                                                  : H5T_STD_I64LE;
  const hid_t mem_type = type == ElemType::f32   ? H5T_NATIVE_FLOAT
                         : type == ElemType::i32 ? H5T_NATIVE_INT32
                                                 : H5T_NATIVE_INT64;
  const int rank = cols > 0 ? 2 : 1;
  const int64_t width = std::max<int64_t>(cols, 1);
  hsize_t dims[2] = {hsize_t(rows), hsize_t(width)};
  H5Id space(H5Screate_simple(rank, dims, nullptr));
  H5Id lcpl(H5Pcreate(H5P_LINK_CREATE));
  H5Pset_create_intermediate_group(lcpl.get(), 1);
  H5Id dcpl(H5Pcreate(H5P_DATASET_CREATE));
  if (rows > 0) {  // chunks of ~256K elements: a reader of a few rows touches little
    hsize_t chunk[2] = {hsize_t(std::min(rows, std::max<int64_t>(1, (int64_t(1) << 18) / width))),
                        hsize_t(width)};
    H5Pset_chunk(dcpl.get(), rank, chunk);
  }
  H5Id ds(H5Dcreate2(f.get(), dataset.c_str(), file_type, space.get(), lcpl.get(), dcpl.get(),
                     H5P_DEFAULT));
  require(ds.ok(), path, ": cannot create dataset ", dataset);
  const int64_t step = rows_per_block(width);
  const auto* bytes = static_cast<const char*>(data);
  for (int64_t r = 0; r < rows; r += step) {
    const int64_t n = std::min(step, rows - r);
    hsize_t off[2] = {hsize_t(r), 0}, cnt[2] = {hsize_t(n), hsize_t(width)};
    H5Id fspace(H5Dget_space(ds.get()));
    H5Id mspace(H5Screate_simple(rank, cnt, nullptr));
    const bool ok =
        fspace.ok() && mspace.ok() &&
        H5Sselect_hyperslab(fspace.get(), H5S_SELECT_SET, off, nullptr, cnt, nullptr) >= 0 &&
        H5Dwrite(ds.get(), mem_type, mspace.get(), fspace.get(), H5P_DEFAULT,
                 bytes + r * width * elem_bytes(type)) >= 0;
    require(ok, path, ": write failed at rows ", r, "..", r + n - 1, " (disk full?)");
  }
  ds.close();
  require(H5Fflush(f.get(), H5F_SCOPE_LOCAL) >= 0, path, ": write failed (disk full?)");
}

// Closes a FILE* on every path out.
struct FileCloser {
  void operator()(FILE* f) const {
    if (f) std::fclose(f);
  }
};
using FilePtr = std::unique_ptr<FILE, FileCloser>;

FilePtr open_for_writing(const std::string& path) {
  return FilePtr(open_for_writing_nofollow(path));
}

void finish(FilePtr f, const std::string& path) {
  const bool ok = std::ferror(f.get()) == 0;
  require(std::fclose(f.release()) == 0 && ok, path, ": write failed (disk full?)");
}

void write_npy(const std::string& path, ElemType type, const void* data, int64_t rows,
               int64_t cols) {
  const char* descr = type == ElemType::f32 ? "<f4" : type == ElemType::i32 ? "<i4" : "<i8";
  const std::string shape = cols > 0
                                ? "(" + std::to_string(rows) + ", " + std::to_string(cols) + ")"
                                : "(" + std::to_string(rows) + ",)";
  std::string header =
      std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  // numpy pads the header with spaces so that the data starts 64-byte aligned.
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  FilePtr f = open_for_writing(path);
  const uint16_t len = static_cast<uint16_t>(header.size());
  const unsigned char pre[10] = {0x93,
                                 'N',
                                 'U',
                                 'M',
                                 'P',
                                 'Y',
                                 1,
                                 0,
                                 static_cast<unsigned char>(len & 0xff),
                                 static_cast<unsigned char>(len >> 8)};
  std::fwrite(pre, 1, sizeof pre, f.get());
  std::fwrite(header.data(), 1, header.size(), f.get());
  const int64_t total = rows * std::max<int64_t>(cols, 1) * elem_bytes(type);
  const auto* bytes = static_cast<const char*>(data);
  for (int64_t done = 0; done < total;) {
    const int64_t n = std::min<int64_t>(total - done, kBlockElems * 4);
    if (std::fwrite(bytes + done, 1, size_t(n), f.get()) != size_t(n)) break;
    done += n;
  }
  finish(std::move(f), path);
}

void write_csv(const std::string& path, ElemType type, const void* data, int64_t rows, int64_t cols,
               const std::string& header) {
  FilePtr f = open_for_writing(path);
  if (!header.empty()) std::fprintf(f.get(), "%s\n", header.c_str());
  const int64_t width = std::max<int64_t>(cols, 1);
  for (int64_t i = 0; i < rows && !std::ferror(f.get()); ++i) {
    for (int64_t j = 0; j < width; ++j) {
      const int64_t k = i * width + j;
      if (j) std::fputc(',', f.get());
      if (type == ElemType::f32) {
        // %.9g round-trips every float32.
        std::fprintf(f.get(), "%.9g", static_cast<double>(static_cast<const float*>(data)[k]));
      } else if (type == ElemType::i32) {
        std::fprintf(f.get(), "%" PRId32, static_cast<const int32_t*>(data)[k]);
      } else {
        std::fprintf(f.get(), "%" PRId64, static_cast<const int64_t*>(data)[k]);
      }
    }
    std::fputc('\n', f.get());
  }
  finish(std::move(f), path);
}

}  // namespace

void write_array(const std::string& path, const std::string& dataset, ElemType type,
                 const void* data, int64_t rows, int64_t cols, const std::string& header) {
  require(rows >= 0 && cols >= 0, path, ": cannot write an array of ", rows, " x ", cols);
  const std::string ext = lower_extension(path);
  if (is_hdf5_extension(ext)) return write_h5(path, dataset, type, data, rows, cols);
  if (ext == ".npy") return write_npy(path, type, data, rows, cols);
  if (ext == ".csv") return write_csv(path, type, data, rows, cols, header);
  throw_error(path, ": unknown output format (expected .h5, .hdf5, .npy or .csv)");
}

}  // namespace embcluster
