#pragma once
// The sweep's silhouettes, shared: the sampled silhouette of several labelings of the same rows
// (one per k) from one computation of the sample's distances to all rows. Each tile of distances
// (BLAS sgemm) is reduced into per-cluster sums for every labeling, so the GEMM work is that of one
// silhouette whatever the number of k.
#include <cstdint>
#include <vector>

#include "embcluster/context.h"
#include "embcluster/enums.h"

namespace embcluster {

struct SampledScore {
  double score = 0, ci_low = 0, ci_high = 0;  // mean over the sample and its 95% interval
};

// x: the n x d rows in memory (as the metric sees them: for cosine they are normalised here).
// labelings[t][i]: row i's cluster in [0, ks[t]). sample: the scored rows (ascending source rows),
// each scored against all rows as silhouette() does (a = mean distance to the other rows of its
// cluster, 0 for a cluster of one; b = the lowest mean distance to another cluster).
std::vector<SampledScore> shared_silhouettes(const std::vector<float>& x, int64_t n, int64_t d,
                                             Metric metric,
                                             const std::vector<std::vector<int32_t>>& labelings,
                                             const std::vector<int64_t>& ks,
                                             const std::vector<int64_t>& sample,
                                             const ExecutionContext& ctx);

}  // namespace embcluster
