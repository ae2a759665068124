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

// Keeps the better of two (value, index) candidates: the lower value, then the lower index.
EMB_HD bool better(float v, int64_t i, float best_v, int64_t best_i) {
  return v < best_v || (v == best_v && i < best_i);
}

}  // namespace kern
}  // namespace embcluster
