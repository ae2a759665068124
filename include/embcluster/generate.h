#pragma once
// Gaussian-blob embeddings of any size, written to HDF5 block by block.
#include <cstdint>
#include <functional>
#include <string>

namespace embcluster {

struct GenerateParams {
  int64_t n = 100000;        // rows
  int64_t d = 128;           // columns
  int64_t k = 10;            // blobs
  uint64_t seed = 0;
  double cluster_std = 1.0;  // spread of every blob (scikit-learn make_blobs)
  double center_box = 10.0;  // blob centres uniform in [-center_box, center_box]^d
  std::string out;           // HDF5 file: /data (n x d float32), /labels (n int32), /centers
  bool force = false;        // replace an existing file
};

// Writes the file (under a temporary name, renamed when complete). The rows depend only on the
// seed, not on threads. progress(rows_written) is called after every block.
void generate_blobs(const GenerateParams& params,
                    const std::function<void(int64_t)>& progress = nullptr);

}  // namespace embcluster
