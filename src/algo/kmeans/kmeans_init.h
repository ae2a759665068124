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

// The first centre of k-means++ and k-means|| among m rows: uniform, or drawn by weight (w may be
// null).
int64_t first_centre(int64_t m, Rng& rng, const double* w);

// The potential sum of w_i x closest_i (w may be null: 1) per chunk of kern::kPlusPlusChunk rows
// (kernels/kmeanspp.cuh), on `threads` OpenMP threads: the same sums, in the same chunks, whatever
// the threads.
std::vector<double> chunk_potentials(const std::vector<float>& closest, const double* w,
                                     int threads);

// Greedy k-means++ on x (m x d): each new centre is the best of 2 + ln(k) candidates drawn with
// probability proportional to the squared distance to the nearest chosen centre. Returns the
// chosen row indices of x. The potentials are summed on `threads` OpenMP threads (the result does
// not depend on them). w (m weights, may be null): as scikit-learn's sample_weight, the first
// centre is drawn by weight, candidates by weight x squared distance, potentials are weighted.
std::vector<int64_t> kmeans_plus_plus(const float* x, int64_t m, int64_t d, int64_t k, Rng& rng,
                                      KMeansBackend& backend, int threads,
                                      const double* w = nullptr);

// k distinct rows of [0, m) in random order; with weights w (may be null), drawn with probability
// proportional to their weight without replacement (Efraimidis-Spirakis keys), never a row of
// weight 0 (the caller makes sure at least k weights are > 0).
std::vector<int64_t> random_rows(int64_t m, int64_t k, Rng& rng, const double* w = nullptr);

}  // namespace embcluster
