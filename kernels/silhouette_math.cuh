#pragma once
// Per-element arithmetic of the silhouette, shared by the CPU path and the CUDA kernels so that
// the CPU tests check the operations the GPU runs: a distance from the GEMM expansion, and the
// silhouette value of a row from its distance sums per cluster.
#include <cstdint>

#include "kernels/distance.cuh"

namespace embcluster {
namespace kern {

// The distance from a squared distance of the expansion (clamped at 0): euclidean sqrt(v);
// cosine on unit rows, where 1 - a.b = ||a - b||^2 / 2, clipped to [0, 2] as scikit-learn does.
EMB_HD float distance_from_sq(float sq, bool euclidean) {
  return euclidean ? sqrtf(sq) : 0.5f * fminf(sq, 4.0f);
}

// The distance of two rows from their dot product and squared norms (1 for the unit rows of
// cosine): ||x||^2 + ||y||^2 - 2 x.y clamped at 0, then distance_from_sq.
EMB_HD float tile_distance(float x_norm, float y_norm, float dot, bool euclidean) {
  return distance_from_sq(expanded_sq_dist(x_norm, y_norm, dot), euclidean);
}

// s = (b - a) / max(a, b) for a row with mean distance a to its own cluster and b to the nearest
// other one. A row alone in its cluster scores 0, and so does a row with a = b = 0 (scikit-learn
// turns that NaN into 0).
EMB_HD float silhouette_value(double a, double b, bool alone) {
  const double m = a > b ? a : b;
  return alone || !(m > 0) ? 0.0f : static_cast<float>((b - a) / m);
}

// The silhouette of a row from its distance sums to every cluster (k entries: the sum over the
// rows of each cluster, the row itself at distance 0), its cluster `own` and the cluster sizes.
EMB_HD float silhouette_from_sums(const double* sums, int32_t own, const int64_t* sizes,
                                  int64_t k) {
  if (sizes[own] <= 1) return 0.0f;
  const double a = sums[own] / static_cast<double>(sizes[own] - 1);
  double b = 0;
  bool found = false;
  for (int64_t c = 0; c < k; ++c) {
    if (c == own) continue;
    const double mean = sums[c] / static_cast<double>(sizes[c]);
    if (!found || mean < b) b = mean;
    found = true;
  }
  return silhouette_value(a, b, false);
}

}  // namespace kern
}  // namespace embcluster
