#pragma once
// Cluster-quality metrics as report.json sections, shared by `evaluate` and `kmeans`.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/common.h"
#include "embcluster/metrics.h"
#include "embcluster/source.h"

namespace embcluster::cli {

nlohmann::json silhouette_json(const SilhouetteResult& s);
nlohmann::json cluster_metrics_json(const ClusterMetrics& m);

// Rows of the silhouette in a clustering's report: all of them up to kReportExactRows, otherwise
// a seeded sample.
constexpr int64_t kReportExactRows = 10000;

// The "metrics" section of a clustering's report: silhouette (exact up to kReportExactRows rows,
// otherwise `sample` seeded rows each scored against all rows, with its 95% interval; `why` says
// how the sample size was chosen), Davies-Bouldin and Calinski-Harabasz (euclidean; the silhouette
// in `metric`). A labelling the metrics do not accept (a single cluster, ...) gives {"error":
// "..."} instead of failing the command; a fault on the device (CudaError) or a cancelled run still
// fails it. The silhouette runs on ctx's device within its budgets and reports its progress to
// `progress`.
nlohmann::json clustering_metrics_json(Source& data, const std::vector<int32_t>& labels,
                                       uint64_t seed, int64_t sample, const std::string& why,
                                       const ExecutionContext& ctx,
                                       const MetricsCallback& progress = nullptr,
                                       Metric metric = Metric::Euclidean);

// A progress callback for the silhouette that updates `line`.
MetricsCallback silhouette_progress(ProgressLine& line);

// One line for the summary: silhouette (with its interval when sampled), Davies-Bouldin,
// Calinski-Harabasz and the seconds they took; empty when the section has an error.
std::string metrics_summary(const nlohmann::json& metrics);

}  // namespace embcluster::cli
