#include "cpu/kmeans_tiles.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <limits>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

#include "cpu/exact_distance.h"
#include "cpu/panel_dots.h"
#include "kernels/distance.cuh"

namespace embcluster {
namespace {

constexpr int64_t kTileValues = int64_t(1) << 19;  // rows x k values of a tile: 2 MiB
// rows x d data values of a tile: 256 KiB, so that the tile's rows are still in the core's cache
// when their sums are added.
constexpr int64_t kTileData = int64_t(1) << 16;
// An exact distance costs about this many dot products of the tile kernel of the same length: a
// tile whose open groups would need more exact distances than this fraction of rows x k goes to
// dots_tile.
constexpr double kExactCost = 3.0;
constexpr float kInf = std::numeric_limits<float>::infinity();

// v[j] = ||c_j||^2 - 2 x.c_j in place (the tile holds x.c_j); returns the least.
float to_partial(float* v, const float* cn, int64_t m) {
  float least = kInf;
  int64_t j = 0;
#if defined(__AVX2__) && defined(__FMA__)
  // The same single rounding as kern::partial_sq_dist: fma(-2, dot, c_norm).
  const __m256 two = _mm256_set1_ps(2.0f);
  __m256 m8 = _mm256_set1_ps(kInf);
  for (; j + 8 <= m; j += 8) {
    const __m256 p = _mm256_fnmadd_ps(two, _mm256_loadu_ps(v + j), _mm256_loadu_ps(cn + j));
    _mm256_storeu_ps(v + j, p);
    m8 = _mm256_min_ps(m8, p);
  }
  float lanes[8];
  _mm256_storeu_ps(lanes, m8);
  for (float l : lanes) least = std::min(least, l);
#endif
  for (; j < m; ++j) {
    v[j] = kern::partial_sq_dist(cn[j], v[j]);
    least = std::min(least, v[j]);
  }
  return least;
}

// The positions j with v[j] <= thr into out; returns how many.
int64_t within(const float* v, int64_t m, float thr, int32_t* out) {
  int64_t n = 0, j = 0;
#if defined(__AVX2__)
  const __m256 t8 = _mm256_set1_ps(thr);
  for (; j + 8 <= m; j += 8) {
    int mask = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(v + j), t8, _CMP_LE_OQ));
    while (mask) {
      const int l = __builtin_ctz(mask);
      out[n++] = static_cast<int32_t>(j + l);
      mask &= mask - 1;
    }
  }
#endif
  for (; j < m; ++j)
    if (v[j] <= thr) out[n++] = static_cast<int32_t>(j);
  return n;
}

float range_min(const float* v, int64_t a, int64_t b) {
  float least = kInf;
  int64_t j = a;
#if defined(__AVX2__)
  if (b - a >= 16) {
    __m256 m8 = _mm256_set1_ps(kInf);
    for (; j + 8 <= b; j += 8) m8 = _mm256_min_ps(m8, _mm256_loadu_ps(v + j));
    float lanes[8];
    _mm256_storeu_ps(lanes, m8);
    for (float l : lanes) least = std::min(least, l);
  }
#endif
  for (; j < b; ++j) least = std::min(least, v[j]);
  return least;
}

// Largest float <= v (v >= 0).
float round_down(double v) {
  float f = static_cast<float>(v);
  if (static_cast<double>(f) > v) f = std::nextafter(f, 0.0f);
  return f;
}

// A lower bound on a distance (not squared) from a lower bound on its square.
float lower_from_sq(double sq) { return sq > 0 ? round_down(std::sqrt(sq)) : 0.0f; }

// The rounding margin of the dot-product values of a row of squared norm xn: a centre whose value
// lies farther than this above the least cannot be the nearest by exact_sq_l2. Both the dot-product
// value (any summation order: gamma_d (||c||^2 + 2 ||x|| ||c||)) and exact_sq_l2 (rel_err times the
// distance) are within rel_err (||x|| + cmax)^2; the factor 8 covers both ends twice over.
double margin(const PassCentres& pc, double xn) {
  const double r = std::sqrt(xn) + pc.cmax;
  return 8.0 * pc.rel_err * r * r;
}

// The centre position of least exact distance among cand[0, n) (lowest centre index on ties);
// every exact distance into ex[position]. Returns the position; *best_d gets its distance.
int32_t least_exact(const float* xr, const PassCentres& pc, const int32_t* cand, int64_t n,
                    float* ex, float* best_d) {
  int32_t best = cand[0];
  float bd = kInf;
  for (int64_t t = 0; t < n; ++t) {
    const int32_t q = cand[t];
    ex[q] = exact_sq_l2(xr, pc.c + q * pc.d, pc.d);
    if (kern::better(ex[q], pc.order[q], bd,
                     t == 0 ? std::numeric_limits<int64_t>::max() : pc.order[best]))
      best = q, bd = ex[q];
  }
  *best_d = bd;
  return best;
}

}  // namespace

int64_t tile_rows(int64_t k, int64_t d) {
  const int64_t r = std::min(
      {int64_t(256), kTileValues / std::max<int64_t>(k, 1), kTileData / std::max<int64_t>(d, 1)});
  return std::max<int64_t>(16, r / 16 * 16);
}

double exact_rel_err(int64_t d) { return 1.01 * static_cast<double>(d + 8) * std::ldexp(1.0, -24); }

int64_t dots_tile(const float* x, int64_t rows, const PassCentres& pc, TileScratch& s, int32_t* pos,
                  float* dist, float* lower) {
  const int64_t k = pc.k, d = pc.d, G = pc.groups;
  s.values.resize(static_cast<size_t>(rows * k));
  s.exact.resize(static_cast<size_t>(k));
  s.cand.resize(static_cast<size_t>(k));
  s.zeros.resize(static_cast<size_t>(d), 0.0f);
  if (pc.panels)
    panel_dots(pc.isa, x, rows, d, pc.panels, k, s.values.data(), k);
  else
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(rows),
                static_cast<int>(k), static_cast<int>(d), 1.0f, x, static_cast<int>(d), pc.c,
                static_cast<int>(d), 0.0f, s.values.data(), static_cast<int>(k));
  int64_t computed = rows * k;
  for (int64_t i = 0; i < rows; ++i) {
    const float* xr = x + i * d;
    float* v = s.values.data() + i * k;
    const float least = to_partial(v, pc.norms, k);
    const double xn = exact_sq_l2(xr, s.zeros.data(), d), m = margin(pc, xn);
    float thr = static_cast<float>(static_cast<double>(least) + m);
    if (static_cast<double>(thr) < static_cast<double>(least) + m) thr = std::nextafter(thr, kInf);
    const int64_t n = within(v, k, thr, s.cand.data());
    float bd;
    const int32_t p = least_exact(xr, pc, s.cand.data(), n, s.exact.data(), &bd);
    computed += n;
    pos[i] = p;
    dist[i] = bd;
    if (!lower) continue;
    // Lower bounds on the true distances to each group's other centres: their dot-product values
    // less the margin (which exceeds the value's rounding error), plus ||x||^2.
    float* lw = lower + i * G;
    for (int64_t g = 0; g < G; ++g) {
      const int64_t a = pc.group_start[g], b = pc.group_start[g + 1];
      const float mn = (p >= a && p < b) ? std::min(range_min(v, a, p), range_min(v, p + 1, b))
                                         : range_min(v, a, b);
      lw[g] = mn == kInf ? kInf : lower_from_sq(static_cast<double>(mn) + xn - m);
    }
  }
  return computed;
}

int64_t bounded_tile(const float* x, int64_t rows, const PassCentres& pc, TileScratch& s,
                     int32_t* pos, float* dist, float* lower) {
  const int64_t k = pc.k, d = pc.d, G = pc.groups;
  const double h = 2.0 * pc.rel_err, widen = (1.0 + h) / (1.0 - h);
  s.failing.clear();
  double open_pairs = 0;
  for (int64_t i = 0; i < rows; ++i) {
    const float* xr = x + i * d;
    dist[i] = exact_sq_l2(xr, pc.c + pos[i] * d, d);
    float* lw = lower + i * G;
    if (pc.drift)
      for (int64_t g = 0; g < G; ++g)
        lw[g] = lw[g] == kInf
                    ? kInf
                    : std::max(0.0f, round_down(static_cast<double>(lw[g]) - pc.drift[g]));
    // Settled when every other centre's exact distance must exceed this one's.
    const double thr2 = static_cast<double>(dist[i]) * widen;
    bool open = false;
    for (int64_t g = 0; g < G; ++g)
      if (static_cast<double>(lw[g]) * lw[g] <= thr2) {
        open = true;
        open_pairs += static_cast<double>(pc.group_start[g + 1] - pc.group_start[g]);
      }
    if (open) s.failing.push_back(i);
  }
  if (open_pairs * kExactCost > static_cast<double>(rows * k))
    return rows + dots_tile(x, rows, pc, s, pos, dist, lower);
  s.exact.resize(static_cast<size_t>(k));
  s.cand.resize(static_cast<size_t>(k + 1));  // the open groups' centres and the current one
  int64_t computed = rows;
  for (const int64_t i : s.failing) {
    const float* xr = x + i * d;
    float* lw = lower + i * G;
    const int32_t p = pos[i];
    const double thr2 = static_cast<double>(dist[i]) * widen;
    int64_t n = 0;
    for (int64_t g = 0; g < G; ++g)
      if (static_cast<double>(lw[g]) * lw[g] <= thr2)
        for (int64_t q = pc.group_start[g]; q < pc.group_start[g + 1]; ++q)
          s.cand[n++] = static_cast<int32_t>(q);
    // The current centre competes too (its group may be closed).
    s.cand[n++] = p;
    std::sort(s.cand.begin(), s.cand.begin() + n);
    n = std::unique(s.cand.begin(), s.cand.begin() + n) - s.cand.begin();
    float bd;
    const int32_t best = least_exact(xr, pc, s.cand.data(), n, s.exact.data(), &bd);
    computed += n - 1;
    for (int64_t g = 0; g < G; ++g) {
      if (!(static_cast<double>(lw[g]) * lw[g] <= thr2)) continue;
      float mn = kInf;
      for (int64_t q = pc.group_start[g]; q < pc.group_start[g + 1]; ++q)
        if (q != best) mn = std::min(mn, s.exact[q]);
      lw[g] = mn == kInf ? kInf : lower_from_sq(static_cast<double>(mn) * (1.0 - h));
    }
    if (best != p) {  // the old centre joins its group's bound
      float& l = lw[pc.group_of[p]];
      l = std::min(l, lower_from_sq(static_cast<double>(dist[i]) * (1.0 - h)));
    }
    pos[i] = best;
    dist[i] = bd;
  }
  return computed;
}

}  // namespace embcluster
