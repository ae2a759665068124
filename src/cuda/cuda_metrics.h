#pragma once
// Host-side entry points of the CUDA metrics (no CUDA types here): the silhouette's backend
// primitive (backend/cluster_sums.h), per-row sums of distances to the rows of each cluster, on a
// device.
#include <cstdint>
#include <memory>

#include "backend/cluster_sums.h"

namespace embcluster {

// Sums of distances from query rows to the rows of each cluster of a column set: cuBLAS SGEMM
// tiles turned into distances and reduced at once into per-cluster sums (double), |queries| x k;
// never rows x rows. The column set is grouped by cluster as a whole (layout().span == 0: one
// span). Columns that fit the device budget stay on the device; larger ones are streamed from
// the host through pinned buffers, a block of columns at a time. Resident columns compute each
// pair of tiles once in add_all_pair_sums (the tile serves its rows and, by columns, its
// columns); streamed columns are their own queries.
class DeviceClusterSums : public ClusterDistanceSums {
 public:
  // Whether the columns are held on the device (else they are streamed on every call).
  virtual bool columns_resident() const = 0;
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
