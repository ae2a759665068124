// Distance tiles with DBSCAN's decision at eps: the sgemm expansion, recomputed by the direct sum
// where its rounding could put a distance on the wrong side of eps (settle_band), distances from a
// set of query rows to blocks of rows (sampled checks, the k-distance curve), and the lower bounds
// of projections on principal directions (cpu/dbscan_projection.h).
#include <cblas.h>
#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "backend/covariance.h"
#include "cpu/dbscan_cpu.h"
#include "cpu/dbscan_projection.h"
#include "cpu/distance_tile.h"
#include "kernels/dbscan_math.cuh"

namespace embcluster {

void settle_band(float* d2, const float* x, const float* xn, int64_t ma, const float* y,
                 const float* yn, int64_t mb, int64_t d, float eps2) {
  const float xmax = *std::max_element(xn, xn + ma), ymax = *std::max_element(yn, yn + mb);
  const float e = static_cast<float>(rounding_scale(d) * (double(xmax) + ymax));
  const float lo = eps2 - e, hi = eps2 + e;
  for (int64_t i = 0; i < ma; ++i) {
    float* row = d2 + i * mb;
    int any = 0;
#pragma omp simd reduction(| : any)
    for (int64_t j = 0; j < mb; ++j) any |= (row[j] >= lo) & (row[j] <= hi);
    if (!any) continue;
    for (int64_t j = 0; j < mb; ++j)
      row[j] = kern::settled_sq_dist(row[j], lo, hi, x + i * d, y + j * d, d);
  }
}

void eps_distance_tile(const float* x, const float* xn, int64_t ma, const float* y, const float* yn,
                       int64_t mb, int64_t d, float eps2, float* d2) {
  sq_distance_tile(x, ma, xn, y, mb, yn, d, d2);
  settle_band(d2, x, xn, ma, y, yn, mb, d, eps2);
}

void query_distances(const float* q, const float* qn, int64_t nq, const float* x, const float* xn,
                     int64_t m, int64_t d, int threads,
                     const std::function<void(int64_t, int64_t, const float*, int64_t)>& fn) {
  constexpr int64_t kQ = kDbscanTileRows, kX = 1024;
#pragma omp parallel num_threads(threads)
  {
    std::vector<float> buf(static_cast<size_t>(kQ * kX));
    // Query tiles of kQ rows, each against every row in pieces of kX.
#pragma omp for schedule(dynamic, 1)
    for (int64_t q0 = 0; q0 < nq; q0 += kQ) {
      const int64_t nrows = std::min(kQ, nq - q0);
      for (int64_t j0 = 0; j0 < m; j0 += kX) {
        const int64_t len = std::min(kX, m - j0);
        sq_distance_tile(q + q0 * d, nrows, qn + q0, x + j0 * d, len, xn + j0, d, buf.data());
        for (int64_t i = 0; i < nrows; ++i) fn(q0 + i, j0, buf.data() + i * len, len);
      }
    }
  }
}

}  // namespace embcluster

// ---- Projections on principal directions (cpu/dbscan_projection.h) ----

namespace embcluster {
namespace {

constexpr int64_t kSampleRows = 4096, kQueryStride = 16, kMaxDirections = 128;

// Relative per-pair costs of the passes' work (cycles, roughly): a projected or full distance in a
// tile (sgemm of k or d terms, then the scan), a candidate decided exactly (a dot product of d
// terms and its bookkeeping). Only their ratios matter.
double tile_cost(int64_t k) { return 1.5 + k / 12.0; }
double candidate_cost(int64_t d) { return 12.0 + d / 6.0; }

// Fractions of the sampled pairs whose distance on the first ks[i] directions is within reach
// (y: ns x kmax coordinates, row-major).
std::vector<double> candidate_fractions(const std::vector<double>& y, int64_t ns, int64_t kmax,
                                        const std::vector<int64_t>& ks, double reach2,
                                        int threads) {
  std::vector<int64_t> hits(ks.size(), 0);
  int64_t pairs = 0;
#pragma omp parallel num_threads(threads)
  {
    std::vector<int64_t> mine(ks.size(), 0);
#pragma omp for schedule(dynamic, 1) reduction(+ : pairs)
    for (int64_t q = 0; q < ns; q += kQueryStride) {
      const double* a = y.data() + q * kmax;
      for (int64_t t = 0; t < ns; ++t) {
        if (t == q) continue;
        ++pairs;
        const double* b = y.data() + t * kmax;
        double cum = 0;
        size_t ki = 0;
        for (int64_t c = 0; c < kmax && ki < ks.size(); ++c) {
          cum += (a[c] - b[c]) * (a[c] - b[c]);
          if (c + 1 != ks[ki]) continue;
          if (cum > reach2) break;
          ++mine[ki++];
        }
      }
    }
#pragma omp critical(dbscan_projection_hits)
    for (size_t i = 0; i < ks.size(); ++i) hits[i] += mine[i];
  }
  std::vector<double> frac(ks.size());
  for (size_t i = 0; i < ks.size(); ++i) frac[i] = double(hits[i]) / std::max<int64_t>(pairs, 1);
  return frac;
}

}  // namespace

DbscanProjection fit_dbscan_projection(const float* x, int64_t m, int64_t d, float eps2,
                                       int threads, int64_t max_k) {
  DbscanProjection pr;
  pr.d = d;
  pr.eps2 = eps2;
  const double rs = rounding_scale(d);
  if (d < 32 || m < 512 || rs >= 0.25) return pr;
  // A pair within eps has sq_l2 <= eps2, so its true squared distance is at most eps2 / (1 - rs);
  // its projection on orthonormal directions is no longer (1e-9: the directions' rounding).
  pr.reach = std::sqrt(eps2 / (1 - rs)) * (1 + 1e-9);
  const int64_t ns = std::min(m, kSampleRows);
  pr.mean.assign(static_cast<size_t>(d), 0.0);
  std::vector<double> y(static_cast<size_t>(ns * d));
  for (int64_t i = 0; i < ns; ++i) {
    const float* r = x + (i * m / ns) * d;
    for (int64_t j = 0; j < d; ++j) y[i * d + j] = r[j], pr.mean[j] += r[j];
  }
  for (auto& v : pr.mean) v /= static_cast<double>(ns);
  for (int64_t i = 0; i < ns; ++i)
    for (int64_t j = 0; j < d; ++j) y[i * d + j] -= pr.mean[j];
  std::vector<double> gram(static_cast<size_t>(d * d), 0.0), w;
  cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, static_cast<int>(d), static_cast<int>(ns), 1.0,
              y.data(), static_cast<int>(d), 0.0, gram.data(), static_cast<int>(d));
  for (int64_t i = 0; i < d; ++i)
    for (int64_t j = i + 1; j < d; ++j) gram[j * d + i] = gram[i * d + j];
  cpu_eigen(gram, d, &w);  // ascending: the leading direction is the last
  const int64_t kmax = std::min({d / 2, kMaxDirections, max_k});
  if (kmax < 8) return pr;
  std::vector<double> basis(static_cast<size_t>(kmax * d));
  for (int64_t c = 0; c < kmax; ++c)
    std::copy_n(gram.data() + (d - 1 - c) * d, d, basis.data() + c * d);
  std::vector<double> proj(static_cast<size_t>(ns * kmax));
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(ns), static_cast<int>(kmax),
              static_cast<int>(d), 1.0, y.data(), static_cast<int>(d), basis.data(),
              static_cast<int>(d), 0.0, proj.data(), static_cast<int>(kmax));
  std::vector<int64_t> ks;
  for (int64_t k : {8, 16, 24, 32, 48, 64, 96, 128})
    if (k <= kmax) ks.push_back(k);
  const auto frac = candidate_fractions(proj, ns, kmax, ks, pr.reach * pr.reach, threads);
  const double full = tile_cost(d);
  double best = full;
  for (size_t i = 0; i < ks.size(); ++i) {
    const double cost = tile_cost(ks[i]) + frac[i] * candidate_cost(d);
    if (cost < best) best = cost, pr.k = ks[i];
  }
  pr.expected_saving = best / full;
  if (best > 0.7 * full) pr.k = 0;  // not worth the extra pass over the candidates
  basis.resize(static_cast<size_t>(pr.k * d));
  pr.basis = std::move(basis);
  return pr;
}

ProjectedBlock project_block(const DbscanProjection& pr, const DbscanTiles& rows,
                             const LoadedBlock& blk, int threads) {
  ProjectedBlock out;
  const int64_t d = pr.d, k = pr.k, m = blk.rows;
  out.index = blk.index;
  out.first_tile = rows.first_tile(blk.index);
  out.p.resize(static_cast<size_t>(m * k));
  out.norms.resize(static_cast<size_t>(m));
  std::vector<double> dev(static_cast<size_t>(m));
  constexpr int64_t kChunk = 256;
#pragma omp parallel num_threads(threads)
  {
    std::vector<double> y(static_cast<size_t>(kChunk * d)), py(static_cast<size_t>(kChunk * k));
#pragma omp for schedule(dynamic, 1)
    for (int64_t c0 = 0; c0 < m; c0 += kChunk) {
      const int64_t rc = std::min(kChunk, m - c0);
      for (int64_t i = 0; i < rc; ++i) {
        double s = 0;
        for (int64_t j = 0; j < d; ++j) {
          const double v = double(blk.data[(c0 + i) * d + j]) - pr.mean[j];
          y[i * d + j] = v;
          s += v * v;
        }
        dev[c0 + i] = std::sqrt(s);
      }
      cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(rc),
                  static_cast<int>(k), static_cast<int>(d), 1.0, y.data(), static_cast<int>(d),
                  pr.basis.data(), static_cast<int>(d), 0.0, py.data(), static_cast<int>(k));
      for (int64_t i = 0; i < rc * k; ++i) out.p[c0 * k + i] = static_cast<float>(py[i]);
      for (int64_t i = 0; i < rc; ++i)
        out.norms[c0 + i] = kern::sq_norm(out.p.data() + (c0 + i) * k, k);
    }
  }
  const int64_t nt = rows.tile_count(blk.index);
  out.tile_norm.assign(static_cast<size_t>(nt), 0.0);
  out.tile_dev.assign(static_cast<size_t>(nt), 0.0);
  for (int64_t t = 0; t < nt; ++t) {
    const TileInfo& ti = rows.tile(out.first_tile + t);
    for (int64_t p = ti.begin - blk.pos0; p < ti.end - blk.pos0; ++p) {
      out.tile_norm[t] = std::max(out.tile_norm[t], double(out.norms[p]));
      out.tile_dev[t] = std::max(out.tile_dev[t], dev[p] * (1 + 1e-9));
    }
  }
  return out;
}

float projected_limit(const DbscanProjection& pr, const ProjectedBlock& a, int64_t s,
                      const ProjectedBlock& b, int64_t t) {
  s -= a.first_tile;
  t -= b.first_tile;
  // Each stored coordinate is the double projection rounded to float: off by at most 2^-24 of the
  // row's projection, itself no longer than the row's distance from the mean (2^-23: margin).
  const double slack = std::ldexp(a.tile_dev[s] + b.tile_dev[t], -23);
  const double reach = pr.reach + slack;
  // The expansion's rounding (as the distance tiles bound it, twice over).
  const double err = 2 * rounding_scale(pr.k) * (a.tile_norm[s] + b.tile_norm[t]);
  const double lim = reach * reach * (1 + 1e-7) + err;
  return std::nextafter(static_cast<float>(lim), std::numeric_limits<float>::infinity());
}

#if defined(__AVX2__) && defined(__FMA__)
namespace {

// The rows of b (mb x k, squared norms nb) in panels of 8 columns: panel p, coordinate c, lane l
// at out[(p * k + c) * 8 + l], zero padded; then the norms (8 per panel, infinite past mb).
void pack_panels(const float* b, const float* nb, int64_t mb, int64_t k, float* out) {
  const int64_t np = (mb + 7) / 8;
  float* norms = out + np * k * 8;
  for (int64_t p = 0; p < np; ++p)
    for (int64_t l = 0; l < 8; ++l) {
      const int64_t j = p * 8 + l;
      for (int64_t c = 0; c < k; ++c) out[(p * k + c) * 8 + l] = j < mb ? b[j * k + c] : 0.0f;
      norms[j] = j < mb ? nb[j] : std::numeric_limits<float>::infinity();  // never a candidate
    }
}

}  // namespace
#endif

int64_t projected_candidates(const float* a, const float* na, int64_t ma, const float* b,
                             const float* nb, int64_t mb, int64_t k, float lim, bool diag,
                             int64_t max_pairs, std::vector<std::pair<int32_t, int32_t>>* out,
                             float* scratch) {
  out->clear();
#if defined(__AVX2__) && defined(__FMA__)
  // Register blocks of 6 rows of a by 16 columns of b (two panels of 8), the threshold test in the
  // epilogue: no distance tile is written.
  const int64_t np = (mb + 7) / 8;
  const float* panels = scratch;
  const float* nbp = scratch + np * k * 8;
  pack_panels(b, nb, mb, k, scratch);
  const __m256 m2 = _mm256_set1_ps(-2.0f), vlim = _mm256_set1_ps(lim);
  int64_t found = 0;
  for (int64_t i0 = 0; i0 < ma; i0 += 6) {
    const int64_t ri = std::min<int64_t>(6, ma - i0);
    const float* ar[6];
    for (int64_t r = 0; r < 6; ++r) ar[r] = a + (i0 + std::min(r, ri - 1)) * k;
    for (int64_t p = diag ? i0 / 8 : 0; p < np; p += 2) {
      const float* b0 = panels + p * k * 8;
      const float* b1 = p + 1 < np ? b0 + k * 8 : b0;
      // Twelve named accumulators, so that they stay in registers.
      __m256 s00 = _mm256_setzero_ps(), s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00,
             s30 = s00, s31 = s00, s40 = s00, s41 = s00, s50 = s00, s51 = s00;
      for (int64_t c = 0; c < k; ++c) {
        __m256 v0 = _mm256_loadu_ps(b0 + c * 8), v1 = _mm256_loadu_ps(b1 + c * 8);
        asm("" : "+x"(v0), "+x"(v1));  // loaded once, not folded into every multiply-add
        __m256 x = _mm256_broadcast_ss(ar[0] + c);
        s00 = _mm256_fmadd_ps(x, v0, s00);
        s01 = _mm256_fmadd_ps(x, v1, s01);
        x = _mm256_broadcast_ss(ar[1] + c);
        s10 = _mm256_fmadd_ps(x, v0, s10);
        s11 = _mm256_fmadd_ps(x, v1, s11);
        x = _mm256_broadcast_ss(ar[2] + c);
        s20 = _mm256_fmadd_ps(x, v0, s20);
        s21 = _mm256_fmadd_ps(x, v1, s21);
        x = _mm256_broadcast_ss(ar[3] + c);
        s30 = _mm256_fmadd_ps(x, v0, s30);
        s31 = _mm256_fmadd_ps(x, v1, s31);
        x = _mm256_broadcast_ss(ar[4] + c);
        s40 = _mm256_fmadd_ps(x, v0, s40);
        s41 = _mm256_fmadd_ps(x, v1, s41);
        x = _mm256_broadcast_ss(ar[5] + c);
        s50 = _mm256_fmadd_ps(x, v0, s50);
        s51 = _mm256_fmadd_ps(x, v1, s51);
      }
      const __m256 acc[6][2] = {{s00, s01}, {s10, s11}, {s20, s21},
                                {s30, s31}, {s40, s41}, {s50, s51}};
      for (int64_t r = 0; r < ri; ++r) {
        const int64_t i = i0 + r;
        const __m256 ni = _mm256_set1_ps(na[i]);
        for (int64_t h = 0; h < 2 && p + h < np; ++h) {
          const int64_t j0 = (p + h) * 8;
          const __m256 v =
              _mm256_fmadd_ps(m2, acc[r][h], _mm256_add_ps(ni, _mm256_loadu_ps(nbp + j0)));
          unsigned mask =
              static_cast<unsigned>(_mm256_movemask_ps(_mm256_cmp_ps(v, vlim, _CMP_LE_OQ)));
          if (diag && j0 <= i) mask &= i - j0 >= 7 ? 0u : ~0u << (i - j0 + 1);  // j > i only
          for (; mask; mask &= mask - 1) {
            out->emplace_back(static_cast<int32_t>(i),
                              static_cast<int32_t>(j0 + __builtin_ctz(mask)));
            if (++found > max_pairs) return -1;
          }
        }
      }
    }
  }
  return found;
#else
  sq_distance_tile(a, ma, na, b, mb, nb, k, scratch);
  int64_t found = 0;
  for (int64_t i = 0; i < ma; ++i)
    for (int64_t j = diag ? i + 1 : 0; j < mb; ++j) {
      if (scratch[i * mb + j] > lim) continue;
      out->emplace_back(static_cast<int32_t>(i), static_cast<int32_t>(j));
      if (++found > max_pairs) return -1;
    }
  return found;
#endif
}

bool within_eps(const float* x, float xn, const float* y, float yn, int64_t d, float eps2,
                float scale) {
  float dot = 0;
#pragma omp simd reduction(+ : dot)
  for (int64_t j = 0; j < d; ++j) dot += x[j] * y[j];
  // The dot product's rounding in any order is within the band (see rounding_scale), so outside it
  // the expansion decides as the direct sum would; inside, the direct sum decides.
  const float v = kern::expanded_sq_dist(xn, yn, dot);
  const float e = kern::dbscan_band(scale, xn, yn);
  if (v < eps2 - e) return true;
  if (v > eps2 + e) return false;
  return kern::sq_l2(x, y, d) <= eps2;
}

}  // namespace embcluster
