#pragma once
// Host-side entry points of the CUDA metrics (no CUDA types here): the silhouette's backend
// primitive, per-row sums of distances to the rows of each cluster, on a device.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "cpu/cluster_distance_sums.h"

namespace embcluster {

// Sums of distances from query rows to the rows of each cluster of a column set: cuBLAS SGEMM
// tiles turned into distances and reduced at once into per-cluster sums (double), |queries| x k;
// never rows x rows. Columns that fit the device budget stay on the device; larger ones are
// streamed from the host through pinned buffers, a block of columns at a time.
class DeviceClusterSums {
 public:
  // Fraction of the call's work done, in [0, 1].
  using Progress = std::function<void(double)>;

  virtual ~DeviceClusterSums() = default;
  // "NVIDIA H100 80GB HBM3 (cuda:0)".
  virtual std::string device_name() const = 0;

  // The column rows: count x d, row-major, grouped by cluster: the rows of cluster c are the
  // positions [cluster_start[c], cluster_start[c + 1]) (k + 1 entries, ascending). Rows as the
  // distances see them: unit rows for cosine. x must stay valid until the next set_columns (it is
  // read again when the columns are streamed).
  virtual void set_columns(const float* x, int64_t count, const int64_t* cluster_start) = 0;
  // Whether the columns are held on the device (else they are streamed on every call).
  virtual bool columns_resident() const = 0;

  // sums[i * k + c] += the sum of dist(query i, b) over the column rows b of cluster c, for the
  // queries (rows x d, as the columns). self_col (may be null): per query, its own position among
  // the columns, where its distance is 0 whatever the rounding, or -1. For each query row the
  // column tiles are added in column order: the result does not depend on the budget's tiling
  // of the queries.
  virtual void add_sums(const float* queries, int64_t rows, const int64_t* self_col, double* sums,
                        const Progress& progress = nullptr) = 0;

  // sums[p * k + c] += the sum of dist(column p, b) over the column rows b of cluster c, for every
  // column position p (count x k). Resident columns compute each pair of tiles once (the tile
  // serves its rows and, by columns, its columns); streamed columns are their own queries.
  virtual void add_all_pair_sums(double* sums, const Progress& progress = nullptr) = 0;

  // GEMM tile side chosen from the budget, for the report and the tests.
  virtual int64_t tile() const = 0;
};

// The primitive on CUDA device `device` for k clusters of d-dimensional rows. device_budget:
// bytes of device memory to use, 0 = 85% of the free memory (at most 90 %). Throws
// DeviceUnavailable when the device cannot be used (cuda/device_error.h; Error in builds without
// CUDA).
std::unique_ptr<DeviceClusterSums> make_cuda_cluster_sums(int device, TileMetric metric,
                                                          int64_t k, int64_t d,
                                                          int64_t device_budget);

}  // namespace embcluster
