#pragma once
// DBSCAN's per-element arithmetic and union-find steps, shared by the CPU passes and the CUDA
// kernels so that the CPU tests check the same decisions the GPU makes:
// - whether a pair of rows lies within eps (expanded GEMM distance, recomputed by the direct sum
//   inside the rounding band around eps^2, so every decision is the direct sum's);
// - whether a pair of tiles is far apart, entirely within eps, or mixed (tile bounds);
// - find with path halving and union by linking the larger root under the smaller (lock-free:
//   every step is a load or a compare-and-swap through a parent accessor).
// No CUDA headers: usable from plain C++.
#include <cstdint>

#include "kernels/distance.cuh"

namespace embcluster {
namespace kern {

// Half-width of the band around eps^2 inside which an expanded squared distance between rows of
// squared norms na and nb is recomputed directly; scale is rounding_scale(d) (dbscan_tiles.h).
EMB_HD float dbscan_band(float scale, float na, float nb) { return scale * (na + nb); }

// The squared distance that decides a pair: the expanded value v, or the direct sum over the d
// coordinates of x and y when v lies in [lo, hi], where the expansion's rounding could put it on
// the wrong side of eps^2.
EMB_HD float settled_sq_dist(float v, float lo, float hi, const float* x, const float* y,
                             int64_t d) {
  return (v >= lo && v <= hi) ? sq_l2(x, y, d) : v;
}

// True when rows x and y (squared norms nx, ny; dot product dot from a GEMM tile) lie within eps:
// their directly summed squared distance is <= eps2.
EMB_HD bool dbscan_within(float dot, float nx, float ny, float eps2, float scale, const float* x,
                          const float* y, int64_t d) {
  const float e = dbscan_band(scale, nx, ny);
  return settled_sq_dist(expanded_sq_dist(nx, ny, dot), eps2 - e, eps2 + e, x, y, d) <= eps2;
}

// How a pair of tiles relates to eps, from their bounds: centres c2 apart (squared), radii ra
// and rb, largest squared row norms na and nb; err_scale is rounding_scale(d). The margins cover
// the float rounding of computed distances, so a pair called far (near) is also far (near) by the
// distances the passes compute: skipping such pairs never changes a result.
enum TilePairKind : int { kTilesFar = 0, kTilesNear = 1, kTilesMixed = 2 };

EMB_HD int tile_pair_kind(double c2, double ra, double rb, double na, double nb, double eps2,
                          double err_scale) {
  const double dc = sqrt(c2);
  const double err = err_scale * (na + nb) + 1e-30;
  const double lo = dc - ra - rb;
  if (lo > 0 && lo * lo * (1 - 1e-12) - err > eps2) return kTilesFar;
  const double hi = dc + ra + rb;
  if (hi * hi * (1 + 1e-12) + err < eps2) return kTilesNear;
  return kTilesMixed;
}

// Union-find over row indices through a parent accessor P with
//   I load(I i)                       the current parent of i;
//   void halve(I i, I expect, I to)   parent[i] = to if it is still expect (may fail);
//   bool link(I i, I expect, I to)    the same, returning whether it happened.
// Every parent is <= its child, so a set's root is always its lowest member whatever order the
// unions run in (the final partition and its roots are deterministic).

// The current root of x's set (a member that was a root at some moment during the call).
template <class P, class I>
EMB_HD I uf_find(P& parents, I x) {
  for (;;) {
    I p = parents.load(x);
    if (p == x) return x;
    const I g = parents.load(p);
    if (g == p) return p;
    parents.halve(x, p, g);  // path halving: x now points at an ancestor, still in its set
    x = g;
  }
}

// Joins the sets of a and b by linking the larger root under the smaller. Returns true when they
// were separate.
template <class P, class I>
EMB_HD bool uf_unite(P& parents, I a, I b) {
  for (;;) {
    a = uf_find(parents, a);
    b = uf_find(parents, b);
    if (a == b) return false;
    if (a > b) {
      const I t = a;
      a = b;
      b = t;
    }
    // b may have stopped being a root meanwhile: then retry from the new roots.
    if (parents.link(b, b, a)) return true;
  }
}

}  // namespace kern
}  // namespace embcluster
