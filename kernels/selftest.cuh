#pragma once
#include <cuda_runtime.h>

#include <cstdint>

namespace embcluster {
namespace kern {
// out[i] = sum_j x[i][j]^2 for the n x d row-major matrix x (device pointers).
void launch_row_sq_norms(const float* x, int64_t n, int64_t d, float* out, cudaStream_t stream);
}  // namespace kern
}  // namespace embcluster
