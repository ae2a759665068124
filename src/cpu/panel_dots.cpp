#include "cpu/panel_dots.h"

#include <immintrin.h>

#include <algorithm>

namespace embcluster {
namespace {

constexpr int kRows = 6;  // rows per micro-kernel: 6 x 16 dots in twelve registers
// Dimensions per pass over the panels: a panel's slice (kDepth x 16) stays in the first cache.
constexpr int64_t kDepth = 256;

// Dots of six rows (x[r] points at row r's first dimension of the slice) with one panel of 16
// centres into out (stride ld; the first `rows` rows and `cols` columns kept). Twelve named
// accumulators, so that they live in registers; the rows are read where they are.
__attribute__((target("avx2,fma"))) void micro_kernel(const float* const* x, int64_t d,
                                                      const float* panel, float* out, int64_t ld,
                                                      int64_t cols, int64_t rows, bool add) {
  __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  const float *x0 = x[0], *x1 = x[1], *x2 = x[2], *x3 = x[3], *x4 = x[4], *x5 = x[5];
  for (int64_t t = 0; t < d; ++t, panel += kPanel) {
    const __m256 b0 = _mm256_loadu_ps(panel);
    const __m256 b1 = _mm256_loadu_ps(panel + 8);
    __m256 a = _mm256_broadcast_ss(x0 + t);
    c00 = _mm256_fmadd_ps(a, b0, c00);
    c01 = _mm256_fmadd_ps(a, b1, c01);
    a = _mm256_broadcast_ss(x1 + t);
    c10 = _mm256_fmadd_ps(a, b0, c10);
    c11 = _mm256_fmadd_ps(a, b1, c11);
    a = _mm256_broadcast_ss(x2 + t);
    c20 = _mm256_fmadd_ps(a, b0, c20);
    c21 = _mm256_fmadd_ps(a, b1, c21);
    a = _mm256_broadcast_ss(x3 + t);
    c30 = _mm256_fmadd_ps(a, b0, c30);
    c31 = _mm256_fmadd_ps(a, b1, c31);
    a = _mm256_broadcast_ss(x4 + t);
    c40 = _mm256_fmadd_ps(a, b0, c40);
    c41 = _mm256_fmadd_ps(a, b1, c41);
    a = _mm256_broadcast_ss(x5 + t);
    c50 = _mm256_fmadd_ps(a, b0, c50);
    c51 = _mm256_fmadd_ps(a, b1, c51);
  }
  const __m256 acc[kRows][2] = {{c00, c01}, {c10, c11}, {c20, c21},
                                {c30, c31}, {c40, c41}, {c50, c51}};
  for (int64_t r = 0; r < rows; ++r) {
    float* o = out + r * ld;
    if (cols == kPanel) {
      _mm256_storeu_ps(o, add ? _mm256_add_ps(_mm256_loadu_ps(o), acc[r][0]) : acc[r][0]);
      _mm256_storeu_ps(o + 8, add ? _mm256_add_ps(_mm256_loadu_ps(o + 8), acc[r][1]) : acc[r][1]);
    } else {
      alignas(32) float tmp[kPanel];
      _mm256_store_ps(tmp, acc[r][0]);
      _mm256_store_ps(tmp + 8, acc[r][1]);
      for (int64_t j = 0; j < cols; ++j) o[j] = add ? o[j] + tmp[j] : tmp[j];
    }
  }
}

}  // namespace

bool panel_dots_available() {
  static const bool ok = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return ok;
}

void pack_panels(const float* c, int64_t k, int64_t d, std::vector<float>* out) {
  const int64_t panels = (k + kPanel - 1) / kPanel;
  out->assign(static_cast<size_t>(panels * d * kPanel), 0.0f);
  for (int64_t j = 0; j < k; ++j) {
    float* p = out->data() + (j / kPanel) * d * kPanel + j % kPanel;
    for (int64_t t = 0; t < d; ++t) p[t * kPanel] = c[j * d + t];
  }
}

void panel_dots(const float* x, int64_t rows, int64_t d, const float* panels, int64_t k,
                float* dots, int64_t ld) {
  // Slice by slice of kDepth dimensions and panel by panel: one panel's slice stays in the core's
  // first cache while every group of six rows passes it. The rows are read in place (a last group
  // of fewer than six repeats its last row; those dots are not kept).
  const int64_t blocks = (rows + kRows - 1) / kRows;
  for (int64_t t0 = 0; t0 < d; t0 += kDepth) {
    const int64_t len = std::min(kDepth, d - t0);
    for (int64_t j0 = 0; j0 < k; j0 += kPanel) {
      const float* panel = panels + (j0 / kPanel) * d * kPanel + t0 * kPanel;
      for (int64_t b = 0; b < blocks; ++b) {
        const float* six[kRows];
        for (int64_t r = 0; r < kRows; ++r) six[r] = x + std::min(b * kRows + r, rows - 1) * d + t0;
        micro_kernel(six, len, panel, dots + b * kRows * ld + j0, ld, std::min(kPanel, k - j0),
                     std::min<int64_t>(kRows, rows - b * kRows), t0 > 0);
      }
    }
  }
}

}  // namespace embcluster
