#pragma once
// Scalable k-means++ (k-means||; Bahmani, Moseley, Vattani, Kumar, Vassilvitskii, "Scalable
// K-Means++", VLDB 2012) on the initialisation sample:
// 1. the first candidate is drawn as k-means++ draws its first centre;
// 2. each round draws every row independently with probability
//    min(1, l x weight x d^2(row, nearest candidate) / potential), l = oversampling x k, and
//    measures every row against the round's candidates with the backend's assignment (exact
//    squared distances; the rows as a transient block);
// 3. each candidate weighs the rows (their weights) that have it as their nearest candidate;
// 4. greedy k-means++ over the weighted candidates picks the k centres.
// A few large assignments replace k small rounds over the whole sample; only step 4 runs k
// rounds, over about oversampling x k x rounds candidates instead of the sample.
#include <cstdint>
#include <vector>

#include "backend/kmeans_backend.h"
#include "core/rng.h"

namespace embcluster {

struct ParallelInit {
  std::vector<int64_t> rows;  // the k chosen rows of x
  int64_t candidates = 0;     // candidates of weight > 0 that step 4 chose from
  int rounds = 0;             // rounds of step 2 run
  int64_t filled = 0;         // rows added at random because the sample held too few candidates
};

// k-means|| on x (m x d, m >= k rows, at least k of weight > 0 when w is given): the rows of the k
// initial centres. The result depends on the seed of rng only (not on threads or the backend's
// blocks). Calls backend.set_centroids, assign (transient blocks) and set_sample.
ParallelInit kmeans_parallel(const float* x, int64_t m, int64_t d, int64_t k, double oversampling,
                             int rounds, Rng& rng, KMeansBackend& backend, int threads,
                             const double* w = nullptr);

}  // namespace embcluster
