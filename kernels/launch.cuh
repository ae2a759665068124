#pragma once
// Launch geometry shared by the kernels, and the check after every launch: EMB_CUDA_LAUNCH(name)
// throws CudaError naming the kernel when the launch failed, and with EMBCLUSTER_CUDA_SYNC=1 in
// the environment also synchronises, so that a fault in the kernel is reported at its name.
#include <cstdint>

#include "cuda/cuda_check.h"

namespace embcluster {
namespace kern {

// Blocks of per_block threads covering n items: at least 1, at most the grid's x limit (2^31 - 1).
inline unsigned blocks_for(int64_t n, int per_block) {
  const int64_t b = (n + per_block - 1) / per_block;
  return static_cast<unsigned>(b < 1 ? 1 : (b > 2147483647 ? 2147483647 : b));
}

}  // namespace kern
}  // namespace embcluster
