// PCA kernels: rows shifted into double, and their column sums in row order.
#include "kernels/launch.cuh"
#include "kernels/pca_kernels.cuh"

namespace embcluster {
namespace kern {
namespace {

constexpr int kThreads = 256;

__global__ void shift_rows_kernel(const float* x, int64_t n, int64_t d, const double* shift,
                                  double* y) {
  const int64_t t = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = t; i < n; i += stride) y[i] = static_cast<double>(x[i]) - shift[i % d];
}

__global__ void add_column_sums_kernel(const double* y, int64_t rows, int64_t d, double* sums) {
  const int64_t j = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (j >= d) return;
  double s = sums[j];
  for (int64_t i = 0; i < rows; ++i) s += y[i * d + j];
  sums[j] = s;
}

}  // namespace

void launch_shift_rows(const float* x, int64_t rows, int64_t d, const double* shift, double* y,
                       cudaStream_t s) {
  const int64_t n = rows * d;
  shift_rows_kernel<<<blocks_for(n < (int64_t(1) << 26) ? n : (int64_t(1) << 26), kThreads),
                      kThreads, 0, s>>>(x, n, d, shift, y);
  EMB_CUDA_LAUNCH("shift_rows_kernel");
}

void launch_add_column_sums(const double* y, int64_t rows, int64_t d, double* sums,
                            cudaStream_t s) {
  add_column_sums_kernel<<<blocks_for(d, kThreads), kThreads, 0, s>>>(y, rows, d, sums);
  EMB_CUDA_LAUNCH("add_column_sums_kernel");
}

}  // namespace kern
}  // namespace embcluster
