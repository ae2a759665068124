// Exact DBSCAN's CUDA passes in a build without CUDA: the constructor reports it.
#include "cuda/cuda_dbscan.h"
#include "embcluster/error.h"

namespace embcluster {

struct CudaDbscanPasses::Impl {};

CudaDbscanPasses::CudaDbscanPasses(DbscanTiles&, DbscanState&, int, int64_t, int) {
  throw_error("--device: this build has no CUDA backend (configure with -DEMBCLUSTER_CUDA=ON)");
}

CudaDbscanPasses::~CudaDbscanPasses() = default;

DBSCANPassStats CudaDbscanPasses::run(DbscanPass, const PhaseProgress&) { return {}; }

std::string CudaDbscanPasses::device_name() const { return "cpu"; }

std::vector<std::pair<std::string, std::string>> CudaDbscanPasses::notes() const { return {}; }

}  // namespace embcluster
