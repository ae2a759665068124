// The CUDA metrics in a build without CUDA: no device to run on.
#include "cuda/cuda_metrics.h"
#include "embcluster/error.h"

namespace embcluster {

std::unique_ptr<DeviceClusterSums> make_cuda_cluster_sums(int, TileMetric, int64_t, int64_t,
                                                          int64_t) {
  throw_error("--device: this build has no CUDA backend (configure with -DEMBCLUSTER_CUDA=ON)");
}

}  // namespace embcluster
