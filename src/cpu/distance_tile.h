#pragma once
// The CPU's distance tile: squared euclidean distances between two row blocks through one BLAS
// sgemm (||x||^2 + ||y||^2 - 2 x.y, clamped at 0). Single-threaded: callers parallelise over
// tiles with OpenMP (the entry points hold ThreadGuard(threads, 1), single-threaded BLAS).
#include <cstdint>

namespace embcluster {

// Squared norms of the n rows of x (n x d) into out.
void row_sq_norms(const float* x, int64_t n, int64_t d, float* out);

// out (n x m, row-major, leading dimension m) = squared distances between the rows of x (n x d)
// and y (m x d), given their squared norms.
void sq_distance_tile(const float* x, int64_t n, const float* x_norms, const float* y, int64_t m,
                      const float* y_norms, int64_t d, float* out);

// The same for a few rows y (m up to a dozen or so): one read of each row of x and no packing,
// where a BLAS sgemm would spend its time copying x. For k-means++ candidates.
void sq_distances_to_few(const float* x, int64_t n, const float* x_norms, const float* y, int64_t m,
                         const float* y_norms, int64_t d, float* out);

}  // namespace embcluster
