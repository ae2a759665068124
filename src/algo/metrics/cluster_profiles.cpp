// Per-cluster means of every column, in one streamed pass (sums in double, row order per
// feature: the same figures for any threads or blocks).
#include <limits>

#include "algo/metrics/metric_labels.h"
#include "core/thread_guard.h"
#include "embcluster/error.h"
#include "embcluster/metrics.h"
#include "io/row_blocks.h"

namespace embcluster {

ClusterProfiles cluster_profiles(Source& data, const std::vector<int32_t>& labels, int64_t k,
                                 const ExecutionContext& ctx) {
  check_context(ctx);
  const int64_t n = data.rows(), d = data.cols();
  require(static_cast<int64_t>(labels.size()) == n, "profiles: ", labels.size(), " labels for ", n,
          " rows");
  require(k >= 1, "profiles: k=", k, " must be at least 1");
  for (int64_t i = 0; i < n; ++i)
    require(labels[i] >= -1 && labels[i] < k, "profiles: row ", i, " has label ", labels[i],
            ", outside -1..", k - 1);
  const int threads = context_threads(ctx);
  const ThreadGuard guard(threads, 1);
  ClusterProfiles p;
  p.k = k;
  p.d = d;
  p.means.assign(static_cast<size_t>(k * d), 0.0);
  p.overall.assign(static_cast<size_t>(d), 0.0);
  p.sizes.assign(static_cast<size_t>(k), 0);
  std::vector<int32_t> all;  // every row in cluster 0 of the overall sums
  RowBlocks blocks(data, context_memory_budget(ctx));
  blocks.for_each([&](const Block& b) {
    throw_if_cancelled(ctx);
    const int32_t* ids = labels.data() + b.start;
    add_cluster_feature_sums(b.data, b.rows, d, ids, p.means.data(), threads);
    all.assign(static_cast<size_t>(b.rows), 0);
    add_cluster_feature_sums(b.data, b.rows, d, all.data(), p.overall.data(), threads);
    for (int64_t i = 0; i < b.rows; ++i)
      if (ids[i] >= 0) ++p.sizes[ids[i]];
  });
  for (int64_t c = 0; c < k; ++c)
    for (int64_t j = 0; j < d; ++j)
      p.means[c * d + j] = p.sizes[c] > 0 ? p.means[c * d + j] / static_cast<double>(p.sizes[c])
                                          : std::numeric_limits<double>::quiet_NaN();
  for (auto& v : p.overall) v /= static_cast<double>(n);
  return p;
}

}  // namespace embcluster
