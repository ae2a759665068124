#pragma once
// Assigning rows to given centres (scikit-learn's KMeans.predict / transform for the nearest
// centre): streamed in blocks under the memory budget, on the CPU or a GPU, with the nearest
// centre chosen exactly as K-means chooses it, so that the centres of a run give back its labels.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "embcluster/communicator.h"
#include "embcluster/context.h"
#include "embcluster/enums.h"
#include "embcluster/source.h"

namespace embcluster {

struct AssignParams {
  // Euclidean: the nearest centre by squared distance. Cosine: rows and centres L2-normalised
  // first (a zero row or centre is an error naming it), the nearest by cosine similarity.
  Metric metric = Metric::Euclidean;
  // GEMM precision on the GPU (the CPU always runs fp32).
  Precision precision = Precision::Fp32;
  // > 1: also the `top` nearest centres of every row and the distances to them, nearest first
  // (the first is the label; the others ranked by GEMM tiles on the CPU, then by the exact
  // distance, ties to the lower index).
  int64_t top = 1;
};

struct AssignResult {
  std::vector<int32_t> labels;       // the nearest centre of every row (lowest index on ties)
  std::vector<float> distances;      // to it: euclidean, or 1 - cosine similarity
  std::vector<int32_t> top_labels;   // rows x top (top > 1; -1 past the number of centres)
  std::vector<float> top_distances;  // rows x top, in the metric's units (NaN past the centres)
  std::vector<int64_t> sizes;        // rows per centre
  double inertia = 0;                // sum of squared euclidean distances (of the normalised rows
                                     // and centres for cosine)
  int64_t rows = 0, dims = 0;
  std::string device;
  std::vector<std::pair<std::string, double>> timings;  // seconds: "assign", "total"
  // A distributed run (ExecutionContext::comm of several ranks): every rank's slab, device and
  // time. Rank 0 holds the per-row arrays of every row, the other ranks none; sizes and inertia
  // are on every rank.
  std::vector<RankReport> ranks;
};

// Progress: rows assigned so far of rows_total.
using AssignCallback = std::function<void(int64_t rows_done, int64_t rows_total)>;

// Assigns every row of data to the nearest of the k x d centres (row-major). Throws Error for a
// shape mismatch (centres' d != data's columns), k < 1 or non-finite centres.
AssignResult assign(Source& data, const std::vector<float>& centres, int64_t k,
                    const AssignParams& params = {}, const ExecutionContext& ctx = {},
                    const AssignCallback& progress = {});

}  // namespace embcluster
