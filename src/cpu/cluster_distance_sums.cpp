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
#include <string>
#include <vector>

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

void unit_rows(const float* src, int64_t n, int64_t d, float* dst, int threads) {
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t i = 0; i < n; ++i) unit_row(src + i * d, d, dst + i * d);
}

namespace {

// A set of rows cut into tiles (its spans), each tile's rows in runs of one cluster (segments).
struct Tiles {
  struct Segment {
    int32_t cluster;
    int64_t begin, end;  // positions
  };
  const float* x = nullptr;
  int64_t count = 0;
  std::vector<float> norms;              // squared norms for the expansion (1 for cosine)
  std::vector<int64_t> tile_start{0};    // tiles + 1 entries
  std::vector<int64_t> tile_segment{0};  // first segment of each tile, tiles + 1 entries
  std::vector<Segment> segments;
  int64_t tiles() const { return static_cast<int64_t>(tile_start.size()) - 1; }
};

Tiles cut_tiles(const ClusterRows& r, int64_t d, bool euclid, int threads) {
  Tiles t;
  t.x = r.x;
  t.count = r.count;
  t.norms.assign(static_cast<size_t>(r.count), 1.0f);  // 1 - a.b = (1 + 1 - 2 a.b) / 2
  if (euclid) {
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t p = 0; p < r.count; ++p) t.norms[p] = kern::sq_norm(r.x + p * d, d);
  }
  // A tile per span; a span longer than a tile (another backend's layout) is cut into tiles.
  const int64_t spans = r.span_rows ? r.spans : 1;
  for (int64_t s = 0, p0 = 0; s < spans; ++s) {
    const int64_t end = p0 + (r.span_rows ? r.span_rows[s] : r.count);
    do {
      const int64_t p1 = std::min(end, p0 + kSilTileRows);
      for (int64_t p = p0; p < p1; ++p) {
        const int32_t c = r.cluster[p];
        if (p == p0 || t.segments.back().cluster != c)
          t.segments.push_back({c, p, p + 1});
        else
          t.segments.back().end = p + 1;
      }
      t.tile_start.push_back(p1);
      t.tile_segment.push_back(static_cast<int64_t>(t.segments.size()));
      p0 = p1;
    } while (p0 < end);
  }
  return t;
}

// Distances from the squared expansion, in place: sqrt (euclidean) or (2 - 2 a.b) / 2 clipped to
// [0, 2] (cosine on unit rows). The vector lanes do what kern::distance_from_sq does (both are
// correctly rounded), the GPU's arithmetic.
void to_distances(float* t, int64_t count, bool euclid) {
  int64_t i = 0;
#if defined(__AVX2__)
  const __m256 half = _mm256_set1_ps(0.5f), four = _mm256_set1_ps(4.0f);
  for (; i + 8 <= count; i += 8) {
    const __m256 v = _mm256_loadu_ps(t + i);
    _mm256_storeu_ps(t + i,
                     euclid ? _mm256_sqrt_ps(v) : _mm256_mul_ps(half, _mm256_min_ps(v, four)));
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
// tile (rows x m); a row meets itself (self.of(p)) at distance 0
// (the expansion leaves rounding there).
struct SelfCols {
  const int64_t* col = nullptr;  // per query position, or null
  bool is_position = false;      // the queries are the columns
  int64_t of(int64_t p) const { return col ? col[p] : is_position ? p : -1; }
};

int64_t distance_tile(const Tiles& q, int64_t p0, int64_t rows, SelfCols self, const Tiles& cols,
                      int64_t ct, int64_t d, bool euclid, float* tile) {
  const int64_t cs = cols.tile_start[ct], m = cols.tile_start[ct + 1] - cs;
  if (m == 0) return 0;
  sq_distance_tile(q.x + p0 * d, rows, q.norms.data() + p0, cols.x + cs * d, m,
                   cols.norms.data() + cs, d, tile);
  for (int64_t i = 0; i < rows; ++i) {
    const int64_t p = self.of(p0 + i);
    if (p >= cs && p < cs + m) tile[i * m + (p - cs)] = 0.0f;
  }
  to_distances(tile, rows * m, euclid);
  return m;
}

// Row side of a tile: sums[i * k + c] += distances of row i to the rows of c in column tile ct.
void reduce_rows(const float* tile, int64_t rows, int64_t m, const Tiles& cols, int64_t ct,
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

// Column side of a tile of the symmetric pass: the m rows of tile tj get their distances to the
// rows [p0, p0 + rows) of each cluster segment of row tile ti, summed row by row in double.
void reduce_columns(const float* tile, int64_t p0, int64_t rows, int64_t m, const Tiles& all,
                    int64_t ti, int64_t k, double* acc, double* col_side) {
  for (int64_t s = all.tile_segment[ti]; s < all.tile_segment[ti + 1]; ++s) {
    const auto& seg = all.segments[s];
    const int64_t b = std::max(seg.begin, p0), e = std::min(seg.end, p0 + rows);
    if (b >= e) continue;
    std::fill(acc, acc + m, 0.0);
    for (int64_t p = b; p < e; ++p) add_row(tile + (p - p0) * m, m, acc);
    for (int64_t j = 0; j < m; ++j) col_side[j * k + seg.cluster] += acc[j];
  }
}

class CpuClusterSums final : public ClusterDistanceSums {
 public:
  CpuClusterSums(TileMetric metric, int64_t k, int64_t d, int threads)
      : euclid_(metric == TileMetric::euclidean),
        k_(k),
        d_(d),
        threads_(threads > 0 ? threads : omp_get_max_threads()) {}

  std::string device_name() const override { return "cpu"; }

  ClusterSumsLayout layout() const override {
    ClusterSumsLayout l;
    l.span = kSilTileRows;
    l.row_bytes = 32;  // norm, cluster, source row, position, segment share
    l.all_pairs_bytes = threads_ * (2 * kSilTileRows * k_ * 8);
    return l;
  }

  void set_columns(const ClusterRows& columns) override {
    cols_ = cut_tiles(columns, d_, euclid_, threads_);
  }

  void add_sums(const ClusterRows& queries, const int64_t* self_col, double* sums,
                const Progress& progress) override;
  void add_all_pair_sums(double* sums, const Progress& progress) override;

 private:
  void pair_tile(int64_t ti, int64_t tj, double* row_side, double* col_side, float* tile,
                 double* acc) const;

  bool euclid_;
  int64_t k_, d_;
  int threads_;
  Tiles cols_;
};

void CpuClusterSums::add_sums(const ClusterRows& queries, const int64_t* self_col, double* sums,
                              const Progress& progress) {
  const Tiles q = cut_tiles(queries, d_, euclid_, threads_);
  // Work units: GEMM row tiles cut inside each query tile, so they are the same for any slab.
  std::vector<std::pair<int64_t, int64_t>> units;
  for (int64_t t = 0; t < q.tiles(); ++t)
    for (int64_t p = q.tile_start[t]; p < q.tile_start[t + 1]; p += kSilQueryRows)
      units.emplace_back(p, std::min(kSilQueryRows, q.tile_start[t + 1] - p));
  const SelfCols self{self_col, false};
#pragma omp parallel num_threads(threads_)
  {
    std::vector<float> tile(static_cast<size_t>(kSilQueryRows * kSilTileRows));
#pragma omp for schedule(dynamic, 1)
    for (int64_t u = 0; u < static_cast<int64_t>(units.size()); ++u) {
      const int64_t p0 = units[u].first, rows = units[u].second;
      for (int64_t ct = 0; ct < cols_.tiles(); ++ct) {
        const int64_t m = distance_tile(q, p0, rows, self, cols_, ct, d_, euclid_, tile.data());
        if (m > 0) reduce_rows(tile.data(), rows, m, cols_, ct, k_, sums + p0 * k_);
      }
    }
  }
  if (progress) progress(1.0);
}

// The pair of tiles (ti, tj), tj >= ti: tile ti's rows against tile tj's clusters into row_side
// and, when tj > ti, tile tj's rows against tile ti's clusters into col_side.
void CpuClusterSums::pair_tile(int64_t ti, int64_t tj, double* row_side, double* col_side,
                               float* tile, double* acc) const {
  const Tiles& all = cols_;
  const int64_t i0 = all.tile_start[ti], ni = all.tile_start[ti + 1] - i0;
  const int64_t nj = all.tile_start[tj + 1] - all.tile_start[tj];
  std::fill(row_side, row_side + ni * k_, 0.0);
  if (tj > ti) std::fill(col_side, col_side + nj * k_, 0.0);
  const SelfCols self{nullptr, true};
  for (int64_t p0 = i0; nj > 0 && p0 < i0 + ni; p0 += kSilQueryRows) {
    const int64_t rows = std::min(kSilQueryRows, i0 + ni - p0);
    const int64_t m = distance_tile(all, p0, rows, self, all, tj, d_, euclid_, tile);
    reduce_rows(tile, rows, m, all, tj, k_, row_side + (p0 - i0) * k_);
    if (tj > ti) reduce_columns(tile, p0, rows, m, all, ti, k_, acc, col_side);
  }
}

void CpuClusterSums::add_all_pair_sums(double* sums, const Progress& progress) {
  const Tiles& all = cols_;
  const int64_t nt = all.tiles();
  const double total_pairs = static_cast<double>(nt) * (nt + 1) / 2;
  double pairs_done = 0;
  for (int64_t ti = 0; ti < nt; ++ti) {
    const int64_t i0 = all.tile_start[ti], ni = all.tile_start[ti + 1] - i0;
#pragma omp parallel num_threads(threads_)
    {
      std::vector<float> tile(static_cast<size_t>(kSilQueryRows * kSilTileRows));
      std::vector<double> row_side(static_cast<size_t>(ni * k_));
      std::vector<double> col_side(static_cast<size_t>(kSilTileRows * k_)), acc(kSilTileRows);
#pragma omp for ordered schedule(dynamic, 1)
      for (int64_t tj = ti; tj < nt; ++tj) {
        const int64_t j0 = all.tile_start[tj], nj = all.tile_start[tj + 1] - j0;
        pair_tile(ti, tj, row_side.data(), col_side.data(), tile.data(), acc.data());
        // Tile ti's rows take their sums in column-tile order, whatever thread computed them.
#pragma omp ordered
        {
          for (int64_t t = 0; t < ni * k_; ++t) sums[i0 * k_ + t] += row_side[t];
        }
        if (tj > ti)
          for (int64_t t = 0; t < nj * k_; ++t) sums[j0 * k_ + t] += col_side[t];
      }
    }
    pairs_done += static_cast<double>(nt - ti);
    if (progress) progress(pairs_done / total_pairs);
  }
}

}  // namespace

std::unique_ptr<ClusterDistanceSums> make_cpu_cluster_sums(TileMetric metric, int64_t k, int64_t d,
                                                           int threads) {
  return std::make_unique<CpuClusterSums>(metric, k, d, threads);
}

void dot_rows_double(const float* x, int64_t n, int64_t d, const double* s, int64_t k, double* out,
                     int threads) {
  constexpr int64_t kRows = 256;
  const std::vector<double> xd(x, x + n * d);  // dgemm's operand: the rows in double, exactly
  const int64_t tiles = (n + kRows - 1) / kRows;
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
  for (int64_t t = 0; t < tiles; ++t) {
    const int64_t r0 = t * kRows, rows = std::min(kRows, n - r0);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(rows),
                static_cast<int>(k), static_cast<int>(d), 1.0, xd.data() + r0 * d,
                static_cast<int>(d), s, static_cast<int>(d), 0.0, out + r0 * k,
                static_cast<int>(k));
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
      if (cosine)
        std::fill(xn.begin(), xn.end(), 1.0f);
      else
        row_sq_norms(x + r0 * d, rows, d, xn.data());
      sq_distance_tile(x + r0 * d, rows, xn.data(), centroids, k, cn.data(), d, tile.data());
      for (int64_t i = 0; i < rows; ++i) {
        const float* v = tile.data() + i * k;
        auto dist = [&](int64_t c) {
          return cosine ? 0.5f * std::min(v[c], 4.0f) : std::sqrt(v[c]);
        };
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
