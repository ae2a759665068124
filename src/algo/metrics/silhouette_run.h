#pragma once
// The silhouette's one driver over a cluster sums backend (backend/cluster_sums.h): the rows are
// read from the source, grouped by cluster as the backend asks, and scored from their per-cluster
// distance sums with the arithmetic of kernels/silhouette_math.cuh. Exact (every pair of tiles
// once, or slabs of query rows, or blocks of rows against blocks of rows when the data does not
// fit the host budget) and sampled (the sample against every row, held or streamed).
#include <cstdint>
#include <functional>
#include <vector>

#include "algo/metrics/metric_labels.h"
#include "algo/metrics/silhouette_checkpoint.h"
#include "backend/cluster_sums.h"
#include "embcluster/metrics.h"
#include "embcluster/source.h"

namespace embcluster {

struct SilhouetteScores {
  std::vector<float> samples;  // per row, NaN when not scored
  bool streamed = false;       // the source was read in blocks more than once
  int64_t passes = 0;          // reads of the whole source
};

// Progress in rows scored so far (of the rows to score).
using RowsDone = std::function<void(int64_t)>;

// Scores every row that counts (sample empty) or the sample rows (ascending source rows) through
// `sums`, with p's metric and ctx's threads and host memory budget. With a checkpoint that is on
// (exact only), every row is scored a block of rows at a time, saved and resumed there. Throws
// what the backend throws.
SilhouetteScores silhouette_scores(Source& src, const DenseLabels& labels, const MetricsParams& p,
                                   const ExecutionContext& ctx, ClusterDistanceSums& sums,
                                   const std::vector<int64_t>& sample, const RowsDone& done,
                                   SilhouetteCheckpoint* ckpt = nullptr);

// The exact cosine silhouette from per-cluster sums of the unit rows (MetricsParams::
// cosine_cluster_sums), on the CPU: O(rows x clusters x d).
SilhouetteScores cosine_silhouette_from_cluster_sums(
    Source& src, const DenseLabels& labels, const MetricsParams& p, const ExecutionContext& ctx,
    const std::vector<int64_t>& sample, const RowsDone& done, SilhouetteCheckpoint* ckpt = nullptr);

// The summary of r.samples (per row, NaN when not scored): score, rows scored, and per cluster
// the labels, sizes, rows scored and mean (NaN for a cluster with no row scored).
void summarise_samples(const DenseLabels& labels, SilhouetteResult& r);

}  // namespace embcluster
