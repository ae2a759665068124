#pragma once
// Per-feature mean and variance in one pass over row blocks, in double, merged chunk by chunk in
// row order (Chan et al.) so that the figures do not depend on threads or block size.
#include <cstdint>
#include <vector>

#include "io/row_blocks.h"

namespace embcluster {

class FeatureStats {
 public:
  explicit FeatureStats(int64_t d) : mean_(d, 0.0), m2_(d, 0.0) {}
  // Adds a block; its start must be a multiple of `chunk` (RowBlocks guarantees this for its grain).
  void add(const Block& b, int64_t chunk, int threads);
  int64_t count() const { return count_; }
  const std::vector<double>& mean() const { return mean_; }
  std::vector<double> variance() const;  // population variance (ddof = 0), as numpy's var
  double mean_variance() const;

 private:
  void merge(int64_t n, const double* mean, const double* m2);
  int64_t count_ = 0;
  std::vector<double> mean_, m2_;
};

}  // namespace embcluster
