// The K-means driver: validation, the backend, one pass for statistics and the initial sample,
// then n_init runs of Lloyd (lloyd.h) from k-means++, random rows or a file; the best run wins.
#include "embcluster/kmeans.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "algo/kmeans/kmeans_checkpoint.h"
#include "algo/kmeans/kmeans_common.h"
#include "algo/kmeans/kmeans_init.h"
#include "algo/kmeans/kmeans_parallel.h"
#include "algo/kmeans/lloyd.h"
#include "algo/kmeans/sample_weight.h"
#include "backend/device_select.h"
#include "backend/kmeans_backend.h"
#include "core/distributed.h"
#include "core/feature_stats.h"
#include "core/rng.h"
#include "core/thread_guard.h"
#include "embcluster/error.h"
#include "embcluster/memory.h"
#include "embcluster/prepare.h"
#include "io/nonzero_rows.h"
#include "io/row_blocks.h"

namespace embcluster {
namespace {

constexpr int64_t kMaxSampleBytes = int64_t(256) << 20;  // initialisation sample cap

double now_s() {
  using clock = std::chrono::steady_clock;
  return std::chrono::duration<double>(clock::now().time_since_epoch()).count();
}

std::string exact(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

void validate(const Source& s, const KMeansParams& p) {
  require(s.rows() > 0, s.name(), ": no rows");
  require(s.cols() > 0, s.name(), ": rows have 0 columns");
  require(p.n_clusters >= 1 && p.n_clusters <= s.rows(), "n_clusters=", p.n_clusters,
          " must be between 1 and the number of rows (", s.rows(), ")");
  require(p.max_iter >= 1, "max_iter=", p.max_iter, " must be at least 1");
  require(p.tol >= 0 && std::isfinite(p.tol), "tol=", p.tol, " must be a finite number >= 0");
  require(p.n_init >= 0, "n_init=", p.n_init, " must be >= 1 (0 = auto)");
  require(p.init_sample >= 0, "init_sample=", p.init_sample, " must be >= 0 (0 = auto)");
  require(p.oversampling_factor > 0 && std::isfinite(p.oversampling_factor),
          "oversampling_factor=", p.oversampling_factor, " must be a finite number > 0");
  require(p.init_rounds >= 1, "init_rounds=", p.init_rounds, " must be at least 1");
  require(p.init != InitMethod::File || !p.init_file.empty(),
          "init=file needs init_file, a data spec of n_clusters x d centres");
  require(p.checkpoint.every >= 1, "checkpoint every=", p.checkpoint.every,
          " must be at least 1 iteration");
  require(!p.checkpoint.resume || !p.checkpoint.dir.empty(),
          "resume needs the checkpoint directory (checkpoint.dir)");
}

std::vector<float> centres_from_file(const std::string& spec, int64_t k, int64_t d) {
  auto src = open_source(spec);
  require(src->rows() == k && src->cols() == d, "init: ", src->name(), " holds ", src->rows(),
          " x ", src->cols(), " centres; expected n_clusters x d = ", k, " x ", d);
  return read_all(*src);
}

// A progress report of the driver's own phases ("device", "read", "init").
KMeansProgress phase(const char* name, int64_t rows, const KMeansParams& p, int n_init) {
  KMeansProgress pr;
  pr.phase = name;
  pr.rows_total = rows;
  pr.max_iter = p.max_iter;
  pr.n_init = n_init;
  return pr;
}

// What the first pass over the data leaves: the initialisation sample and the feature variance.
struct FirstPass {
  int64_t m = 0;            // sample rows
  int64_t d = 0;            // columns
  std::vector<float> rows;  // m x d
  std::vector<double> weights;  // m: the sample rows' weights (empty without weights)
  double mean_var = 0;      // mean feature variance (the tolerance's scale)
  double seconds = 0;
};

// The initialisation sample's size: init_sample, or min(rows, max(100000, 100 k)), capped at
// kMaxSampleBytes (noted). It depends on the data's shape only, never on the memory budget, so
// that a streamed run starts where an in-memory run does.
int64_t sample_size(const KMeansParams& p, int64_t n, int64_t d, KMeansResult& res) {
  const int64_t k = p.n_clusters;
  int64_t m = p.init_sample > 0 ? p.init_sample : std::max<int64_t>(100000, 100 * k);
  m = std::min(m, n);
  const int64_t sample_cap = std::max<int64_t>(k, kMaxSampleBytes / (d * 4));
  if (m > sample_cap) {
    m = sample_cap;
    res.notes.emplace_back("init_sample", "capped at " + std::to_string(m) + " rows (" +
                                              format_bytes(kMaxSampleBytes) + ")");
  }
  return m;
}

// Pass 1: feature variance (for tol) and the initialisation sample, in one read of the data.
// In a distributed run every rank reads its slab: the statistics are combined and the sample
// rows gathered, so that every rank holds what one process would.
FirstPass first_pass(RowBlocks& blocks, const KMeansParams& p, const ExecutionContext& ctx,
                     int64_t m, int threads, int n_init, const KMeansCallback& progress) {
  const int64_t n = blocks.source().rows(), d = blocks.cols();
  Communicator* comm = ranks_of(ctx);
  FirstPass f;
  f.m = m;
  f.d = d;
  Rng sample_rng(p.seed, 0x5a3d1e);
  const std::vector<int64_t> picks = sample_rows(n, m, sample_rng);
  f.rows.resize(static_cast<size_t>(m * d));
  if (!p.sample_weight.empty()) {
    f.weights.resize(picks.size());
    int64_t positive = 0;
    for (size_t i = 0; i < picks.size(); ++i)
      positive += (f.weights[i] = p.sample_weight[picks[i]]) > 0;
    require(m == 0 || positive >= p.n_clusters, "sample_weight: only ", positive, " of the ", m,
            " rows of the initialisation sample have a weight > 0, fewer than n_clusters=",
            p.n_clusters, " (raise init_sample)");
  }
  FeatureStats stats(d);
  const double t0 = now_s();
  // Picks are in row order: this slab's are a run of them.
  const size_t mine = static_cast<size_t>(
      std::lower_bound(picks.begin(), picks.end(), blocks.first_row()) - picks.begin());
  size_t next = mine;
  blocks.for_each([&](const Block& b) {
    throw_if_cancelled(ctx);
    stats.add(b, kAssignGrain, threads);
    for (; next < picks.size() && picks[next] < b.start + b.rows; ++next)
      std::memcpy(f.rows.data() + next * d, b.data + (picks[next] - b.start) * d,
                  sizeof(float) * d);
    if (progress) {
      KMeansProgress pr = phase("read", n, p, n_init);
      pr.rows_done = b.start + b.rows;
      pr.elapsed_s = now_s() - t0;
      pr.rows_per_s = static_cast<double>(pr.rows_done) / std::max(1e-9, pr.elapsed_s);
      progress(pr);
    }
  });
  stats.finish(comm);
  if (comm)
    f.rows = allgather_values(std::vector<float>(f.rows.begin() + static_cast<int64_t>(mine * d),
                                                 f.rows.begin() + static_cast<int64_t>(next * d)),
                              *comm);
  f.seconds = now_s() - t0;
  f.mean_var = stats.mean_variance();
  return f;
}

// The initial centres of run r: the file's, or k-means++ / k-means|| / random rows of the
// sample. A k-means|| run says in *note how it went.
std::vector<float> initial_centres(const KMeansParams& p, int r, const FirstPass& f,
                                   const std::vector<float>& file_centres, int64_t d,
                                   KMeansBackend& backend, int threads, std::string* note) {
  if (!file_centres.empty()) return file_centres;
  const int64_t k = p.n_clusters;
  Rng rng(p.seed, static_cast<uint64_t>(r) + 1);
  const double* w = f.weights.empty() ? nullptr : f.weights.data();
  std::vector<int64_t> rows;
  if (p.init == InitMethod::Random) {
    rows = random_rows(f.m, k, rng, w);
  } else if (p.init == InitMethod::KMeansParallel) {
    ParallelInit pi = kmeans_parallel(f.rows.data(), f.m, d, k, p.oversampling_factor,
                                      p.init_rounds, rng, backend, threads, w);
    rows = std::move(pi.rows);
    *note = std::to_string(pi.candidates) + " candidates of weight > 0 from " +
            std::to_string(pi.rounds) + " rounds over " + std::to_string(f.m) + " rows" +
            (pi.filled > 0 ? ", " + std::to_string(pi.filled) + " rows added at random" : "");
  } else {
    rows = kmeans_plus_plus(f.rows.data(), f.m, d, k, rng, backend, threads, w);
  }
  std::vector<float> centres(static_cast<size_t>(k * d));
  for (int64_t c = 0; c < k; ++c)
    std::memcpy(centres.data() + c * d, f.rows.data() + rows[c] * d, sizeof(float) * d);
  return centres;
}

void take_best_run(KMeansRun&& best, KMeansResult& res) {
  res.centroids = std::move(best.centroids);
  res.labels = std::move(best.labels);
  res.sizes = std::move(best.sizes);
  res.inertia = best.inertia;
  res.iterations = best.iterations;
  res.converged = best.converged;
  res.history = std::move(best.history);
  res.empty_cluster_relocations = best.relocations;
}

// A run without its labels and sizes: what a checkpoint keeps of the best run.
KMeansRun without_labels(const KMeansRun& r) {
  KMeansRun s;
  s.centroids = r.centroids;
  s.history = r.history;
  s.inertia = r.inertia;
  s.iterations = r.iterations;
  s.converged = r.converged;
  s.relocations = r.relocations;
  return s;
}

// The checkpoint of a run (when params.checkpoint.dir is set): its file, the identity it must
// match, and the state it was resumed from.
struct Checkpointing {
  std::string path;
  CheckpointIdentity id;
  KMeansState resumed;
  bool on() const { return !path.empty(); }
};

Checkpointing open_checkpoint(Source& src, const KMeansParams& p, int n_init,
                              const KMeansBackend& backend, KMeansResult& res) {
  Checkpointing c;
  if (p.checkpoint.dir.empty()) return c;
  const std::string name = backend.device_name();
  c.id = checkpoint_identity(src, p, n_init, name.rfind("cpu", 0) == 0 ? "cpu" : name);
  prepare_checkpoint_dir(p.checkpoint.dir);
  c.path = checkpoint_file(p.checkpoint.dir);
  res.notes.emplace_back("checkpoint", c.path);
  if (!p.checkpoint.resume) return c;
  c.resumed = load_checkpoint(c.path, c.id);
  const KMeansState& s = c.resumed;
  const size_t kd = static_cast<size_t>(p.n_clusters * src.cols());
  const bool in_run = s.lloyd.iteration > 0;
  require(s.run >= 0 && s.run <= n_init && s.run_inertia.size() == static_cast<size_t>(s.run) &&
              s.has_best == (s.run > 0) && (!s.has_best || s.best.centroids.size() == kd) &&
              (!in_run || (s.run < n_init && s.lloyd.centres.size() == kd &&
                           s.lloyd.prev_centres.size() == kd)),
          "checkpoint ", c.path, ": corrupt (inconsistent state)");
  res.notes.emplace_back("resumed_from", s.run == n_init
                                             ? "the end of every run"
                                             : "run " + std::to_string(s.run + 1) + ", iteration " +
                                                   std::to_string(s.lloyd.iteration));
  return c;
}

// The n_init runs of Lloyd (from the checkpoint's state when resuming); the best is left in res.
class Runs {
 public:
  Runs(const KMeansParams& p, int n_init, FirstPass& first, const std::vector<float>& file_centres,
       KMeansBackend& backend, int64_t bound_groups, int threads, Lloyd& lloyd, Checkpointing& ckpt)
      : p_(p),
        n_init_(n_init),
        first_(first),
        file_centres_(file_centres),
        backend_(backend),
        bound_groups_(bound_groups),
        threads_(threads),
        lloyd_(lloyd),
        ckpt_(ckpt) {}

  double init_s = 0;
  std::string init_note;  // the last k-means|| initialisation's (empty for the others)

  void all(const ExecutionContext& ctx, const KMeansCallback& progress, KMeansResult& res) {
    KMeansState& st = ckpt_.resumed;
    require(!ckpt_.on() || !p_.checkpoint.resume || st.mean_var == first_.mean_var, "checkpoint ",
            ckpt_.path, ": made for data of mean feature variance ", exact(st.mean_var),
            ", this run's is ", exact(first_.mean_var), " (the data differ)");
    KMeansRun best = std::move(st.best);
    bool has_best = st.has_best;
    res.best_run = st.best_run;
    res.run_inertia = st.run_inertia;
    // Saved before the first run too: a run stopped at any point after its first pass resumes.
    if (ckpt_.on() && !p_.checkpoint.resume) save_state(0, LloydState{}, res, nullptr);
    for (int r = st.run; r < n_init_; ++r) {
      throw_if_cancelled(ctx);
      LloydState start;
      if (r == st.run && st.lloyd.iteration > 0) {
        start = std::move(st.lloyd);
      } else {
        start.centres = initial(r, progress, res.rows);
      }
      // The sample (up to 256 MiB) is not needed by the last run's Lloyd passes: the memory goes
      // back before they allocate labels and distances for every row.
      if (r + 1 == n_init_) {
        std::vector<float>().swap(first_.rows);
        std::vector<double>().swap(first_.weights);
      }
      const auto save = [&](const LloydState& ls) {
        save_state(r, ls, res, has_best ? &best : nullptr);
      };
      KMeansRun run = lloyd_.run(std::move(start), res.tol_abs, first_.mean_var, r, n_init_,
                                 ckpt_.on() ? LloydSaveFn(save) : nullptr, p_.checkpoint.every);
      res.run_inertia.push_back(run.inertia);
      if (!has_best || run.inertia < best.inertia) {
        best = std::move(run);
        res.best_run = r;
        has_best = true;
      }
      if (ckpt_.on()) save_state(r + 1, LloydState{}, res, &best);
    }
    if (best.labels.size() != static_cast<size_t>(lloyd_.rows())) {
      // The best run finished before the resume: one pass gives its labels again, and the
      // inertia it had.
      const double stored = best.inertia;
      lloyd_.finish(best);
      require(best.inertia == stored, "checkpoint ", ckpt_.path,
              ": the best run's centres give inertia ", exact(best.inertia), ", not the stored ",
              exact(stored), " (the data differ)");
    }
    take_best_run(std::move(best), res);
  }

 private:
  std::vector<float> initial(int r, const KMeansCallback& progress, int64_t n) {
    const double t0 = now_s();
    if (progress && file_centres_.empty()) {
      KMeansProgress pr = phase("init", n, p_, n_init_);
      pr.run = r;
      progress(pr);
    }
    // k-means|| assigns the sample to its candidates: without bounds, which would group every
    // round's candidates for nothing; the Lloyd passes start afresh with them.
    const bool parallel = file_centres_.empty() && p_.init == InitMethod::KMeansParallel;
    if (parallel) backend_.use_bounds(0);
    auto centres =
        initial_centres(p_, r, first_, file_centres_, first_.d, backend_, threads_, &init_note);
    if (parallel) backend_.use_bounds(bound_groups_);
    init_s += now_s() - t0;
    return centres;
  }

  void save_state(int run, const LloydState& ls, const KMeansResult& res, const KMeansRun* best) {
    KMeansState s;
    s.run = run;
    s.lloyd = ls;
    s.run_inertia = res.run_inertia;
    s.has_best = best != nullptr;
    s.best_run = res.best_run;
    if (best) s.best = without_labels(*best);
    s.mean_var = first_.mean_var;
    save_checkpoint(ckpt_.path, ckpt_.id, s);
  }

  const KMeansParams& p_;
  int n_init_;
  FirstPass& first_;
  const std::vector<float>& file_centres_;
  KMeansBackend& backend_;
  int64_t bound_groups_;  // as given to backend_.use_bounds
  int threads_;
  Lloyd& lloyd_;
  Checkpointing& ckpt_;
};

// K-means of the rows as read (the metric's preparation done by the caller).
KMeansResult kmeans_prepared(Source& source, const KMeansParams& params,
                             const ExecutionContext& ctx, const KMeansCallback& progress) {
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
  if (from_file && params.metric == Metric::Cosine) {
    for (int64_t c = 0; c < k; ++c)
      require(std::any_of(file_centres.begin() + c * d, file_centres.begin() + (c + 1) * d,
                          [](float v) { return v != 0.0f; }),
              "init: ", params.init_file, ": centre ", c,
              " is all zeros: the cosine metric has no direction for it");
    normalise_centres(file_centres, d);
  }

  Communicator* comm = ranks_of(ctx);
  require(!comm || params.checkpoint.dir.empty(),
          "checkpoints are not supported in a run of several MPI ranks (", comm ? comm->size() : 1,
          ")");
  const RowSlab slab = slab_of(n, comm);
  const RankClock rank_clock(comm, slab);

  KMeansResult res;
  BackendChoice choice = make_kmeans_backend(params, ctx, threads);
  KMeansBackend& backend = *choice.backend;
  backend.set_weights(params.sample_weight.empty() ? nullptr : params.sample_weight.data());
  if (!choice.note.empty()) res.notes.emplace_back("device_note", choice.note);
  const BoundGroups bounds = bound_groups(params.algorithm, slab.last - slab.first, k, d, budget);
  const int64_t groups = bounds.groups;
  const bool bounded = backend.use_bounds(groups);
  res.notes.emplace_back("algorithm", bounded ? bounds.name : "lloyd");
  if (progress) {
    KMeansProgress pr = phase("device", n, params, n_init);
    pr.device = backend.device_name();
    pr.device_note = choice.note;
    progress(pr);
  }
  // A checkpoint that cannot be resumed stops the run before any pass over the data.
  Checkpointing ckpt = open_checkpoint(source, params, n_init, backend, res);

  RowBlocks blocks(source, budget, kAssignGrain, int64_t(1) << 18, slab.first, slab.last);
  blocks.pin_buffers_with(backend.host_pinning());  // unpinned before the backend goes
  const int64_t m = sample_size(params, n, d, res);
  FirstPass first = first_pass(blocks, params, ctx, from_file ? 0 : m, threads, n_init, progress);
  res.tol_abs = params.tol * first.mean_var;
  res.rows = n;
  res.dims = d;

  Lloyd lloyd(source, params, ctx, backend, blocks, progress);
  Runs runs(params, n_init, first, file_centres, backend, bounded ? groups : 0, threads, lloyd,
            ckpt);
  runs.all(ctx, progress, res);

  res.device = backend.device_name();
  if (comm) {
    // Labels in row order on rank 0; every rank's slab, device and time for the report.
    res.labels = gather_values(res.labels, *comm);
    res.ranks = rank_clock.gather(res.device);
  }
  res.streamed = !blocks.resident();
  res.block_rows = blocks.block_rows();
  res.init_sample_rows = first.m;
  res.timings = {{"read_wait", blocks.wait_seconds()},
                 {"stats_and_sample", first.seconds},
                 {"init", runs.init_s},
                 {"assign", lloyd.assign_s},
                 {"update", lloyd.update_s},
                 {"total", now_s() - t_start}};
  for (auto& t : backend.timings()) res.timings.push_back(t);
  for (auto& nt : backend.notes()) res.notes.push_back(nt);
  res.notes.emplace_back("memory_budget", format_bytes(budget));
  if (!runs.init_note.empty()) res.notes.emplace_back("init_k_means_parallel", runs.init_note);
  // As scikit-learn warns: fewer distinct clusters than asked for (duplicate rows).
  const int64_t distinct =
      std::count_if(res.sizes.begin(), res.sizes.end(), [](int64_t s) { return s > 0; });
  if (distinct < k)
    res.notes.emplace_back("distinct_clusters",
                           "only " + std::to_string(distinct) +
                               (distinct == 1 ? " distinct cluster" : " distinct clusters") +
                               " found, fewer than n_clusters=" + std::to_string(k) +
                               " (duplicate rows?)");
  return res;
}

}  // namespace

KMeansResult kmeans(Source& source, const KMeansParams& params, const ExecutionContext& ctx,
                    const KMeansCallback& progress) {
  validate_weights(params.sample_weight, source.rows(), params.n_clusters);
  // Weights that are all 1 are no weights: the same draws and bits as an unweighted run.
  if (!params.sample_weight.empty() &&
      std::all_of(params.sample_weight.begin(), params.sample_weight.end(),
                  [](double w) { return w == 1.0; })) {
    KMeansParams unweighted = params;
    std::vector<double>().swap(unweighted.sample_weight);
    return kmeans(source, unweighted, ctx, progress);
  }
  if (params.metric != Metric::Cosine) return kmeans_prepared(source, params, ctx, progress);
  // Spherical K-means: Lloyd on the unit sphere, where ||x - c||^2 = 2 (1 - cos): the passes sum
  // squared distances, reported halved as cosine distances (exact: a power of two).
  const std::unique_ptr<Source> unit = prepare_source(nonzero_rows(source), "l2", ctx);
  KMeansCallback halved;
  if (progress) {
    halved = [&progress](const KMeansProgress& p) {
      KMeansProgress q = p;
      q.inertia /= 2;
      progress(q);
    };
  }
  KMeansResult res = kmeans_prepared(*unit, params, ctx, halved);
  res.inertia /= 2;
  for (auto& h : res.history) h.inertia /= 2;
  for (auto& v : res.run_inertia) v /= 2;
  return res;
}

}  // namespace embcluster
