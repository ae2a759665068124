#pragma once
// Per-element distance arithmetic shared by the CPU backend and the CUDA kernels, so that the
// CPU tests check the same operations the GPU runs.
#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define EMB_HD __host__ __device__ __forceinline__
#else
#define EMB_HD inline
#endif

namespace embcluster {
namespace kern {

// sum((a - b)^2) in float, in index order.
EMB_HD float sq_l2(const float* a, const float* b, int64_t d) {
  float s = 0.0f;
  for (int64_t j = 0; j < d; ++j) {
    const float t = a[j] - b[j];
    s = fmaf(t, t, s);  // explicit FMA: the same rounding on every compiler and device
  }
  return s;
}

#if defined(__CUDACC__)
#define EMB_UNROLL _Pragma("unroll")
#else
#define EMB_UNROLL
#endif

// The exact squared distance of K-means: sum((a - b)^2) in float over 32 interleaved lanes. Lane l
// sums the elements l, l + 32, l + 64, ... in index order, then the lanes are added pairwise
// (lane l += lane l + 16, then + 8, + 4, + 2, + 1). Thirty-two independent sums run at the
// machine's speed where sq_l2's one chain waits on every addition; the CPU's vector code
// (cpu/exact_distance.h) gives the same bits.
EMB_HD float sq_l2_lanes(const float* a, const float* b, int64_t d) {
  float acc[32];
  EMB_UNROLL
  for (int l = 0; l < 32; ++l) acc[l] = 0.0f;
  int64_t j = 0;
  for (; j + 32 <= d; j += 32) {
    EMB_UNROLL
    for (int l = 0; l < 32; ++l) {
      const float t = a[j + l] - b[j + l];
      acc[l] = fmaf(t, t, acc[l]);
    }
  }
  EMB_UNROLL
  for (int l = 0; l < 32; ++l) {
    if (j + l < d) {
      const float t = a[j + l] - b[j + l];
      acc[l] = fmaf(t, t, acc[l]);
    }
  }
  EMB_UNROLL
  for (int s = 16; s >= 1; s /= 2) {
    EMB_UNROLL
    for (int l = 0; l < s; ++l) acc[l] += acc[l + s];
  }
  return acc[0];
}

// sum(a^2) in float, in index order.
EMB_HD float sq_norm(const float* a, int64_t d) {
  float s = 0.0f;
  for (int64_t j = 0; j < d; ++j) s = fmaf(a[j], a[j], s);
  return s;
}

// The part of ||x - c||^2 that depends on c, from a dot product: ||c||^2 - 2 x.c.
EMB_HD float partial_sq_dist(float c_norm, float dot) { return fmaf(-2.0f, dot, c_norm); }

// Full squared distance from the expansion, clamped at zero against rounding.
EMB_HD float expanded_sq_dist(float x_norm, float c_norm, float dot) {
  const float v = fmaf(-2.0f, dot, x_norm + c_norm);
  return v > 0.0f ? v : 0.0f;
}

// The shift of one column for reduced-precision GEMMs (rows and centres minus it; distances do not
// change): the centres' mean in that column rounded to a multiple of q, the power of two at most
// a sixteenth of their spread (largest |c - mean|). It takes the column's offset off to within
// q / 2 <= spread / 32, and values on a grid no finer than q stay on it after the shift: centres
// and rows of small integers remain exact in bfloat16 and tf32. Spread 0 (one centre): the mean.
EMB_HD float gemm_shift(double mean, double spread) {
  if (!(spread > 0.0)) return static_cast<float>(mean);
  const double q = exp2(floor(log2(spread)) - 4.0);
  return static_cast<float>(rint(mean / q) * q);
}

// Keeps the better of two (value, index) candidates: the lower value, then the lower index.
EMB_HD bool better(float v, int64_t i, float best_v, int64_t best_i) {
  return v < best_v || (v == best_v && i < best_i);
}

}  // namespace kern
}  // namespace embcluster
