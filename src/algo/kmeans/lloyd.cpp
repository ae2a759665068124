#include "algo/kmeans/lloyd.h"

#include <algorithm>
#include <chrono>

#include "algo/kmeans/kmeans_common.h"

namespace embcluster {
namespace {

double now_s() {
  using clock = std::chrono::steady_clock;
  return std::chrono::duration<double>(clock::now().time_since_epoch()).count();
}

}  // namespace

Lloyd::Lloyd(Source& src, const KMeansParams& p, const ExecutionContext& ctx, KMeansBackend& be,
             RowBlocks& blocks, const KMeansCallback& cb)
    : src_(src),
      p_(p),
      ctx_(ctx),
      be_(be),
      blocks_(blocks),
      cb_(cb),
      comm_(ranks_of(ctx)),
      first_(blocks.first_row()),
      n_(blocks.rows()),
      d_(src.cols()),
      k_(p.n_clusters) {}

KMeansRun Lloyd::run(LloydState start, double tol_abs, double scale, int run, int n_init,
                     const LloydSaveFn& save, int every) {
  KMeansRun r;
  std::vector<int32_t> labels(static_cast<size_t>(n_)), old(static_cast<size_t>(n_), -1);
  std::vector<float> dist(static_cast<size_t>(n_));
  ClusterSums sums;
  std::vector<float> centres = std::move(start.centres);
  r.history = std::move(start.history);
  r.relocations = start.relocations;
  r.iterations = start.iteration;
  // A resumed run: the previous pass's labels, as the uninterrupted run holds them (passes are
  // deterministic whatever the threads or blocks).
  if (start.iteration > 0) pass(start.prev_centres, old, dist, sums);
  const double t_run = now_s();
  for (int it = start.iteration; it < p_.max_iter; ++it) {
    throw_if_cancelled(ctx_);
    const double t0 = now_s();
    pass(centres, labels, dist, sums);
    const double t1 = now_s();
    r.relocations += relocate_empty_clusters(
        sums, labels, dist, first_, src_,
        p_.sample_weight.empty() ? nullptr : p_.sample_weight.data(), comm_);
    std::vector<float> next = centres_from_sums(centres, sums);
    if (p_.metric == Metric::Cosine) normalise_centres(next, d_);
    const double shift = centre_shift(centres, next);
    centres.swap(next);
    update_s += now_s() - t1;
    r.history.push_back({sums.inertia(), shift});
    r.iterations = it + 1;
    report(run, n_init, it + 1, sums.inertia(), shift, scale, now_s() - t_run, t1 - t0);
    if (converged(labels, old, shift, tol_abs, comm_)) {
      r.converged = true;
      break;
    }
    old.swap(labels);
    if (save && every > 0 && (it + 1) % every == 0 && it + 1 < p_.max_iter)
      save(LloydState{it + 1, centres, next, r.history, r.relocations});
  }
  r.centroids = std::move(centres);
  finish(r, std::move(labels), std::move(dist));
  return r;
}

void Lloyd::finish(KMeansRun& r, std::vector<int32_t> labels, std::vector<float> dist) {
  labels.resize(static_cast<size_t>(n_));
  dist.resize(static_cast<size_t>(n_));
  ClusterSums sums;
  pass(r.centroids, labels, dist, sums);
  r.labels = std::move(labels);
  r.sizes = sums.counts;
  r.inertia = sums.inertia();
}

void Lloyd::pass(const std::vector<float>& centres, std::vector<int32_t>& labels,
                 std::vector<float>& dist, ClusterSums& sums) {
  const double t0 = now_s();
  be_.set_centroids(centres.data(), k_, d_);
  sums.reset(k_, d_);
  be_.begin_pass(&sums);
  blocks_.for_each([&](const Block& b) {
    be_.assign(b, labels.data() + (b.start - first_), dist.data() + (b.start - first_), &sums);
  });
  be_.end_pass(&sums);
  sums.finish(comm_);
  assign_s += now_s() - t0;
}

void Lloyd::report(int run, int n_init, int iteration, double inertia, double shift, double scale,
                   double elapsed_s, double pass_s) const {
  if (!cb_) return;
  KMeansProgress pr;
  pr.rows_total = src_.rows();
  pr.run = run;
  pr.n_init = n_init;
  pr.iteration = iteration;
  pr.max_iter = p_.max_iter;
  pr.inertia = inertia;
  pr.shift = scale > 0 ? shift / scale : shift;
  pr.elapsed_s = elapsed_s;
  pr.rows_per_s = static_cast<double>(src_.rows()) / std::max(1e-9, pass_s);
  cb_(pr);
}

}  // namespace embcluster
