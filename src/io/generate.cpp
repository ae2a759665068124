#include "embcluster/generate.h"

#include <hdf5.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <vector>

#include "core/rng.h"
#include "embcluster/error.h"
#include "io/h5_handle.h"
#include "io/safe_file.h"

namespace embcluster {
namespace {

constexpr int64_t kChunkRows = 4096;  // one random stream per chunk: independent of threads

void fill_chunk(const GenerateParams& p, const std::vector<float>& centres, int64_t chunk,
                int64_t rows, float* x, int32_t* labels) {
  Rng rng(p.seed, 1000 + static_cast<uint64_t>(chunk));
  for (int64_t i = 0; i < rows; ++i) {
    const int64_t c = static_cast<int64_t>(rng.below(static_cast<uint64_t>(p.k)));
    labels[i] = static_cast<int32_t>(c);
    for (int64_t j = 0; j < p.d; ++j)
      x[i * p.d + j] = static_cast<float>(centres[c * p.d + j] + p.cluster_std * rng.normal());
  }
}

void check_params(const GenerateParams& p) {
  require(p.n >= 1, "--n must be at least 1");
  require(p.d >= 1, "--d must be at least 1");
  require(p.k >= 1 && p.k <= p.n, "--k must be between 1 and --n");
  require(p.k <= INT32_MAX, "--k is too large");
  require(p.cluster_std >= 0, "--cluster-std must be >= 0");
  require(!p.out.empty(), "--out: an output file is required");
  require(p.force || !std::filesystem::exists(p.out), p.out, " exists (use --force to overwrite)");
}

// k x d centres, uniform in [-center_box, center_box).
std::vector<float> make_centres(const GenerateParams& p) {
  std::vector<float> centres(static_cast<size_t>(p.k * p.d));
  Rng crng(p.seed, 1);
  for (auto& c : centres) c = static_cast<float>((crng.uniform() * 2 - 1) * p.center_box);
  return centres;
}

// A chunked dataset of the given rank (1 or 2); the returned id is negative on failure.
H5Id create_chunked(const H5Id& file, const char* path, hid_t type, int rank, const hsize_t* dims,
                    const hsize_t* chunk_dims) {
  H5Id space{H5Screate_simple(rank, dims, nullptr)};
  H5Id dcpl{H5Pcreate(H5P_DATASET_CREATE)};
  H5Pset_chunk(dcpl.get(), rank, chunk_dims);
  return H5Id{
      H5Dcreate2(file.get(), path, type, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT)};
}

// Writes count rows of a 1-D or 2-D dataset starting at row start (cnt[0] rows, cnt[1] columns).
bool write_rows(const H5Id& set, hid_t mem_type, int rank, hsize_t start, const hsize_t* cnt,
                const void* buf) {
  hsize_t off[2] = {start, 0};
  H5Id fspace{H5Dget_space(set.get())};
  H5Sselect_hyperslab(fspace.get(), H5S_SELECT_SET, off, nullptr, cnt, nullptr);
  H5Id mspace{H5Screate_simple(rank, cnt, nullptr)};
  return H5Dwrite(set.get(), mem_type, mspace.get(), fspace.get(), H5P_DEFAULT, buf) >= 0;
}

// Generates the points and their labels block by block into /data and /labels.
void write_points(const GenerateParams& p, const std::vector<float>& centres, const H5Id& data,
                  const H5Id& labels, const std::function<void(int64_t)>& progress) {
  const int64_t block =
      std::max<int64_t>(kChunkRows, (int64_t(64) << 20) / (4 * p.d)) / kChunkRows * kChunkRows;
  std::vector<float> x(static_cast<size_t>(std::min(block, p.n) * p.d));
  std::vector<int32_t> lab(static_cast<size_t>(std::min(block, p.n)));
  for (int64_t start = 0; start < p.n; start += block) {
    const int64_t rows = std::min(block, p.n - start);
    const int64_t chunks = (rows + kChunkRows - 1) / kChunkRows;
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t c = 0; c < chunks; ++c) {
      const int64_t r0 = c * kChunkRows, cr = std::min(kChunkRows, rows - r0);
      fill_chunk(p, centres, start / kChunkRows + c, cr, x.data() + r0 * p.d, lab.data() + r0);
    }
    const hsize_t cnt[2] = {hsize_t(rows), hsize_t(p.d)};
    require(write_rows(data, H5T_NATIVE_FLOAT, 2, hsize_t(start), cnt, x.data()), p.out,
            ": write failed at row ", start);
    require(write_rows(labels, H5T_NATIVE_INT32, 1, hsize_t(start), cnt, lab.data()), p.out,
            ": write failed at row ", start);
    if (progress) progress(start + rows);
  }
}

// Writes the whole HDF5 file (/data, /labels, /centers) to path; call with h5_mutex() held.
void write_file(const GenerateParams& p, const std::string& path, const std::vector<float>& centres,
                const std::function<void(int64_t)>& progress) {
  // Exclusive: an existing file or a link planted at the temporary name is an error, never followed.
  H5Id file{H5Fcreate(path.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, H5P_DEFAULT)};
  require(file.get() >= 0, p.out, ": cannot create the file");
  const int64_t chunk_rows = std::max<int64_t>(1, std::min<int64_t>(p.n, (1 << 20) / (4 * p.d)));
  const hsize_t dims[2] = {hsize_t(p.n), hsize_t(p.d)},
                cdims[2] = {hsize_t(chunk_rows), hsize_t(p.d)};
  H5Id data = create_chunked(file, "/data", H5T_IEEE_F32LE, 2, dims, cdims);
  const hsize_t lcdims[1] = {hsize_t(std::min<int64_t>(p.n, 1 << 18))};
  H5Id labels = create_chunked(file, "/labels", H5T_STD_I32LE, 1, dims, lcdims);
  require(data.get() >= 0 && labels.get() >= 0, p.out, ": cannot create datasets");

  write_points(p, centres, data, labels, progress);

  const hsize_t cd[2] = {hsize_t(p.k), hsize_t(p.d)};
  H5Id cspace{H5Screate_simple(2, cd, nullptr)};
  H5Id cset{H5Dcreate2(file.get(), "/centers", H5T_IEEE_F32LE, cspace.get(), H5P_DEFAULT,
                       H5P_DEFAULT, H5P_DEFAULT)};
  require(cset.get() >= 0 && H5Dwrite(cset.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                                      centres.data()) >= 0,
          p.out, ": cannot write /centers");
}

}  // namespace

void generate_blobs(const GenerateParams& p, const std::function<void(int64_t)>& progress) {
  check_params(p);
  const std::string tmp = p.out + ".tmp-" + std::to_string(getpid()) + "-" + random_suffix();
  const std::vector<float> centres = make_centres(p);

  // The whole file is written under the HDF5 lock (generation happens between the writes).
  std::unique_lock<std::mutex> lock(h5_mutex());
  h5_quiet();
  try {
    write_file(p, tmp, centres, progress);
  } catch (...) {
    lock.unlock();
    std::remove(tmp.c_str());
    throw;
  }
  lock.unlock();
  std::error_code ec;
  std::filesystem::rename(tmp, p.out, ec);
  if (ec) {
    std::remove(tmp.c_str());
    throw_error(p.out, ": cannot rename the finished file into place: ", ec.message());
  }
}

}  // namespace embcluster
