// Placeholder until the CUDA K-means backend lands: the device is reported unusable, and
// --device auto falls back to the CPU.
#include "cuda/cuda_backend.h"
#include "embcluster/error.h"

namespace embcluster {

std::unique_ptr<KMeansBackend> make_cuda_kmeans_backend(const KMeansParams&, int) {
  throw_error("the CUDA K-means backend is not part of this build yet");
}

}  // namespace embcluster
