#pragma once
// K-means sample weights: their checks (read_sample_weight is in embcluster/kmeans.h).
#include <cstdint>
#include <vector>

namespace embcluster {

// Throws Error unless w is empty, or holds one finite weight >= 0 per row (n) with at least k of
// them > 0 (each centre needs a row that counts).
void validate_weights(const std::vector<double>& w, int64_t n, int64_t k);

}  // namespace embcluster
