#pragma once
// The narrow interface between drivers and the hardware. Drivers never include BLAS or CUDA.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/piece_tree.h"
#include "io/host_pinning.h"
#include "io/row_blocks.h"

namespace embcluster {

class Communicator;

// Per-cluster sums of rows, in double: one piece of rows (core/piece_tree.h), or a whole pass.
// Every row counts with its weight (1 without weights; multiplying by 1 is exact, so unweighted
// sums are those of the plain rows).
struct ClusterTotals {
  int64_t k = 0, d = 0;
  std::vector<double> sums;     // k x d: sum of weight * row
  std::vector<int64_t> counts;  // k: rows
  std::vector<double> weight;   // k: sum of the rows' weights (= counts without weights)
  std::vector<double> sq_dist;  // k: sum of weight * squared distance of the cluster's rows

  void reset(int64_t k_, int64_t d_);
  // this += right, element by element.
  void add(const ClusterTotals& right);
  double inertia() const {
    double s = 0;
    for (double v : sq_dist) s += v;
    return s;
  }
};

// The sums of one pass. Backends add the rows of each piece of kSumPieceRows rows
// (core/piece_tree.h) in row order within each cluster into the fields, calling start_piece()
// first; finish() combines the pieces along their fixed tree, so the totals depend neither on the
// thread count, the block size nor, across MPI ranks, on the number of ranks.
struct ClusterSums : ClusterTotals {
  void reset(int64_t k_, int64_t d_);
  // The fields hold piece `piece` from now on; the piece they held before is put aside.
  void start_piece(int64_t piece);
  // The piece open now (-1 before the first).
  int64_t piece() const { return piece_; }
  // Pieces [first, first + 2^level) already combined along the tree (a backend that combines its
  // pieces where it made them); no piece may be open.
  void push_subtree(int64_t first, int level, ClusterTotals&& t);
  // The pass's totals in the fields: every piece of this process and, with a communicator of
  // several ranks, of every rank (a collective call then). Identical on every rank.
  void finish(Communicator* comm = nullptr);

 private:
  int64_t piece_ = -1;
  PieceTree<ClusterTotals> done_;
};

class KMeansBackend {
 public:
  virtual ~KMeansBackend() = default;
  // "cpu (2 threads)", "NVIDIA H100 80GB HBM3 (cuda:0)", ...
  virtual std::string device_name() const = 0;
  // Centres used by the following assign() calls (k x d, row-major).
  virtual void set_centroids(const float* centroids, int64_t k, int64_t d) = 0;
  // Distance bounds (cpu/centre_groups.h): keep, for every row, its centre and `groups` lower
  // bounds on its distances to groups of centres, so that later passes measure only what the
  // bounds leave open (1 group: Hamerly; a group per centre: Elkan; between: Yinyang). The labels
  // are those of plain Lloyd (groups = 0, the default). Returns false where the backend has no
  // bounds: it runs Lloyd.
  virtual bool use_bounds(int64_t groups) { return groups == 0; }
  // The weight of every row of the data (indexed by source row, Block::start + i), used by the
  // sums of the following passes; null (default) = every row weighs 1. Must stay valid while set.
  virtual void set_weights(const double* row_weights) = 0;
  // For every row of the block: the nearest centre (lowest index on ties) and the squared
  // distance to it computed exactly as sum((x - c)^2). When sums is not null, adds the block's
  // rows to it piece by piece (ClusterSums::start_piece at every piece the block enters).
  // A transient block (Block::index == kTransientBlock; sums then null) leaves no state behind.
  virtual void assign(const Block& block, int32_t* labels, float* sq_dist, ClusterSums* sums) = 0;
  // Brackets a pass over all blocks. Backends that accumulate on a device add into `sums` at
  // end_pass(); others add in assign() and need nothing here.
  virtual void begin_pass(ClusterSums* /*sums*/) {}
  virtual void end_pass(ClusterSums* /*sums*/) {}
  // The rows k-means++ picks from (n x d, row-major): kept (on the device, or by pointer with
  // their squared norms) for the sample_sq_distances() calls that follow; x must stay valid and
  // unchanged until the next set_sample().
  virtual void set_sample(const float* x, int64_t n, int64_t d) = 0;
  // Squared distances between every sample row and every row of y (m x d) into out (n x m).
  virtual void sample_sq_distances(const float* y, int64_t m, float* out) = 0;
  // Greedy k-means++ rounds 1 .. k-1 over the sample, run where the backend's distances are:
  // picks[0] = first is given; draws holds (k - 1) x trials uniform draws in [0, 1), round by
  // round; w: the sample's weights or null. Fills picks (k) as the host loop of kmeans_init.cpp
  // would from the same distances (kernels/kmeanspp.cuh) and returns true; false (the default)
  // leaves the rounds to that loop.
  virtual bool plus_plus_rounds(int64_t /*first*/, int64_t /*k*/, int64_t /*trials*/,
                                const double* /*draws*/, const double* /*w*/, int64_t* /*picks*/) {
    return false;
  }
  // Page-locks the driver's streaming buffers for direct copies to the backend's device (null:
  // the backend copies from pageable memory, or needs no copies).
  virtual HostPinning* host_pinning() { return nullptr; }
  // Seconds per phase since construction, for the report.
  virtual std::vector<std::pair<std::string, double>> timings() const { return {}; }
  virtual std::vector<std::pair<std::string, std::string>> notes() const { return {}; }
};

// Rows of the CPU assignment's units (cpu/unit_sums.h): blocks given to assign() start at a
// multiple of it and, but for the last, span a multiple of it (see RowBlocks grain).
constexpr int64_t kAssignGrain = 4096;

std::unique_ptr<KMeansBackend> make_cpu_kmeans_backend(int threads);

}  // namespace embcluster
