// Exact DBSCAN's CUDA passes in a build without CUDA: the factory reports it.
#include "cuda/cuda_dbscan.h"
#include "embcluster/error.h"

namespace embcluster {

std::unique_ptr<DbscanPasses> make_cuda_dbscan_passes(DbscanTiles&, DbscanState&, int, int64_t,
                                                      int) {
  throw_error(
      "--device: this build has no CUDA backend (configure with "
      "-DEMBCLUSTER_CUDA=ON)");
}

}  // namespace embcluster
