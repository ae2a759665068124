#pragma once
// The silhouette on a CUDA device: rows read from the source and grouped by cluster, their
// per-cluster distance sums from the device primitive (cuda/cuda_metrics.h), scored on the host
// with the arithmetic of the CPU path (kernels/silhouette_math.cuh).
#include <cstdint>
#include <string>
#include <vector>

#include "algo/metrics/metric_labels.h"
#include "embcluster/metrics.h"
#include "embcluster/source.h"

namespace embcluster {

struct DeviceSilhouette {
  std::vector<float> samples;  // per row, NaN when not scored
  bool streamed = false;       // the source was read in blocks more than once
  int64_t passes = 0;          // reads of the whole source
  std::string device;          // the device's name
};

// Scores every row that counts (sample empty) or the sample rows (ascending source rows) on CUDA
// device `device`, with the threads and memory budgets of ctx. Throws Error when the device fails.
DeviceSilhouette silhouette_on_device(Source& src, const DenseLabels& labels,
                                      const MetricsParams& p, const ExecutionContext& ctx,
                                      int device,
                                      const std::vector<int64_t>& sample,
                                      const MetricsCallback& progress);

}  // namespace embcluster
