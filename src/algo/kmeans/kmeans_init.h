#pragma once
// Initial centres for K-means: greedy k-means++ (as scikit-learn) and random distinct rows, both on
// a uniform sample of the rows.
#include <cstdint>
#include <vector>

#include "backend/kmeans_backend.h"
#include "core/rng.h"

namespace embcluster {

// m distinct row indices of [0, n), ascending, uniformly chosen (Floyd's algorithm).
std::vector<int64_t> sample_rows(int64_t n, int64_t m, Rng& rng);

// Greedy k-means++ on x (m x d): each new centre is the best of 2 + ln(k) candidates drawn with
// probability proportional to the squared distance to the nearest chosen centre. Returns the
// chosen row indices of x. The potentials are summed on `threads` OpenMP threads (the result does
// not depend on them).
std::vector<int64_t> kmeans_plus_plus(const float* x, int64_t m, int64_t d, int64_t k, Rng& rng,
                                      KMeansBackend& backend, int threads);

// k distinct rows of [0, m) in random order.
std::vector<int64_t> random_rows(int64_t m, int64_t k, Rng& rng);

}  // namespace embcluster
