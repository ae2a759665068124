// The panel kernel in AVX-512F (this file is compiled with -mavx512f): micro-tiles of 12 rows x
// 32 centres in 24 of the 32 zmm registers.
#include <immintrin.h>

#include "cpu/panel_dots_isa.h"
#include "cpu/panel_kernel.h"

namespace embcluster {
namespace {

struct Avx512 {
  using V = __m512;
  static constexpr int kLanes = 16, kRows = kAvx512Rows;
  static constexpr int64_t kDepth = kAvx512Depth;
  static V zero() { return _mm512_setzero_ps(); }
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static V broadcast(const float* p) { return _mm512_set1_ps(*p); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
};

static_assert(2 * Avx512::kLanes == kAvx512Width, "panels as panel_width() says");

}  // namespace

void panel_dots_avx512(const float* x, int64_t rows, int64_t d, const float* panels, int64_t k,
                       float* dots, int64_t ld) {
  run_panels<Avx512>(x, rows, d, panels, k, dots, ld);
}

}  // namespace embcluster
