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

void sq_distances_to_few(const float* x, int64_t n, const float* x_norms, const float* y, int64_t m,
                         const float* y_norms, int64_t d, float* out) {
  for (int64_t i = 0; i < n; ++i) {
    const float* r = x + i * d;
    float* o = out + i * m;
    int64_t j = 0;
    for (; j + 4 <= m; j += 4) {  // four rows of y per pass over r
      const float *a = y + j * d, *b = a + d, *c = b + d, *e = c + d;
      float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
#pragma omp simd reduction(+ : s0, s1, s2, s3)
      for (int64_t t = 0; t < d; ++t) {
        const float v = r[t];
        s0 += v * a[t];
        s1 += v * b[t];
        s2 += v * c[t];
        s3 += v * e[t];
      }
      o[j] = kern::expanded_sq_dist(x_norms[i], y_norms[j], s0);
      o[j + 1] = kern::expanded_sq_dist(x_norms[i], y_norms[j + 1], s1);
      o[j + 2] = kern::expanded_sq_dist(x_norms[i], y_norms[j + 2], s2);
      o[j + 3] = kern::expanded_sq_dist(x_norms[i], y_norms[j + 3], s3);
    }
    for (; j < m; ++j) {
      const float* a = y + j * d;
      float s0 = 0;
#pragma omp simd reduction(+ : s0)
      for (int64_t t = 0; t < d; ++t) s0 += r[t] * a[t];
      o[j] = kern::expanded_sq_dist(x_norms[i], y_norms[j], s0);
    }
  }
}

}  // namespace embcluster
