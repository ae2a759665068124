// CPU cluster distance sums: one sgemm tile (query rows x column tile), then each tile row summed
// per cluster segment in double, sqrt (euclidean) or halving (cosine) fused into the sum.
#include "cpu/cluster_distance_sums.h"

#include <cblas.h>
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>

#include "cpu/distance_tile.h"
#include "kernels/distance.cuh"
#include "kernels/silhouette_math.cuh"

namespace embcluster {

void unit_row(const float* src, int64_t d, float* dst) {
  double s = 0;
  for (int64_t j = 0; j < d; ++j) s += static_cast<double>(src[j]) * src[j];
  const double inv = s > 0 ? 1.0 / std::sqrt(s) : 0.0;
  for (int64_t j = 0; j < d; ++j) dst[j] = static_cast<float>(src[j] * inv);
}

void ClusterTiles::append_tile(const float* xs, const int64_t* rows, const int32_t* clusters,
                            int64_t count, TileMetric metric) {
  std::vector<int64_t> order;
  order.reserve(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i)
    if (clusters[i] >= 0) order.push_back(i);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return clusters[a] < clusters[b]; });
  const int64_t p0 = this->count();
  x.resize(static_cast<size_t>((p0 + static_cast<int64_t>(order.size())) * d));
  for (size_t t = 0; t < order.size(); ++t) {
    const int64_t i = order[t], p = p0 + static_cast<int64_t>(t);
    const float* src = xs + i * d;
    float* dst = x.data() + p * d;
    if (metric == TileMetric::cosine) {
      unit_row(src, d, dst);
      norms.push_back(1.0f);  // 1 - a.b = (1 + 1 - 2 a.b) / 2, zero rows included
    } else {
      std::copy(src, src + d, dst);
      norms.push_back(kern::sq_norm(dst, d));
    }
    const int32_t c = clusters[i];
    if (segments.size() == static_cast<size_t>(tile_segment.back()) || segments.back().cluster != c)
      segments.push_back({c, p, p + 1});
    else
      segments.back().end = p + 1;
    cluster.push_back(c);
    row.push_back(rows[i]);
  }
  tile_start.push_back(this->count());
  tile_segment.push_back(static_cast<int64_t>(segments.size()));
}

void ClusterTiles::index_rows(int64_t first, int64_t end) {
  first_row = first;
  end_row = end;
  pos_of.assign(static_cast<size_t>(end - first), -1);
  for (int64_t p = 0; p < count(); ++p) pos_of[row[p] - first] = p;
}

namespace {

// Distances from the squared expansion, in place: sqrt (euclidean) or (2 - 2 a.b) / 2 clipped to
// [0, 2] (cosine on unit rows). The vector lanes do what kern::distance_from_sq does (both are
// correctly rounded), the GPU's arithmetic.
void to_distances(float* t, int64_t count, bool euclid) {
  int64_t i = 0;
#if defined(__AVX2__)
  const __m256 half = _mm256_set1_ps(0.5f), four = _mm256_set1_ps(4.0f);
  for (; i + 8 <= count; i += 8) {
    const __m256 v = _mm256_loadu_ps(t + i);
    _mm256_storeu_ps(t + i, euclid ? _mm256_sqrt_ps(v) : _mm256_mul_ps(half, _mm256_min_ps(v, four)));
  }
#endif
  for (; i < count; ++i) t[i] = kern::distance_from_sq(t[i], euclid);
}

// Sum of v[0..m) in double: four double lanes per half of an eight-float vector; the association
// depends on m only.
double segment_sum(const float* v, int64_t m) {
  int64_t j = 0;
  double total = 0;
#if defined(__AVX2__)
  __m256d acc0 = _mm256_setzero_pd(), acc1 = _mm256_setzero_pd();
  for (; j + 8 <= m; j += 8) {
    const __m256 t = _mm256_loadu_ps(v + j);
    acc0 = _mm256_add_pd(acc0, _mm256_cvtps_pd(_mm256_castps256_ps128(t)));
    acc1 = _mm256_add_pd(acc1, _mm256_cvtps_pd(_mm256_extractf128_ps(t, 1)));
  }
  alignas(32) double lanes[4];
  _mm256_store_pd(lanes, _mm256_add_pd(acc0, acc1));
  total = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
#endif
  for (; j < m; ++j) total += v[j];
  return total;
}

// acc[j] += v[j] for j < m, in double.
void add_row(const float* v, int64_t m, double* acc) {
#pragma omp simd
  for (int64_t j = 0; j < m; ++j) acc[j] += static_cast<double>(v[j]);
}

// The distances between query positions [p0, p0 + rows) of q and column tile ct of cols into
// tile (rows x m); a row meets itself at distance 0 (the expansion leaves rounding there).
int64_t distance_tile(const ClusterTiles& q, int64_t p0, int64_t rows, const ClusterTiles& cols,
                      int64_t ct, bool euclid, float* tile) {
  const int64_t d = q.d, cs = cols.tile_start[ct], m = cols.tile_start[ct + 1] - cs;
  if (m == 0) return 0;
  sq_distance_tile(q.x.data() + p0 * d, rows, q.norms.data() + p0, cols.x.data() + cs * d, m,
                   cols.norms.data() + cs, d, tile);
  for (int64_t i = 0; i < rows; ++i) {
    const int64_t r = q.row[p0 + i];
    if (r < cols.first_row || r >= cols.end_row) continue;
    const int64_t p = cols.pos_of[r - cols.first_row];
    if (p >= cs && p < cs + m) tile[i * m + (p - cs)] = 0.0f;
  }
  to_distances(tile, rows * m, euclid);
  return m;
}

// Row side of a tile: sums[i * k + c] += distances of row i to the rows of c in column tile ct.
void reduce_rows(const float* tile, int64_t rows, int64_t m, const ClusterTiles& cols, int64_t ct,
                 int64_t k, double* sums) {
  const int64_t cs = cols.tile_start[ct];
  for (int64_t i = 0; i < rows; ++i) {
    double* out = sums + i * k;
    for (int64_t s = cols.tile_segment[ct]; s < cols.tile_segment[ct + 1]; ++s) {
      const auto& seg = cols.segments[s];
      out[seg.cluster] += segment_sum(tile + i * m + (seg.begin - cs), seg.end - seg.begin);
    }
  }
}

}  // namespace

void cluster_distance_sums(const ClusterTiles& q, int64_t qt0, int64_t qt1, const ClusterTiles& cols,
                           TileMetric metric, int64_t k, double* sums, int threads) {
  const int64_t base = q.tile_start[qt0];
  // Work units: GEMM row tiles cut inside each query tile, so they are the same for any slab.
  std::vector<std::pair<int64_t, int64_t>> units;
  for (int64_t t = qt0; t < qt1; ++t)
    for (int64_t p = q.tile_start[t]; p < q.tile_start[t + 1]; p += kSilQueryRows)
      units.emplace_back(p, std::min(kSilQueryRows, q.tile_start[t + 1] - p));
  const bool euclid = metric == TileMetric::euclidean;
#pragma omp parallel num_threads(threads)
  {
    std::vector<float> tile(static_cast<size_t>(kSilQueryRows * kSilTileRows));
#pragma omp for schedule(dynamic, 1)
    for (int64_t u = 0; u < static_cast<int64_t>(units.size()); ++u) {
      const int64_t p0 = units[u].first, rows = units[u].second;
      for (int64_t ct = 0; ct < cols.tiles(); ++ct) {
        const int64_t m = distance_tile(q, p0, rows, cols, ct, euclid, tile.data());
        if (m > 0) reduce_rows(tile.data(), rows, m, cols, ct, k, sums + (p0 - base) * k);
      }
    }
  }
}

void all_pairs_cluster_sums(const ClusterTiles& all, TileMetric metric, int64_t k, double* sums,
                            int threads, const std::function<void(int64_t)>& tile_done) {
  const bool euclid = metric == TileMetric::euclidean;
  const int64_t nt = all.tiles();
  for (int64_t ti = 0; ti < nt; ++ti) {
    const int64_t i0 = all.tile_start[ti], ni = all.tile_start[ti + 1] - i0;
#pragma omp parallel num_threads(threads)
    {
      std::vector<float> tile(static_cast<size_t>(kSilQueryRows * kSilTileRows));
      std::vector<double> row_side(static_cast<size_t>(ni * k));
      std::vector<double> col_side(static_cast<size_t>(kSilTileRows * k)), acc(kSilTileRows);
#pragma omp for ordered schedule(dynamic, 1)
      for (int64_t tj = ti; tj < nt; ++tj) {
        const int64_t j0 = all.tile_start[tj], nj = all.tile_start[tj + 1] - j0;
        std::fill(row_side.begin(), row_side.end(), 0.0);
        if (tj > ti) std::fill(col_side.begin(), col_side.begin() + nj * k, 0.0);
        for (int64_t p0 = i0; nj > 0 && p0 < i0 + ni; p0 += kSilQueryRows) {
          const int64_t rows = std::min(kSilQueryRows, i0 + ni - p0);
          const int64_t m = distance_tile(all, p0, rows, all, tj, euclid, tile.data());
          reduce_rows(tile.data(), rows, m, all, tj, k, row_side.data() + (p0 - i0) * k);
          if (tj == ti) continue;
          // Column side: the rows of tile tj get their distances to each cluster segment of ti.
          for (int64_t s = all.tile_segment[ti]; s < all.tile_segment[ti + 1]; ++s) {
            const auto& seg = all.segments[s];
            const int64_t b = std::max(seg.begin, p0), e = std::min(seg.end, p0 + rows);
            if (b >= e) continue;
            std::fill(acc.begin(), acc.begin() + m, 0.0);
            for (int64_t p = b; p < e; ++p) add_row(tile.data() + (p - p0) * m, m, acc.data());
            for (int64_t j = 0; j < m; ++j) col_side[j * k + seg.cluster] += acc[j];
          }
        }
        // Tile ti's rows take their sums in column-tile order, whatever thread computed them.
#pragma omp ordered
        {
          for (int64_t t = 0; t < ni * k; ++t) sums[i0 * k + t] += row_side[t];
        }
        if (tj > ti)
          for (int64_t t = 0; t < nj * k; ++t) sums[j0 * k + t] += col_side[t];
      }
    }
    if (tile_done) tile_done(ti);
  }
}

void dot_rows_double(const float* x, int64_t n, int64_t d, const double* s, int64_t k,
                     double* out, int threads) {
  constexpr int64_t kRows = 256;
  const int64_t tiles = (n + kRows - 1) / kRows;
#pragma omp parallel num_threads(threads)
  {
    std::vector<double> xd(static_cast<size_t>(kRows * d));
#pragma omp for schedule(dynamic, 1)
    for (int64_t t = 0; t < tiles; ++t) {
      const int64_t r0 = t * kRows, rows = std::min(kRows, n - r0);
      std::copy(x + r0 * d, x + (r0 + rows) * d, xd.begin());
      cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(rows),
                  static_cast<int>(k), static_cast<int>(d), 1.0, xd.data(), static_cast<int>(d),
                  s, static_cast<int>(d), 0.0, out + r0 * k, static_cast<int>(k));
    }
  }
}

void own_and_nearest_other(const float* x, int64_t n, int64_t d, const float* centroids, int64_t k,
                           const int32_t* own, TileMetric metric, float* a, float* b, int threads) {
  const bool cosine = metric == TileMetric::cosine;
  std::vector<float> cn(static_cast<size_t>(k), 1.0f);
  if (!cosine) row_sq_norms(centroids, k, d, cn.data());
  const int64_t rows_per = std::max<int64_t>(8, std::min<int64_t>(256, (int64_t(1) << 20) / k));
  const int64_t tiles = (n + rows_per - 1) / rows_per;
#pragma omp parallel num_threads(threads)
  {
    std::vector<float> tile(static_cast<size_t>(rows_per * k)), xn(static_cast<size_t>(rows_per));
#pragma omp for schedule(dynamic, 1)
    for (int64_t t = 0; t < tiles; ++t) {
      const int64_t r0 = t * rows_per, rows = std::min(rows_per, n - r0);
      if (cosine) std::fill(xn.begin(), xn.end(), 1.0f);
      else row_sq_norms(x + r0 * d, rows, d, xn.data());
      sq_distance_tile(x + r0 * d, rows, xn.data(), centroids, k, cn.data(), d, tile.data());
      for (int64_t i = 0; i < rows; ++i) {
        const float* v = tile.data() + i * k;
        auto dist = [&](int64_t c) { return cosine ? 0.5f * std::min(v[c], 4.0f) : std::sqrt(v[c]); };
        const int32_t o = own[r0 + i];
        float best = std::numeric_limits<float>::infinity();
        for (int64_t c = 0; c < k; ++c)
          if (c != o) best = std::min(best, v[c]);
        a[r0 + i] = o >= 0 ? dist(o) : 0.0f;
        b[r0 + i] = cosine ? 0.5f * std::min(best, 4.0f) : std::sqrt(best);
      }
    }
  }
}

}  // namespace embcluster
