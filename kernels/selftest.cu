// A small kernel run by `embcluster info` to check that the device computes what the CPU does.
#include "kernels/distance.cuh"
#include "kernels/launch.cuh"
#include "kernels/selftest.cuh"

namespace embcluster {
namespace kern {

__global__ void row_sq_norms(const float* x, int64_t n, int64_t d, float* out) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i < n) out[i] = sq_norm(x + i * d, d);
}

void launch_row_sq_norms(const float* x, int64_t n, int64_t d, float* out, cudaStream_t stream) {
  if (n <= 0) return;  // no rows: no launch (a grid of 0 blocks is an error)
  const int threads = 128;
  row_sq_norms<<<blocks_for(n, threads), threads, 0, stream>>>(x, n, d, out);
  EMB_CUDA_LAUNCH("row_sq_norms");
}

}  // namespace kern
}  // namespace embcluster
