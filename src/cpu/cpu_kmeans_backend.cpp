// CPU backend: BLAS sgemm tiles fused with the argmin, OpenMP across tiles.
#include <cblas.h>
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "backend/kmeans_backend.h"
#include "cpu/distance_tile.h"
#include "kernels/distance.cuh"

namespace embcluster {
namespace {

constexpr int64_t kTileRows = 256;      // rows per sgemm tile (divides kAssignGrain)
constexpr int64_t kTileCentres = 2048;  // centres per sgemm tile
constexpr int64_t kFewRows = 32;        // up to this many k-means++ candidates: no sgemm
static_assert(kAssignGrain % kTileRows == 0, "tiles must line up with blocks");

// The first minimum of cn[j] - 2 dots[j] over j < m (lowest index on ties), with its value.
// Eight independent lanes keep their own best so that the loop vectorises (compare and blend);
// strict comparisons keep each lane's earliest index, and the lanes are merged by (value, index).
inline void first_min(const float* dots, const float* cn, int64_t m, float* best_v,
                      int64_t* best_i) {
  constexpr int L = 8;
  float lane_v[L];
  int32_t lane_i[L];
  for (int l = 0; l < L; ++l) {
    lane_v[l] = std::numeric_limits<float>::infinity();
    lane_i[l] = 0;
  }
  const int64_t full = m / L * L;
#if defined(__AVX2__) && defined(__FMA__)
  // The same arithmetic as kern::partial_sq_dist: fma(-2, dot, c_norm).
  __m256 bv8 = _mm256_set1_ps(std::numeric_limits<float>::infinity());
  __m256i bi8 = _mm256_setzero_si256();
  __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i step = _mm256_set1_epi32(L);
  const __m256 two = _mm256_set1_ps(2.0f);
  for (int64_t j0 = 0; j0 < full; j0 += L) {
    const __m256 v = _mm256_fnmadd_ps(two, _mm256_loadu_ps(dots + j0), _mm256_loadu_ps(cn + j0));
    const __m256 lt = _mm256_cmp_ps(v, bv8, _CMP_LT_OQ);
    bv8 = _mm256_blendv_ps(bv8, v, lt);
    bi8 = _mm256_blendv_epi8(bi8, idx, _mm256_castps_si256(lt));
    idx = _mm256_add_epi32(idx, step);
  }
  _mm256_storeu_ps(lane_v, bv8);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(lane_i), bi8);
#else
  for (int64_t j0 = 0; j0 < full; j0 += L) {
    for (int l = 0; l < L; ++l) {
      const float v = kern::partial_sq_dist(cn[j0 + l], dots[j0 + l]);
      const bool lt = v < lane_v[l];
      lane_v[l] = lt ? v : lane_v[l];
      lane_i[l] = lt ? static_cast<int32_t>(j0 + l) : lane_i[l];
    }
  }
#endif
  float bv = std::numeric_limits<float>::infinity();
  int64_t bi = 0;
  for (int l = 0; l < L; ++l)
    if (kern::better(lane_v[l], lane_i[l], bv, bi)) bv = lane_v[l], bi = lane_i[l];
  for (int64_t j = full; j < m; ++j) {
    const float v = kern::partial_sq_dist(cn[j], dots[j]);
    if (kern::better(v, j, bv, bi)) bv = v, bi = j;
  }
  *best_v = bv;
  *best_i = bi;
}

class CpuKMeansBackend final : public KMeansBackend {
 public:
  // Parallelism comes from OpenMP over tiles: kmeans() keeps BLAS single-threaded (ThreadGuard).
  explicit CpuKMeansBackend(int threads)
      : threads_(threads > 0 ? threads : omp_get_max_threads()) {}

  std::string device_name() const override {
    return "cpu (" + std::to_string(threads_) + " threads)";
  }

  void set_centroids(const float* c, int64_t k, int64_t d) override {
    k_ = k;
    d_ = d;
    centroids_.assign(c, c + k * d);
    norms_.resize(static_cast<size_t>(k));
    for (int64_t j = 0; j < k; ++j) norms_[j] = kern::sq_norm(c + j * d, d);
  }

  void set_weights(const double* row_weights) override { weights_ = row_weights; }

  void assign(const Block& b, int32_t* labels, float* sq_dist, ClusterSums* sums) override {
    const int64_t d = d_, k = k_, kc = std::min(k, kTileCentres);
    const int64_t tiles = (b.rows + kTileRows - 1) / kTileRows;
#pragma omp parallel num_threads(threads_)
    {
      std::vector<float> dots(static_cast<size_t>(kTileRows * kc));
      std::vector<float> best_v(kTileRows);
      std::vector<int64_t> best_i(kTileRows);
#pragma omp for schedule(dynamic, 1)
      for (int64_t t = 0; t < tiles; ++t) {
        const int64_t r0 = t * kTileRows, rows = std::min(kTileRows, b.rows - r0);
        const float* x = b.data + r0 * d;
        std::fill(best_v.begin(), best_v.end(), std::numeric_limits<float>::infinity());
        std::fill(best_i.begin(), best_i.end(), 0);
        for (int64_t j0 = 0; j0 < k; j0 += kc) {
          const int64_t m = std::min(kc, k - j0);
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(rows),
                      static_cast<int>(m), static_cast<int>(d), 1.0f, x, static_cast<int>(d),
                      centroids_.data() + j0 * d, static_cast<int>(d), 0.0f, dots.data(),
                      static_cast<int>(m));
          const float* cn = norms_.data() + j0;
          for (int64_t i = 0; i < rows; ++i) {
            float v;
            int64_t jj;
            first_min(dots.data() + i * m, cn, m, &v, &jj);
            if (kern::better(v, j0 + jj, best_v[i], best_i[i])) {
              best_v[i] = v;
              best_i[i] = j0 + jj;
            }
          }
        }
        for (int64_t i = 0; i < rows; ++i) {
          const int64_t c = best_i[i];
          labels[r0 + i] = static_cast<int32_t>(c);
          sq_dist[r0 + i] = kern::sq_l2(x + i * d, centroids_.data() + c * d, d);
        }
      }
    }
    if (sums) accumulate(b, labels, sq_dist, sums);
  }

  void set_sample(const float* x, int64_t n, int64_t d) override {
    sample_ = x;
    sample_rows_ = n;
    sample_d_ = d;
    sample_norms_.resize(static_cast<size_t>(n));
    const int64_t tiles = (n + kTileRows - 1) / kTileRows;
#pragma omp parallel for num_threads(threads_) schedule(static)
    for (int64_t t = 0; t < tiles; ++t) {
      const int64_t r0 = t * kTileRows, rows = std::min(kTileRows, n - r0);
      row_sq_norms(x + r0 * d, rows, d, sample_norms_.data() + r0);
    }
  }

  void sample_sq_distances(const float* y, int64_t m, float* out) override {
    const int64_t n = sample_rows_, d = sample_d_;
    std::vector<float> yn(static_cast<size_t>(m));
    row_sq_norms(y, m, d, yn.data());
    const int64_t tiles = (n + kTileRows - 1) / kTileRows;
#pragma omp parallel for num_threads(threads_) schedule(dynamic, 4)
    for (int64_t t = 0; t < tiles; ++t) {
      const int64_t r0 = t * kTileRows, rows = std::min(kTileRows, n - r0);
      if (m <= kFewRows)
        sq_distances_to_few(sample_ + r0 * d, rows, sample_norms_.data() + r0, y, m, yn.data(), d,
                            out + r0 * m);
      else
        sq_distance_tile(sample_ + r0 * d, rows, sample_norms_.data() + r0, y, m, yn.data(), d,
                         out + r0 * m);
    }
  }

 private:
  // Piece by piece (ClusterSums), each thread owns a range of clusters and adds their rows in row
  // order: the sums are the same whatever the number of threads or the block size.
  void accumulate(const Block& b, const int32_t* labels, const float* sq_dist, ClusterSums* s) {
    const double* w = weights_ ? weights_ + b.start : nullptr;
    for_each_piece(b.start, b.start + b.rows, [&](int64_t piece, int64_t r0, int64_t r1) {
      s->start_piece(piece);
      const int64_t i0 = r0 - b.start, i1 = r1 - b.start;
#pragma omp parallel num_threads(threads_)
      {
        const int nt = omp_get_num_threads(), t = omp_get_thread_num();
        const int64_t c0 = s->k * t / nt, c1 = s->k * (t + 1) / nt;
        if (w)
          add_rows<true>(b, i0, i1, labels, sq_dist, w, c0, c1, s);
        else
          add_rows<false>(b, i0, i1, labels, sq_dist, nullptr, c0, c1, s);
      }
    });
  }

  // The block's rows [i0, i1) of clusters [c0, c1) into s, each times its weight (w[i]) when
  // Weighted.
  template <bool Weighted>
  static void add_rows(const Block& b, int64_t i0, int64_t i1, const int32_t* labels,
                       const float* sq_dist, const double* w, int64_t c0, int64_t c1,
                       ClusterSums* s) {
    const int64_t d = b.cols;
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t c = labels[i];
      if (c < c0 || c >= c1) continue;
      double* dst = s->sums.data() + c * d;
      const float* x = b.data + i * d;
      const double wi = Weighted ? w[i] : 1.0;
#pragma omp simd
      for (int64_t j = 0; j < d; ++j)
        dst[j] += Weighted ? wi * static_cast<double>(x[j]) : static_cast<double>(x[j]);
      s->counts[c] += 1;
      s->weight[c] += wi;
      s->sq_dist[c] += Weighted ? wi * static_cast<double>(sq_dist[i]) : sq_dist[i];
    }
  }

  int threads_;
  const double* weights_ = nullptr;
  int64_t k_ = 0, d_ = 0;
  const float* sample_ = nullptr;
  int64_t sample_rows_ = 0, sample_d_ = 0;
  std::vector<float> sample_norms_;
  std::vector<float> centroids_;
  std::vector<float> norms_;
};

}  // namespace

std::unique_ptr<KMeansBackend> make_cpu_kmeans_backend(int threads) {
  return std::make_unique<CpuKMeansBackend>(threads);
}

}  // namespace embcluster
