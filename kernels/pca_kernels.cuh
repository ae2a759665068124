#pragma once
// PCA kernels: rows shifted into double, and their column sums in row order.
#include <cuda_runtime.h>

#include <cstdint>

namespace embcluster {
namespace kern {

// y (rows x d, row-major, double) = x - shift (per column).
void launch_shift_rows(const float* x, int64_t rows, int64_t d, const double* shift, double* y,
                       cudaStream_t stream);

// sums[j] += the sum of y[i * d + j] over i < rows, added in row order (one thread a column):
// the same bits whatever the chunking.
void launch_add_column_sums(const double* y, int64_t rows, int64_t d, double* sums,
                            cudaStream_t stream);

}  // namespace kern
}  // namespace embcluster
