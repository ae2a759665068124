#pragma once
// Lloyd's K-means iterations over the row blocks through a backend: assign every row to its
// nearest centre while the backend sums the clusters, then move the centres (kmeans_common.h).
#include <cstdint>
#include <functional>
#include <vector>

#include "backend/kmeans_backend.h"
#include "embcluster/communicator.h"
#include "embcluster/kmeans.h"
#include "io/row_blocks.h"

namespace embcluster {

// One run from one set of initial centres.
struct KMeansRun {
  std::vector<float> centroids;
  std::vector<int32_t> labels;
  std::vector<int64_t> sizes;
  std::vector<KMeansIteration> history;
  double inertia = 0;
  int iterations = 0;
  bool converged = false;
  int64_t relocations = 0;
};

// Where a run stands between two iterations: what a checkpoint saves and a resumed run starts
// from. The convergence test compares a pass's labels with the previous pass's; those are the
// labels of prev_centres, so a resume recomputes them with one pass instead of storing n labels.
struct LloydState {
  int iteration = 0;                // iterations done (0: a run not started)
  std::vector<float> centres;       // after `iteration` updates (the initial ones at 0)
  std::vector<float> prev_centres;  // the centres of the last pass; empty at iteration 0
  std::vector<KMeansIteration> history;
  int64_t relocations = 0;
};
// Called after the iterations the checkpoint interval selects (never after the last one).
using LloydSaveFn = std::function<void(const LloydState&)>;

class Lloyd {
 public:
  // ctx: polled for cancellation before every iteration; its communicator (several ranks) makes
  // every pass combine the ranks' sums. blocks: this rank's slab of the rows.
  Lloyd(Source& src, const KMeansParams& p, const ExecutionContext& ctx, KMeansBackend& be,
        RowBlocks& blocks, const KMeansCallback& cb);

  // Rows of this rank's slab (every row in one process).
  int64_t rows() const { return n_; }

  // Seconds spent assigning (the passes over the data) and updating, over every run.
  double assign_s = 0, update_s = 0;

  // Lloyd iterations from the given centres until converged (kmeans_common.h) or max_iter, then a
  // last assignment to the final centres. tol_abs: the shift tolerance; scale: the tolerance's
  // scale for the progress reports; run of n_init: for the progress reports.
  // start: the initial centres at iteration 0, or a checkpoint's state. save (may be empty):
  // called with the state after every `every` iterations.
  KMeansRun run(LloydState start, double tol_abs, double scale, int run, int n_init,
                const LloydSaveFn& save = nullptr, int every = 0);

  // Labels (of this rank's slab of rows: all rows in one process), sizes and inertia of
  // r.centroids (the run's last pass); labels and dist: buffers to reuse (resized to the rows).
  void finish(KMeansRun& r, std::vector<int32_t> labels = {}, std::vector<float> dist = {});

 private:
  // Assigns every row to its nearest centre; sums holds the pass's per-cluster sums after.
  void pass(const std::vector<float>& centres, std::vector<int32_t>& labels,
            std::vector<float>& dist, ClusterSums& sums);
  void report(int run, int n_init, int iteration, double inertia, double shift, double scale,
              double elapsed_s, double pass_s) const;

  Source& src_;
  const KMeansParams& p_;
  const ExecutionContext& ctx_;
  KMeansBackend& be_;
  RowBlocks& blocks_;
  const KMeansCallback& cb_;
  Communicator* comm_;  // null in a one-process run
  int64_t first_;       // the slab's first row (0 in a one-process run)
  int64_t n_, d_, k_;   // n_: rows of the slab
};

}  // namespace embcluster
