// The panel kernel in AVX2/FMA (this file is compiled with -mavx2 -mfma): micro-tiles of 6 rows x
// 16 centres in twelve ymm accumulators.
#include <immintrin.h>

#include "cpu/panel_dots_isa.h"
#include "cpu/panel_kernel.h"

namespace embcluster {
namespace {

struct Avx2 {
  using V = __m256;
  static constexpr int kLanes = 8, kRows = 6;
  static constexpr int64_t kDepth = kAvx2Depth;
  static V zero() { return _mm256_setzero_ps(); }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static V broadcast(const float* p) { return _mm256_broadcast_ss(p); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
};

static_assert(2 * Avx2::kLanes == kAvx2Width, "panels as panel_width() says");

}  // namespace

void panel_dots_avx2(const float* x, int64_t rows, int64_t d, const float* panels, int64_t k,
                     float* dots, int64_t ld) {
  run_panels<Avx2>(x, rows, d, panels, k, dots, ld);
}

}  // namespace embcluster
