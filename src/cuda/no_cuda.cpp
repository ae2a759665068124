// Entry points of the CUDA backend in a build without CUDA.
#include "cuda/cuda_backend.h"
#include "embcluster/device.h"
#include "embcluster/error.h"

namespace embcluster {

bool cuda_built() { return false; }
std::vector<DeviceInfo> cuda_devices() { return {}; }
std::string cuda_self_test(int) { return "this build has no CUDA backend"; }

std::unique_ptr<KMeansBackend> make_cuda_kmeans_backend(const KMeansParams&,
                                                        const ExecutionContext&, int) {
  throw_error("--device: this build has no CUDA backend (configure with -DEMBCLUSTER_CUDA=ON)");
}

}  // namespace embcluster
