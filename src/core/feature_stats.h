#pragma once
// Per-feature mean and variance in one pass over row blocks, in double. Chunks of rows are merged
// in row order (Chan et al.) within the fixed pieces of core/piece_tree.h, and the pieces along
// their tree, so that the figures depend neither on threads, block size nor MPI ranks.
#include <cstdint>
#include <vector>

#include "core/piece_tree.h"
#include "io/row_blocks.h"

namespace embcluster {

class Communicator;

class FeatureStats {
 public:
  explicit FeatureStats(int64_t d) : d_(d) { open_.reset(d); }
  // Adds a block; its start must be a multiple of `chunk`, which divides kSumPieceRows (RowBlocks
  // guarantees this for its grain).
  void add(const Block& b, int64_t chunk, int threads);
  // Combines the pieces added (and, with a communicator of several ranks, every rank's: a
  // collective call). Call once, after the last add() and before the figures below.
  void finish(Communicator* comm = nullptr);
  int64_t count() const { return total_.n; }
  const std::vector<double>& mean() const { return total_.mean; }
  std::vector<double> variance() const;  // population variance (ddof = 0), as numpy's var
  double mean_variance() const;

  // Count, mean and sum of squared deviations of some rows.
  struct Moments {
    int64_t n = 0;
    std::vector<double> mean, m2;
    void reset(int64_t d);
    void add(const Moments& right);  // Chan's merge: this becomes the moments of both
  };

 private:
  int64_t d_;
  int64_t piece_ = -1;
  Moments open_;  // of the open piece
  PieceTree<Moments> done_;
  Moments total_;
};

}  // namespace embcluster
