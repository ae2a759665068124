#include "cpu/distance_tile.h"

#include <cblas.h>

#include "kernels/distance.cuh"

namespace embcluster {

void row_sq_norms(const float* x, int64_t n, int64_t d, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = kern::sq_norm(x + i * d, d);
}

void sq_distance_tile(const float* x, int64_t n, const float* x_norms, const float* y, int64_t m,
                      const float* y_norms, int64_t d, float* out) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(n), static_cast<int>(m),
              static_cast<int>(d), 1.0f, x, static_cast<int>(d), y, static_cast<int>(d), 0.0f, out,
              static_cast<int>(m));
  for (int64_t i = 0; i < n; ++i) {
    float* row = out + i * m;
    const float xn = x_norms[i];
#pragma omp simd
    for (int64_t j = 0; j < m; ++j) row[j] = kern::expanded_sq_dist(xn, y_norms[j], row[j]);
  }
}

}  // namespace embcluster
