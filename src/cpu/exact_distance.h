#pragma once
// K-means' exact squared distance on the CPU: kern::sq_l2_lanes (kernels/distance.cuh) in AVX2,
// bit for bit. Every decision between two centres compares these values, whichever path (sgemm
// tile or bounds) computed them.
#include <cstdint>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

#include "kernels/distance.cuh"

namespace embcluster {

inline float exact_sq_l2(const float* a, const float* b, int64_t d) {
#if defined(__AVX2__) && defined(__FMA__)
  // Four registers hold lanes 0-7, 8-15, 16-23 and 24-31.
  __m256 v0 = _mm256_setzero_ps(), v1 = v0, v2 = v0, v3 = v0;
  int64_t j = 0;
  for (; j + 32 <= d; j += 32) {
    const __m256 t0 = _mm256_sub_ps(_mm256_loadu_ps(a + j), _mm256_loadu_ps(b + j));
    const __m256 t1 = _mm256_sub_ps(_mm256_loadu_ps(a + j + 8), _mm256_loadu_ps(b + j + 8));
    const __m256 t2 = _mm256_sub_ps(_mm256_loadu_ps(a + j + 16), _mm256_loadu_ps(b + j + 16));
    const __m256 t3 = _mm256_sub_ps(_mm256_loadu_ps(a + j + 24), _mm256_loadu_ps(b + j + 24));
    v0 = _mm256_fmadd_ps(t0, t0, v0);
    v1 = _mm256_fmadd_ps(t1, t1, v1);
    v2 = _mm256_fmadd_ps(t2, t2, v2);
    v3 = _mm256_fmadd_ps(t3, t3, v3);
  }
  if (j < d) {
    // The last partial group: absent elements load as 0, and fma(0, 0, s) = s for s >= 0.
    const __m256i ramp = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const int r = static_cast<int>(d - j);
    __m256* v[4] = {&v0, &v1, &v2, &v3};
    for (int q = 0; q < 4 && 8 * q < r; ++q) {
      const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(r - 8 * q), ramp);
      const __m256 t =
          _mm256_sub_ps(_mm256_maskload_ps(a + j + 8 * q, m), _mm256_maskload_ps(b + j + 8 * q, m));
      *v[q] = _mm256_fmadd_ps(t, t, *v[q]);
    }
  }
  v0 = _mm256_add_ps(v0, v2);  // lane l += lane l + 16
  v1 = _mm256_add_ps(v1, v3);
  v0 = _mm256_add_ps(v0, v1);                                                       // + 8
  __m128 q = _mm_add_ps(_mm256_castps256_ps128(v0), _mm256_extractf128_ps(v0, 1));  // + 4
  q = _mm_add_ps(q, _mm_movehl_ps(q, q));                                           // + 2
  q = _mm_add_ss(q, _mm_shuffle_ps(q, q, 1));                                       // + 1
  return _mm_cvtss_f32(q);
#else
  return kern::sq_l2_lanes(a, b, d);
#endif
}

}  // namespace embcluster
