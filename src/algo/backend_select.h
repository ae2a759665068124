#pragma once
// Chooses the K-means backend from --device: auto (a GPU when one is present), cpu, cuda[:N].
#include <memory>
#include <string>

#include "algo/backend.h"
#include "embcluster/kmeans.h"

namespace embcluster {

struct BackendChoice {
  std::unique_ptr<KMeansBackend> backend;
  std::string note;  // one line for the user when auto fell back to the CPU, else empty
};

BackendChoice make_kmeans_backend(const KMeansParams& params, int threads);

// Parses "auto" | "cpu" | "cuda" | "cuda:N". Returns -2 for auto, -1 for cpu, N for cuda.
int parse_device(const std::string& device);

}  // namespace embcluster
