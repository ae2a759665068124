#pragma once
// Cluster-quality metrics as report.json sections, shared by `evaluate` and `kmeans`.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <vector>

#include "embcluster/metrics.h"
#include "embcluster/source.h"

namespace embcluster::cli {

nlohmann::json silhouette_json(const SilhouetteResult& s);
nlohmann::json cluster_metrics_json(const ClusterMetrics& m);

// The "metrics" section of a clustering's report: silhouette (exact up to 10,000 rows, otherwise
// a seeded sample of 10,000 rows scored against all rows, with its 95% interval), Davies-Bouldin
// and Calinski-Harabasz (euclidean). A labelling the metrics do not accept (a single cluster, ...)
// gives {"error": "..."} instead of failing the command.
nlohmann::json clustering_metrics_json(Source& data, const std::vector<int32_t>& labels,
                                       uint64_t seed);

}  // namespace embcluster::cli
