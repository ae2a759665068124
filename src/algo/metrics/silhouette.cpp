// The silhouette driver: exact (every row) or sampled (N rows, each against every row), from
// per-row sums of distances per cluster. The sums come from GEMM tiles reduced at once
// (cluster_distance_sums), or for cosine from per-cluster sums of the unit rows.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <future>
#include <limits>
#include <numeric>

#include "backend/device_select.h"
#include "algo/kmeans/kmeans_init.h"
#include "algo/metrics/metric_labels.h"
#include "core/rng.h"
#include "core/thread_guard.h"
#include "algo/metrics/silhouette_device.h"
#include "cpu/cluster_distance_sums.h"
#include "embcluster/error.h"
#include "embcluster/memory.h"
#include "embcluster/metrics.h"
#include "io/row_blocks.h"
#include "kernels/silhouette_math.cuh"

namespace embcluster {
namespace {

constexpr int64_t G = kSilTileRows;
constexpr int64_t kSlabTiles = 8;  // query tiles per call in memory (progress granularity)

double now_s() {
  using clock = std::chrono::steady_clock;
  return std::chrono::duration<double>(clock::now().time_since_epoch()).count();
}

// s(i) from row i's distance sums per cluster (kernels/silhouette_math.cuh, as on the GPU).
float silhouette_of(const double* sums, int32_t own, const std::vector<int64_t>& sizes) {
  return kern::silhouette_from_sums(sums, own, sizes.data(), static_cast<int64_t>(sizes.size()));
}

class Silhouette {
 public:
  Silhouette(Source& src, const DenseLabels& labels, const MetricsParams& p,
             const ExecutionContext& ctx, const MetricsCallback& cb)
      : src_(src),
        L_(labels),
        n_(src.rows()),
        d_(src.cols()),
        k_(labels.k),
        metric_(p.metric == Metric::Cosine ? TileMetric::cosine : TileMetric::euclidean),
        threads_(context_threads(ctx)),
        budget_(context_memory_budget(ctx)),
        cb_(cb),
        t0_(now_s()) {}

  std::vector<float> samples;  // per row, NaN when not scored
  bool streamed = false;
  int64_t passes = 0;

  // Rows to score: every row that counts (sample empty) or the given rows (ascending).
  void run(const std::vector<int64_t>& sample, bool cluster_sums) {
    samples.assign(static_cast<size_t>(n_), std::numeric_limits<float>::quiet_NaN());
    total_ = sample.empty() ? L_.rows_in : static_cast<int64_t>(sample.size());
    if (cluster_sums) return run_cluster_sums(sample);
    if (sample.empty()) return run_exact();
    run_sampled(sample);
  }

 private:
  // Bytes per row held in a ClusterTiles (data, norm, cluster, row, position, segment share).
  int64_t row_bytes() const { return d_ * 4 + 40; }

  void report(int64_t done) {
    if (cb_) cb_(MetricsProgress{done, total_, now_s() - t0_});
  }

  // Rows [b0, b1) (b0 a multiple of G) as tiles of G rows; `also` sees every chunk read.
  ClusterTiles load_range(
      int64_t b0, int64_t b1,
      const std::function<void(const float*, int64_t, int64_t)>& also = nullptr) {
    ClusterTiles t;
    t.d = d_;
    int64_t keep = 0;
    for (int64_t i = b0; i < b1; ++i) keep += L_.id[i] >= 0;
    t.x.reserve(static_cast<size_t>(keep * d_));
    const int64_t chunk = 16 * G;
    std::vector<float> buf(static_cast<size_t>(std::min(chunk, b1 - b0) * d_));
    std::vector<int64_t> rows(static_cast<size_t>(G));
    for (int64_t s = b0; s < b1; s += chunk) {
      const int64_t m = std::min(chunk, b1 - s);
      src_.read(s, m, buf.data());
      if (also) also(buf.data(), s, m);
      for (int64_t o = 0; o < m; o += G) {
        const int64_t cnt = std::min(G, m - o);
        std::iota(rows.begin(), rows.begin() + cnt, s + o);
        t.append_tile(buf.data() + o * d_, rows.data(), L_.id.data() + s + o, cnt, metric_);
      }
    }
    t.index_rows(b0, b1);
    return t;
  }

  // Scores the query positions of tiles [qt0, qt1) of q from their sums.
  void finish(const ClusterTiles& q, int64_t qt0, int64_t qt1, const std::vector<double>& sums) {
    const int64_t base = q.tile_start[qt0];
    for (int64_t p = base; p < q.tile_start[qt1]; ++p)
      samples[q.row[p]] = silhouette_of(sums.data() + (p - base) * k_, q.cluster[p], L_.sizes);
  }

  void run_exact() {
    const int64_t slab_bytes = kSlabTiles * G * k_ * 8;
    const int64_t pairs_bytes = L_.rows_in * k_ * 8 + threads_ * (2 * G * k_ * 8);
    if (n_ * row_bytes() + pairs_bytes <= budget_) {
      // Every pair once: the rows' sums for all clusters are held (rows x k doubles).
      passes = 1;
      const ClusterTiles all = load_range(0, n_);
      std::vector<double> sums(static_cast<size_t>(all.count() * k_), 0.0);
      const double nt = static_cast<double>(all.tiles());
      all_pairs_cluster_sums(all, metric_, k_, sums.data(), threads_, [&](int64_t ti) {
        const int64_t p0 = all.tile_start[ti];
        for (int64_t p = p0; p < all.tile_start[ti + 1]; ++p)
          samples[all.row[p]] = silhouette_of(sums.data() + p * k_, all.cluster[p], L_.sizes);
        // Tile row ti is the (nt - ti)-th of a shrinking series of tile pairs.
        const double t = static_cast<double>(ti + 1);
        const double frac = (t * nt - t * (t - 1) / 2) / (nt * (nt + 1) / 2);
        report(ti + 1 == all.tiles() ? total_ : static_cast<int64_t>(frac * total_));
      });
      return;
    }
    if (n_ * row_bytes() + slab_bytes <= budget_) {
      passes = 1;
      const ClusterTiles all = load_range(0, n_);
      std::vector<double> sums;
      int64_t done = 0;
      for (int64_t t0 = 0; t0 < all.tiles(); t0 += kSlabTiles) {
        const int64_t t1 = std::min(all.tiles(), t0 + kSlabTiles);
        sums.assign(static_cast<size_t>((all.tile_start[t1] - all.tile_start[t0]) * k_), 0.0);
        cluster_distance_sums(all, t0, t1, all, metric_, k_, sums.data(), threads_);
        finish(all, t0, t1, sums);
        report(done += all.tile_start[t1] - all.tile_start[t0]);
      }
      return;
    }
    // Streamed: a block of query rows at a time against every block of column rows.
    streamed = true;
    passes = 1;  // the query blocks, once over
    const int64_t a_rows = round_tiles(budget_ / 2 / (row_bytes() + 8 * k_));
    int64_t done = 0;
    for (int64_t a0 = 0; a0 < n_; a0 += a_rows) {
      const ClusterTiles a = load_range(a0, std::min(n_, a0 + a_rows));
      std::vector<double> sums(static_cast<size_t>(a.count() * k_), 0.0);
      ++passes;
      against_all_columns(a, sums, [&](int64_t b1) { report(done + a.count() * b1 / n_); });
      finish(a, 0, a.tiles(), sums);
      done += a.count();
    }
  }

  int64_t round_tiles(int64_t rows) const { return std::max<int64_t>(G, rows / G * G); }

  // Streams column blocks of the whole data (the next one read while this one is used) and adds
  // q's distance sums against each, in row order.
  void against_all_columns(const ClusterTiles& q, std::vector<double>& sums,
                           const std::function<void(int64_t)>& after_block) {
    const int64_t b_rows = round_tiles(budget_ / 4 / row_bytes());
    auto load = [this, b_rows](int64_t b0) { return load_range(b0, std::min(n_, b0 + b_rows)); };
    std::future<ClusterTiles> next = std::async(std::launch::async, load, int64_t(0));
    for (int64_t b0 = 0; b0 < n_; b0 += b_rows) {
      const ClusterTiles cols = next.get();
      if (b0 + b_rows < n_) next = std::async(std::launch::async, load, b0 + b_rows);
      cluster_distance_sums(q, 0, q.tiles(), cols, metric_, k_, sums.data(), threads_);
      after_block(std::min(n_, b0 + b_rows));
    }
  }

  void run_sampled(const std::vector<int64_t>& sample) {
    const int64_t m = static_cast<int64_t>(sample.size());
    std::vector<float> rows(static_cast<size_t>(m * d_));
    size_t next = 0;
    auto gather = [&](const float* x, int64_t start, int64_t count) {
      for (; next < sample.size() && sample[next] < start + count; ++next)
        std::memcpy(rows.data() + next * d_, x + (sample[next] - start) * d_, sizeof(float) * d_);
    };
    const bool resident = n_ * row_bytes() + m * (row_bytes() + 8 * k_) <= budget_;
    ClusterTiles all;
    if (resident) {
      all = load_range(0, n_, gather);
    } else {
      const int64_t chunk = round_tiles(budget_ / 4 / (d_ * 4));
      std::vector<float> buf(static_cast<size_t>(std::min(chunk, n_) * d_));
      for (int64_t s = 0; s < n_; s += chunk) {
        const int64_t c = std::min(chunk, n_ - s);
        src_.read(s, c, buf.data());
        gather(buf.data(), s, c);
      }
    }
    passes = 1;
    ClusterTiles q;
    q.d = d_;
    std::vector<int32_t> ids(static_cast<size_t>(m));
    for (int64_t i = 0; i < m; ++i) ids[i] = L_.id[sample[i]];
    for (int64_t o = 0; o < m; o += G)
      q.append_tile(rows.data() + o * d_, sample.data() + o, ids.data() + o, std::min(G, m - o),
                    metric_);
    std::vector<float>().swap(rows);
    std::vector<double> sums(static_cast<size_t>(m * k_), 0.0);
    if (resident) {
      cluster_distance_sums(q, 0, q.tiles(), all, metric_, k_, sums.data(), threads_);
    } else {
      streamed = true;
      ++passes;
      against_all_columns(q, sums, [&](int64_t b1) { report(m * b1 / n_); });
    }
    finish(q, 0, q.tiles(), sums);
    report(m);
  }

  // Cosine: sum over j in c of (1 - x_i.x_j) = |c| - x_i . S_c with S_c the sum of c's unit rows;
  // the row itself is taken out of its own cluster: 1 - x_i.x_i.
  void run_cluster_sums(const std::vector<int64_t>& sample) {
    RowBlocks blocks(src_, budget_, 4096, 16384);  // small blocks: small unit-row copies
    std::vector<double> s(static_cast<size_t>(k_ * d_), 0.0);
    const int64_t m = static_cast<int64_t>(sample.size());
    std::vector<float> rows(static_cast<size_t>(m * d_));
    std::vector<float> unit;
    size_t next = 0;
    auto unit_block = [&](const Block& b) {
      unit.resize(static_cast<size_t>(b.rows * d_));
#pragma omp parallel for num_threads(threads_) schedule(static)
      for (int64_t i = 0; i < b.rows; ++i) unit_row(b.data + i * d_, d_, unit.data() + i * d_);
    };
    blocks.for_each([&](const Block& b) {
      unit_block(b);
      // Each thread owns a range of features and adds the rows in order: deterministic.
#pragma omp parallel num_threads(threads_)
      {
        const int nt = omp_get_num_threads(), t = omp_get_thread_num();
        const int64_t j0 = d_ * t / nt, j1 = d_ * (t + 1) / nt;
        for (int64_t i = 0; i < b.rows; ++i) {
          const int32_t c = L_.id[b.start + i];
          if (c < 0) continue;
          const float* x = unit.data() + i * d_;
          double* sc = s.data() + c * d_;
          for (int64_t j = j0; j < j1; ++j) sc[j] += x[j];
        }
      }
      for (; next < sample.size() && sample[next] < b.start + b.rows; ++next)
        std::memcpy(rows.data() + next * d_, unit.data() + (sample[next] - b.start) * d_,
                    sizeof(float) * d_);
    });
    passes = 1;
    auto score = [&](const float* x, const int64_t* row_of, int64_t count, int64_t first) {
      constexpr int64_t kChunk = 4096;
      std::vector<double> dots(static_cast<size_t>(std::min(kChunk, count) * k_));
      for (int64_t c0 = 0; c0 < count; c0 += kChunk) {
        const int64_t cn = std::min(kChunk, count - c0);
        dot_rows_double(x + c0 * d_, cn, d_, s.data(), k_, dots.data(), threads_);
#pragma omp parallel for num_threads(threads_) schedule(static)
        for (int64_t i = 0; i < cn; ++i) {
          const int64_t r = row_of ? row_of[c0 + i] : first + c0 + i;
          const int32_t own = L_.id[r];
          if (own < 0) continue;
          double* sums = dots.data() + i * k_;
          for (int64_t c = 0; c < k_; ++c) sums[c] = static_cast<double>(L_.sizes[c]) - sums[c];
          double self = 0;
          const float* xi = x + (c0 + i) * d_;
          for (int64_t j = 0; j < d_; ++j) self += static_cast<double>(xi[j]) * xi[j];
          sums[own] -= 1.0 - self;
          samples[r] = silhouette_of(sums, own, L_.sizes);
        }
      }
    };
    if (m > 0) {
      score(rows.data(), sample.data(), m, 0);
      report(m);
      return;
    }
    ++passes;
    streamed = !blocks.resident();
    int64_t done = 0;
    blocks.for_each([&](const Block& b) {
      unit_block(b);
      score(unit.data(), nullptr, b.rows, b.start);
      for (int64_t i = b.start; i < b.start + b.rows; ++i) done += L_.id[i] >= 0;
      report(done);
    });
  }

  Source& src_;
  const DenseLabels& L_;
  int64_t n_, d_, k_;
  TileMetric metric_;
  int threads_;
  int64_t budget_;
  const MetricsCallback& cb_;
  double t0_;
  int64_t total_ = 0;
};

}  // namespace

SilhouetteResult silhouette(Source& data, const std::vector<int32_t>& labels,
                            const MetricsParams& p, const ExecutionContext& ctx,
                            const MetricsCallback& progress) {
  const double t0 = now_s();
  require(p.sample_size >= 0, "sample_size=", p.sample_size, " must be >= 0 (0 = exact)");
  check_context(ctx);
  const ThreadGuard thread_guard(context_threads(ctx), 1);
  require(data.cols() > 0, data.name(), ": rows have 0 columns");
  const DenseLabels L = dense_labels(labels, data.rows(), data.name(), p.include_noise);

  // The sample: N of the rows that count, uniformly, as original row indices (ascending).
  std::vector<int64_t> sample;
  const bool sampled = p.sample_size > 0 && p.sample_size < L.rows_in;
  if (sampled) {
    Rng rng(p.seed, 0x51a0);
    const std::vector<int64_t> picks = sample_rows(L.rows_in, p.sample_size, rng);
    sample.reserve(picks.size());
    int64_t counted = 0;
    size_t next = 0;
    for (int64_t i = 0; i < data.rows() && next < picks.size(); ++i) {
      if (L.id[i] < 0) continue;
      if (counted++ == picks[next]) sample.push_back(i), ++next;
    }
  }
  // The device: a GPU for the tiles when asked for (or, with auto, when present); the cosine
  // cluster sums are O(rows * clusters * d) and stay on the CPU.
  SilhouetteResult r;
  const bool cluster_sums = p.metric == Metric::Cosine && p.cosine_cluster_sums;
  int device = choose_cuda_device(ctx.device, "silhouette on the CPU", &r.device_note);
  if (device >= 0 && cluster_sums) {
    if (ctx.device.kind != DeviceKind::Auto)
      r.device_note = "cosine silhouette from per-cluster sums of the unit rows: on the CPU";
    device = -1;
  }
  if (progress) {
    MetricsProgress start;
    start.rows_total = sampled ? static_cast<int64_t>(sample.size()) : L.rows_in;
    start.device_note = r.device_note;
    progress(start);
  }
  throw_if_cancelled(ctx);
  if (device >= 0) {
    try {
      DeviceSilhouette g = silhouette_on_device(data, L, p, ctx, device, sample, progress);
      r.samples = std::move(g.samples);
      r.streamed = g.streamed;
      r.data_passes = g.passes;
      r.device = g.device;
    } catch (const Error& e) {
      r.device_note = auto_fallback_note(ctx.device, e, "silhouette on the CPU");
      device = -1;
    }
  }
  if (device < 0) {
    Silhouette engine(data, L, p, ctx, progress);
    engine.run(sample, cluster_sums);
    r.samples = std::move(engine.samples);
    r.streamed = engine.streamed;
    r.data_passes = engine.passes;
    r.device = "cpu";
  }

  r.method = sampled ? "sampled" : "exact";
  r.metric = p.metric;
  r.cluster_labels = L.values;
  r.cluster_sizes = L.sizes;
  r.cluster_scored.assign(static_cast<size_t>(L.k), 0);
  std::vector<double> csum(static_cast<size_t>(L.k), 0.0);
  double sum = 0;
  for (int64_t i = 0; i < data.rows(); ++i) {
    const float v = r.samples[i];
    if (std::isnan(v)) continue;
    sum += v;
    csum[L.id[i]] += v;
    ++r.cluster_scored[L.id[i]];
    ++r.rows_scored;
  }
  r.score = sum / static_cast<double>(r.rows_scored);
  for (int64_t c = 0; c < L.k; ++c)
    r.cluster_means.push_back(r.cluster_scored[c] > 0 ? csum[c] / r.cluster_scored[c]
                                                      : std::numeric_limits<double>::quiet_NaN());
  r.ci_low = r.ci_high = r.score;
  if (sampled && r.rows_scored > 1) {
    const double m = static_cast<double>(r.rows_scored);
    double ss = 0;
    for (float v : r.samples)
      if (!std::isnan(v)) ss += (v - r.score) * (v - r.score);
    const double var = ss / (m - 1);
    r.std_error = std::sqrt(var / m);
    r.ci_low = r.score - 1.96 * r.std_error;
    r.ci_high = r.score + 1.96 * r.std_error;
  }
  r.noise_rows = L.noise_rows;
  r.noise_included = L.noise_included;
  r.seconds = now_s() - t0;
  return r;
}

}  // namespace embcluster
