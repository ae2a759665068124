// The K-means driver: validation, one pass for statistics and the initial sample, then Lloyd
// passes over the row blocks through a backend (CPU or CUDA).
#include "embcluster/kmeans.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <queue>

#include "backend/kmeans_backend.h"
#include "backend/device_select.h"
#include "core/feature_stats.h"
#include "algo/kmeans/kmeans_init.h"
#include "core/rng.h"
#include "core/thread_guard.h"
#include "embcluster/error.h"
#include "embcluster/memory.h"
#include "io/row_blocks.h"

namespace embcluster {
namespace {

constexpr int64_t kMaxSampleBytes = int64_t(256) << 20;  // initialisation sample cap

double now_s() {
  using clock = std::chrono::steady_clock;
  return std::chrono::duration<double>(clock::now().time_since_epoch()).count();
}

void validate(const Source& s, const KMeansParams& p) {
  require(s.rows() > 0, s.name(), ": no rows");
  require(s.cols() > 0, s.name(), ": rows have 0 columns");
  require(p.n_clusters >= 1 && p.n_clusters <= s.rows(), "n_clusters=", p.n_clusters,
          " must be between 1 and the number of rows (", s.rows(), ")");
  require(p.max_iter >= 1, "max_iter=", p.max_iter, " must be at least 1");
  require(p.tol >= 0 && std::isfinite(p.tol), "tol=", p.tol, " must be >= 0");
  require(p.n_init >= 0, "n_init=", p.n_init, " must be >= 1 (0 = auto)");
  require(p.init_sample >= 0, "init_sample=", p.init_sample, " must be >= 0 (0 = auto)");
  require(p.init != InitMethod::File || !p.init_file.empty(),
          "init=file needs init_file, a data spec of n_clusters x d centres");
}

// The rows farthest from their centres (largest distance first, lower row first on ties).
std::vector<int64_t> farthest_rows(const std::vector<float>& dist, int64_t count) {
  using Item = std::pair<float, int64_t>;  // (distance, row)
  auto ranks_above = [](const Item& a, const Item& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  };
  // The heap's top is the lowest-ranked row kept so far.
  std::priority_queue<Item, std::vector<Item>, decltype(ranks_above)> heap(ranks_above);
  for (int64_t i = 0; i < static_cast<int64_t>(dist.size()); ++i) {
    const Item it{dist[i], i};
    if (static_cast<int64_t>(heap.size()) < count) {
      heap.push(it);
    } else if (ranks_above(it, heap.top())) {
      heap.pop();
      heap.push(it);
    }
  }
  std::vector<int64_t> rows;
  for (; !heap.empty(); heap.pop()) rows.push_back(heap.top().second);
  std::reverse(rows.begin(), rows.end());
  return rows;
}

struct Run {
  std::vector<float> centroids;
  std::vector<int32_t> labels;
  std::vector<int64_t> sizes;
  std::vector<KMeansIteration> history;
  double inertia = 0;
  int iterations = 0;
  bool converged = false;
  int64_t relocations = 0;
};

class Driver {
 public:
  Driver(Source& src, const KMeansParams& p, const ExecutionContext& ctx, KMeansBackend& be,
         RowBlocks& blocks, const KMeansCallback& cb)
      : src_(src),
        p_(p),
        ctx_(ctx),
        be_(be),
        blocks_(blocks),
        cb_(cb),
        n_(src.rows()),
        d_(src.cols()),
        k_(p.n_clusters) {}

  double assign_s = 0, update_s = 0;

  // Lloyd iterations from the given centres, then a last assignment to the final centres.
  Run lloyd(std::vector<float> centres, double tol_abs, double scale, int run, int n_init) {
    Run r;
    std::vector<int32_t> labels(static_cast<size_t>(n_)), old(static_cast<size_t>(n_), -1);
    std::vector<float> dist(static_cast<size_t>(n_));
    ClusterSums sums;
    const double t_run = now_s();
    for (int it = 0; it < p_.max_iter; ++it) {
      throw_if_cancelled(ctx_);
      const double t0 = now_s();
      pass(centres, labels, dist, sums);
      const double t1 = now_s();
      std::vector<float> next = update(centres, sums, labels, dist, &r.relocations);
      double shift = 0;
      for (int64_t i = 0; i < k_ * d_; ++i) {
        const double t = static_cast<double>(next[i]) - centres[i];
        shift += t * t;
      }
      centres.swap(next);
      update_s += now_s() - t1;
      r.history.push_back({sums.inertia(), shift});
      r.iterations = it + 1;
      if (cb_) {
        KMeansProgress pr;
        pr.rows_total = n_;
        pr.run = run;
        pr.n_init = n_init;
        pr.iteration = it + 1;
        pr.max_iter = p_.max_iter;
        pr.inertia = sums.inertia();
        pr.shift = scale > 0 ? shift / scale : shift;
        pr.elapsed_s = now_s() - t_run;
        pr.rows_per_s = static_cast<double>(n_) / std::max(1e-9, t1 - t0);
        cb_(pr);
      }
      if (labels == old) {  // strict convergence: no label changed
        r.converged = true;
        break;
      }
      if (shift <= tol_abs) {
        r.converged = true;
        break;
      }
      old.swap(labels);
    }
    // Labels and inertia of the final centres.
    pass(centres, labels, dist, sums);
    r.centroids = std::move(centres);
    r.labels = std::move(labels);
    r.sizes = sums.counts;
    r.inertia = sums.inertia();
    return r;
  }

 private:
  void pass(const std::vector<float>& centres, std::vector<int32_t>& labels,
            std::vector<float>& dist, ClusterSums& sums) {
    const double t0 = now_s();
    be_.set_centroids(centres.data(), k_, d_);
    sums.reset(k_, d_);
    be_.begin_pass(&sums);
    blocks_.for_each([&](const Block& b) {
      be_.assign(b, labels.data() + b.start, dist.data() + b.start, &sums);
    });
    be_.end_pass(&sums);
    assign_s += now_s() - t0;
  }

  // New centres from the sums; empty clusters take the rows farthest from their centres, as
  // scikit-learn does. A cluster that stays empty keeps its centre.
  std::vector<float> update(const std::vector<float>& centres, ClusterSums& s,
                            const std::vector<int32_t>& labels, const std::vector<float>& dist,
                            int64_t* relocations) {
    std::vector<int64_t> empty;
    for (int64_t c = 0; c < k_; ++c)
      if (s.counts[c] == 0) empty.push_back(c);
    if (!empty.empty()) {
      const std::vector<int64_t> far = farthest_rows(dist, static_cast<int64_t>(empty.size()));
      std::vector<float> row(static_cast<size_t>(d_));
      for (size_t e = 0; e < far.size(); ++e) {
        const int64_t i = far[e], to = empty[e], from = labels[i];
        src_.read(i, 1, row.data());
        for (int64_t j = 0; j < d_; ++j) {
          s.sums[from * d_ + j] -= row[j];
          s.sums[to * d_ + j] = row[j];
        }
        s.counts[from] -= 1;
        s.counts[to] = 1;
        ++*relocations;
      }
    }
    std::vector<float> next(centres);
    for (int64_t c = 0; c < k_; ++c) {
      if (s.counts[c] <= 0) continue;
      const double inv = 1.0 / static_cast<double>(s.counts[c]);
      for (int64_t j = 0; j < d_; ++j)
        next[c * d_ + j] = static_cast<float>(s.sums[c * d_ + j] * inv);
    }
    return next;
  }

  Source& src_;
  const KMeansParams& p_;
  const ExecutionContext& ctx_;
  KMeansBackend& be_;
  RowBlocks& blocks_;
  const KMeansCallback& cb_;
  int64_t n_, d_, k_;
};

std::vector<float> centres_from_file(const std::string& spec, int64_t k, int64_t d) {
  auto src = open_source(spec);
  require(src->rows() == k && src->cols() == d, "init: ", src->name(), " holds ", src->rows(),
          " x ", src->cols(), " centres; expected n_clusters x d = ", k, " x ", d);
  return read_all(*src);
}

}  // namespace

KMeansResult kmeans(Source& source, const KMeansParams& params, const ExecutionContext& ctx,
                    const KMeansCallback& progress) {
  validate(source, params);
  check_context(ctx);
  const double t_start = now_s();
  const int64_t n = source.rows(), d = source.cols(), k = params.n_clusters;
  const int threads = context_threads(ctx);
  const ThreadGuard thread_guard(threads, 1);
  const int64_t budget = context_memory_budget(ctx);
  const bool from_file = params.init == InitMethod::File;
  const int n_init = params.n_init > 0 ? (from_file ? 1 : params.n_init)
                                       : (params.init == InitMethod::Random ? 10 : 1);
  // Reject a bad init file before any pass over the data.
  std::vector<float> file_centres;
  if (from_file) file_centres = centres_from_file(params.init_file, k, d);

  KMeansResult res;
  BackendChoice choice = make_kmeans_backend(params, ctx, threads);
  KMeansBackend& backend = *choice.backend;
  if (!choice.note.empty()) res.notes.emplace_back("device_note", choice.note);
  if (progress) {
    KMeansProgress pr;
    pr.phase = "device";
    pr.rows_total = n;
    pr.max_iter = params.max_iter;
    pr.n_init = n_init;
    pr.device = backend.device_name();
    pr.device_note = choice.note;
    progress(pr);
  }

  RowBlocks blocks(source, budget, kAssignGrain);

  // Pass 1: feature variance (for tol) and the initialisation sample, in one read of the data.
  int64_t m = params.init_sample > 0 ? params.init_sample : std::max<int64_t>(100000, 100 * k);
  m = std::min(m, n);
  // The sample's size depends on the data's shape only, never on the memory budget, so that a
  // streamed run starts where an in-memory run does.
  const int64_t sample_cap = std::max<int64_t>(k, kMaxSampleBytes / (d * 4));
  if (m > sample_cap) {
    m = sample_cap;
    res.notes.emplace_back("init_sample", "capped at " + std::to_string(m) + " rows (" +
                                              format_bytes(kMaxSampleBytes) + ")");
  }
  if (from_file) m = 0;
  Rng sample_rng(params.seed, 0x5a3d1e);
  const std::vector<int64_t> picks = sample_rows(n, m, sample_rng);
  std::vector<float> sample(static_cast<size_t>(m * d));
  FeatureStats stats(d);
  const double t_pass1 = now_s();
  {
    size_t next = 0;
    blocks.for_each([&](const Block& b) {
      throw_if_cancelled(ctx);
      stats.add(b, kAssignGrain, threads);
      for (; next < picks.size() && picks[next] < b.start + b.rows; ++next)
        std::memcpy(sample.data() + next * d, b.data + (picks[next] - b.start) * d,
                    sizeof(float) * d);
      if (progress) {
        KMeansProgress pr;
        pr.phase = "read";
        pr.rows_done = b.start + b.rows;
        pr.rows_total = n;
        pr.max_iter = params.max_iter;
        pr.n_init = n_init;
        pr.elapsed_s = now_s() - t_pass1;
        pr.rows_per_s = static_cast<double>(pr.rows_done) / std::max(1e-9, pr.elapsed_s);
        progress(pr);
      }
    });
  }
  const double pass1_s = now_s() - t_pass1;
  const double mean_var = stats.mean_variance();
  res.tol_abs = params.tol * mean_var;

  Driver driver(source, params, ctx, backend, blocks, progress);
  double init_s = 0;
  Run best;
  for (int r = 0; r < n_init; ++r) {
    throw_if_cancelled(ctx);
    const double t0 = now_s();
    if (progress && !from_file) {
      KMeansProgress pr;
      pr.phase = "init";
      pr.rows_total = n;
      pr.run = r;
      pr.n_init = n_init;
      pr.max_iter = params.max_iter;
      progress(pr);
    }
    std::vector<float> centres;
    if (from_file) {
      centres = file_centres;
    } else {
      Rng rng(params.seed, static_cast<uint64_t>(r) + 1);
      const auto rows = params.init == InitMethod::Random
                            ? random_rows(m, k, rng)
                            : kmeans_plus_plus(sample.data(), m, d, k, rng, backend, threads);
      centres.resize(static_cast<size_t>(k * d));
      for (int64_t c = 0; c < k; ++c)
        std::memcpy(centres.data() + c * d, sample.data() + rows[c] * d, sizeof(float) * d);
    }
    // The sample (up to 256 MiB) is not needed by the last run's Lloyd passes: the memory goes
    // back before they allocate labels and distances for every row.
    if (r + 1 == n_init) std::vector<float>().swap(sample);
    init_s += now_s() - t0;
    Run run = driver.lloyd(std::move(centres), res.tol_abs, mean_var, r, n_init);
    res.run_inertia.push_back(run.inertia);
    if (r == 0 || run.inertia < best.inertia) {
      best = std::move(run);
      res.best_run = r;
    }
  }

  res.centroids = std::move(best.centroids);
  res.labels = std::move(best.labels);
  res.sizes = std::move(best.sizes);
  res.inertia = best.inertia;
  res.iterations = best.iterations;
  res.converged = best.converged;
  res.history = std::move(best.history);
  res.empty_cluster_relocations = best.relocations;
  res.rows = n;
  res.dims = d;
  res.device = backend.device_name();
  res.streamed = !blocks.resident();
  res.block_rows = blocks.block_rows();
  res.init_sample_rows = m;
  res.timings = {{"read_wait", blocks.wait_seconds()},
                 {"stats_and_sample", pass1_s},
                 {"init", init_s},
                 {"assign", driver.assign_s},
                 {"update", driver.update_s},
                 {"total", now_s() - t_start}};
  for (auto& t : backend.timings()) res.timings.push_back(t);
  for (auto& nt : backend.notes()) res.notes.push_back(nt);
  res.notes.emplace_back("memory_budget", format_bytes(budget));
  return res;
}

}  // namespace embcluster
