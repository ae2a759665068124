// CPU backend: one pass per block, unit by unit across OpenMP threads: dot-product or bounded
// tiles (cpu/kmeans_tiles.h), then the unit's cluster sums while its rows are in cache.
#include <cblas.h>
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "backend/kmeans_backend.h"
#include "cpu/centre_groups.h"
#include "cpu/distance_tile.h"
#include "cpu/kmeans_tiles.h"
#include "cpu/panel_dots.h"
#include "cpu/unit_sums.h"
#include "embcluster/error.h"
#include "kernels/distance.cuh"

namespace embcluster {
namespace {

constexpr int64_t kTileRows = 256;  // rows per k-means++ distance tile
constexpr int64_t kFewRows = 32;    // up to this many k-means++ candidates: no sgemm

// Distance from centres a to b (d values), rounded up: how far bounds must move.
float moved(const float* a, const float* b, int64_t d) {
  double s = 0;
  for (int64_t t = 0; t < d; ++t) {
    const double v = static_cast<double>(a[t]) - static_cast<double>(b[t]);
    s += v * v;
  }
  const double m = std::sqrt(s) * (1.0 + 1e-9);
  float f = static_cast<float>(m);
  if (static_cast<double>(f) < m) f = std::nextafter(f, std::numeric_limits<float>::infinity());
  return f;
}

class CpuKMeansBackend final : public KMeansBackend {
 public:
  // Parallelism comes from OpenMP over tiles: kmeans() keeps BLAS single-threaded (ThreadGuard).
  explicit CpuKMeansBackend(int threads)
      : threads_(threads > 0 ? threads : omp_get_max_threads()) {}

  std::string device_name() const override {
    return "cpu (" + std::to_string(threads_) + " threads)";
  }

  bool use_bounds(int64_t groups) override {
    groups_wanted_ = std::max<int64_t>(0, groups);
    groups_ = CentreGroups{};
    rows_.clear();
    return true;
  }

  void set_centroids(const float* c, int64_t k, int64_t d) override {
    const bool same_shape = k == k_ && d == d_;
    k_ = k;
    d_ = d;
    if (groups_wanted_ > 0 && (!same_shape || groups_.order.empty())) {
      groups_ = group_centres(c, k, d, groups_wanted_);
      rows_.clear();
      centroids_.clear();
    }
    if (groups_wanted_ == 0) {
      groups_.order.resize(static_cast<size_t>(k));
      for (int64_t j = 0; j < k; ++j) groups_.order[j] = static_cast<int32_t>(j);
    }
    // The centres by position (group order with bounds).
    std::vector<float> next(static_cast<size_t>(k * d));
    for (int64_t p = 0; p < k; ++p)
      std::copy(c + groups_.order[p] * d, c + (groups_.order[p] + 1) * d, next.begin() + p * d);
    if (groups_wanted_ > 0 && !centroids_.empty()) {
      drift_.assign(static_cast<size_t>(groups_.groups()), 0.0f);
      for (int64_t p = 0; p < k; ++p) {
        float& m = drift_[groups_.group_of[p]];
        m = std::max(m, moved(next.data() + p * d, centroids_.data() + p * d, d));
      }
      ++generation_;
    }
    centroids_.swap(next);
    norms_.resize(static_cast<size_t>(k));
    float cmax = 0;
    for (int64_t j = 0; j < k; ++j) {
      norms_[j] = kern::sq_norm(centroids_.data() + j * d, d);
      cmax = std::max(cmax, norms_[j]);
    }
    cmax_ = std::sqrt(cmax) * 1.0001f;
    if (isa_ != PanelIsa::None) pack_panels(centroids_.data(), k, d, panel_width(isa_), &panels_);
  }

  void set_weights(const double* row_weights) override { weights_ = row_weights; }

  void assign(const Block& b, int32_t* labels, float* sq_dist, ClusterSums* sums) override {
    const int64_t k = k_, d = d_, rows_per_tile = tile_rows(k, d);
    // This block's bounds: usable as they are (same centres), after moving them by the drift
    // (the centres of the pass before), or to be made afresh by dots_tile.
    RowState* st = nullptr;
    PassCentres pc = pass_centres();
    const bool transient = b.index == kTransientBlock;
    EMBCLUSTER_ASSERT(!transient || !sums, "a transient block has no sums");
    if (transient) pc.groups = 0;  // measured against every centre; no bounds kept
    bool fresh = true;
    if (pc.groups > 0) {
      st = &rows_[b.start];
      if (st->rows != b.rows) {
        st->rows = b.rows;
        st->generation = -1;
        st->pos.assign(static_cast<size_t>(b.rows), 0);
        st->lower.assign(static_cast<size_t>(b.rows * pc.groups), 0.0f);
      }
      const bool moved_once = generation_ > 0 && st->generation == generation_ - 1;
      fresh = !(st->generation == generation_ || moved_once);
      if (moved_once) pc.drift = drift_.data();
      st->generation = generation_;
    }
    // Units of kAssignGrain rows at fixed places of the whole data (see UnitSums); a block starts
    // at one, so that no unit is split between two blocks.
    EMBCLUSTER_ASSERT(b.start % kAssignGrain == 0, "block at row ", b.start, " is not aligned to ",
                      kAssignGrain, " rows");
    const int64_t first_unit = b.start / kAssignGrain;
    const int64_t units = (b.start + b.rows - 1) / kAssignGrain - first_unit + 1;
    const double* w = weights_ ? weights_ + b.start : nullptr;
    int64_t computed = 0;
    std::unique_ptr<UnitFolder> folder;
    if (sums) folder = std::make_unique<UnitFolder>(sums, first_unit, kAssignGrain, threads_);
#pragma omp parallel num_threads(threads_) reduction(+ : computed)
    {
      TileScratch ts;
      std::vector<int32_t> own_pos(static_cast<size_t>(rows_per_tile));
#pragma omp for schedule(dynamic, 1)
      for (int64_t u = 0; u < units; ++u) {
        const int64_t r0 = std::max<int64_t>(0, (first_unit + u) * kAssignGrain - b.start);
        const int64_t r1 = std::min(b.rows, (first_unit + u + 1) * kAssignGrain - b.start);
        std::unique_ptr<UnitSums> us = folder ? folder->take(first_unit + u) : nullptr;
        for (int64_t t0 = r0; t0 < r1; t0 += rows_per_tile) {
          const int64_t rows = std::min(rows_per_tile, r1 - t0);
          const float* x = b.data + t0 * d;
          int32_t* pos = st ? st->pos.data() + t0 : own_pos.data();
          float* lower = st ? st->lower.data() + t0 * pc.groups : nullptr;
          computed += fresh ? dots_tile(x, rows, pc, ts, pos, sq_dist + t0, lower)
                            : bounded_tile(x, rows, pc, ts, pos, sq_dist + t0, lower);
          for (int64_t i = 0; i < rows; ++i) labels[t0 + i] = groups_.order[pos[i]];
          if (!us) continue;
          for (int64_t i = t0; i < t0 + rows; ++i) {  // while the tile's rows are in cache
            if (w)
              us->add<true>(labels[i], b.data + i * d, w[i], sq_dist[i]);
            else
              us->add<false>(labels[i], b.data + i * d, 1.0, sq_dist[i]);
          }
        }
        if (folder) folder->give(first_unit + u, std::move(us));
      }
    }
    if (transient) return;
    computed_ += computed;
    possible_ += b.rows * k;
  }

  std::vector<std::pair<std::string, std::string>> notes() const override {
    std::vector<std::pair<std::string, std::string>> out;
    std::string kernel = isa_ == PanelIsa::None
                             ? std::string("blas sgemm")
                             : std::string(panel_isa_name(isa_)) + " panels of " +
                                   std::to_string(panel_width(isa_)) + " centres";
    if (!panel_isa_fallback().empty()) kernel += " (" + panel_isa_fallback() + ")";
    out.emplace_back("cpu_kernel", kernel);
    if (possible_ == 0 || groups_wanted_ == 0) return out;
    char buf[96];
    std::snprintf(buf, sizeof buf, "%.1f%% of plain Lloyd's (%lld bound groups)",
                  100.0 * static_cast<double>(computed_) / static_cast<double>(possible_),
                  static_cast<long long>(groups_.groups()));
    out.emplace_back("distances computed", buf);
    return out;
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
  // Per-row state of the bounds for one block (by its first row).
  struct RowState {
    int64_t rows = 0, generation = -1;
    std::vector<int32_t> pos;  // rows: centre position
    std::vector<float> lower;  // rows x groups
  };

  PassCentres pass_centres() const {
    PassCentres pc;
    pc.k = k_;
    pc.d = d_;
    pc.c = centroids_.data();
    pc.norms = norms_.data();
    pc.panels = isa_ != PanelIsa::None ? panels_.data() : nullptr;
    pc.isa = isa_;
    pc.order = groups_.order.data();
    pc.cmax = cmax_;
    pc.rel_err = exact_rel_err(d_);
    if (groups_wanted_ > 0) {
      pc.groups = groups_.groups();
      pc.group_start = groups_.start.data();
      pc.group_of = groups_.group_of.data();
    }
    return pc;
  }

  int threads_;
  const double* weights_ = nullptr;
  int64_t k_ = 0, d_ = 0;
  const float* sample_ = nullptr;
  int64_t sample_rows_ = 0, sample_d_ = 0;
  std::vector<float> sample_norms_;
  std::vector<float> centroids_;  // by position
  std::vector<float> norms_;
  float cmax_ = 0;
  PanelIsa isa_ = panel_isa();  // None: BLAS sgemm
  std::vector<float> panels_;
  int64_t groups_wanted_ = 0;
  CentreGroups groups_;
  std::vector<float> drift_;  // per group, from the centres before to these
  int64_t generation_ = 0;    // sets of centres since the groups were made
  std::map<int64_t, RowState> rows_;
  int64_t computed_ = 0, possible_ = 0;  // row-centre distances computed / of plain Lloyd
};

}  // namespace

std::unique_ptr<KMeansBackend> make_cpu_kmeans_backend(int threads) {
  return std::make_unique<CpuKMeansBackend>(threads);
}

}  // namespace embcluster
