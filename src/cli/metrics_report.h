#pragma once
// Cluster-quality metrics as report.json sections, shared by `evaluate` and `kmeans`.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "embcluster/metrics.h"
#include "embcluster/source.h"

namespace embcluster::cli {

nlohmann::json silhouette_json(const SilhouetteResult& s);
nlohmann::json cluster_metrics_json(const ClusterMetrics& m);

// The "metrics" section of a clustering's report: silhouette (exact up to 10,000 rows, otherwise
// a seeded sample of 10,000 rows scored against all rows, with its 95% interval), Davies-Bouldin
// and Calinski-Harabasz (euclidean). A labelling the metrics do not accept (a single cluster, ...)
// gives {"error": "..."} instead of failing the command. The silhouette runs on `device` (auto,
// cpu, cuda[:N]) with device_memory_budget bytes of GPU memory (0 = most of the free memory).
nlohmann::json clustering_metrics_json(Source& data, const std::vector<int32_t>& labels,
                                       uint64_t seed, const std::string& device = "auto",
                                       int64_t device_memory_budget = 0);

}  // namespace embcluster::cli
