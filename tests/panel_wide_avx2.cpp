// The AVX-512 kernel's logic (panels of 32 centres, micro-tiles of kAvx512Rows rows, slices of
// kAvx512Depth) run with AVX2 instructions: cpu/panel_kernel.h instantiated with a 16-lane
// vector made of two ymm registers. A CPU without AVX-512 checks the panel layout and the
// indexing of the wide kernel this way. Compiled with -mavx2 -mfma; call only where the CPU has
// them.
#include <immintrin.h>

#include "cpu/panel_dots_isa.h"
#include "cpu/panel_kernel.h"

namespace embcluster {
namespace {

struct Pair {
  __m256 a, b;
};

struct WideOnAvx2 {
  using V = Pair;
  static constexpr int kLanes = 16, kRows = kAvx512Rows;
  static constexpr int64_t kDepth = kAvx512Depth;
  static V zero() { return {_mm256_setzero_ps(), _mm256_setzero_ps()}; }
  static V load(const float* p) { return {_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8)}; }
  static V broadcast(const float* p) { return {_mm256_broadcast_ss(p), _mm256_broadcast_ss(p)}; }
  static V fma(V x, V y, V z) {
    return {_mm256_fmadd_ps(x.a, y.a, z.a), _mm256_fmadd_ps(x.b, y.b, z.b)};
  }
  static V add(V x, V y) { return {_mm256_add_ps(x.a, y.a), _mm256_add_ps(x.b, y.b)}; }
  static void store(float* p, V v) {
    _mm256_storeu_ps(p, v.a);
    _mm256_storeu_ps(p + 8, v.b);
  }
};

static_assert(2 * WideOnAvx2::kLanes == kAvx512Width, "the AVX-512 kernel's panels");

}  // namespace

void panel_dots_wide_on_avx2(const float* x, int64_t rows, int64_t d, const float* panels,
                             int64_t k, float* dots, int64_t ld) {
  run_panels<WideOnAvx2>(x, rows, d, panels, k, dots, ld);
}

}  // namespace embcluster
