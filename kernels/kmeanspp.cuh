#pragma once
// The arithmetic of a k-means++ round, shared by the host loop (algo/kmeans/kmeans_init.cpp) and
// the CUDA rounds that stay on the device, so that both pick the same rows from the same
// distances.
//
// The sample's rows are cut into chunks of kPlusPlusChunk rows. A chunk's potential is the sum, in
// row order, of weight x distance to the nearest chosen centre; the chunks' potentials are added
// in chunk order (offsets). A draw r in [0, total) picks the first row whose cumulative potential
// (its chunk's offset + the running sum within the chunk) reaches r (passes r with weights, so
// that a row of weight 0 is never picked). Offsets make the draw a search over chunks and a walk
// over one chunk, on the host and on the device alike.
#include <cstdint>

#include "kernels/distance.cuh"
#include "kernels/unit_sums.cuh"

namespace embcluster {
namespace kern {

constexpr int64_t kPlusPlusChunk = 512;

// w x v added to s (w null: weight 1).
EMB_HD double add_weighted(double s, const double* w, int64_t i, float v) {
  return w ? fma_d(w[i], static_cast<double>(v), s) : s + static_cast<double>(v);
}

// Potential of rows [b, e) if a candidate at distance dist[i * stride] from row i were added:
// sum of w_i x min(closest_i, dist_i), in row order.
EMB_HD double chunk_potential(const float* closest, const float* dist, int64_t stride, int64_t b,
                              int64_t e, const double* w) {
  double s = 0.0;
  for (int64_t i = b; i < e; ++i) {
    const float v = dist[i * stride] < closest[i] ? dist[i * stride] : closest[i];
    s = add_weighted(s, w, i, v);
  }
  return s;
}

// The first chunk whose end reaches (upper: passes) r, given off[0..chunks] (off[0] = 0,
// off[c + 1] = off[c] + potential of chunk c); chunks when none does.
EMB_HD int64_t find_chunk(const double* off, int64_t chunks, double r, bool upper) {
  int64_t lo = 0, hi = chunks;  // the answer lies in [lo, hi]
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    const double end = off[mid + 1];
    if (upper ? end > r : end >= r)
      hi = mid;
    else
      lo = mid + 1;
  }
  return lo;
}

// Within one chunk of `count` rows (closest and w from its first row; w may be null) starting at
// offset `off`: the first row whose cumulative potential reaches (upper: passes) r; the last row
// when rounding leaves none.
EMB_HD int64_t walk_chunk(const float* closest, const double* w, int64_t count, double off,
                          double r, bool upper) {
  double part = 0.0;
  for (int64_t i = 0; i < count; ++i) {
    part = add_weighted(part, w, i, closest[i]);
    const double cum = off + part;
    if (upper ? cum > r : cum >= r) return i;
  }
  return count - 1;
}

// The row of [0, m) a draw r picks: the search over the chunks' offsets off[0..chunks], then the
// walk over one chunk of closest (and w, may be null); the last row when r passes every offset.
EMB_HD int64_t draw_row(const double* off, int64_t chunks, const float* closest, const double* w,
                        int64_t m, double r, bool upper) {
  const int64_t ch = find_chunk(off, chunks, r, upper);
  if (ch == chunks) return m - 1;
  const int64_t b = ch * kPlusPlusChunk;
  const int64_t count = (m - b < kPlusPlusChunk) ? m - b : kPlusPlusChunk;
  return b + walk_chunk(closest + b, w ? w + b : nullptr, count, off[ch], r, upper);
}

}  // namespace kern
}  // namespace embcluster
