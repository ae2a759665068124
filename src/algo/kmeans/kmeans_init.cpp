#include "algo/kmeans/kmeans_init.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_set>
#include <utility>

namespace embcluster {

std::vector<int64_t> sample_rows(int64_t n, int64_t m, Rng& rng) {
  std::vector<int64_t> out;
  if (m >= n) {
    out.resize(static_cast<size_t>(n));
    std::iota(out.begin(), out.end(), int64_t(0));
    return out;
  }
  std::unordered_set<int64_t> chosen;
  chosen.reserve(static_cast<size_t>(m) * 2);
  for (int64_t j = n - m; j < n; ++j) {
    const int64_t t = static_cast<int64_t>(rng.below(static_cast<uint64_t>(j + 1)));
    chosen.insert(chosen.count(t) ? j : t);
  }
  out.assign(chosen.begin(), chosen.end());
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<int64_t> random_rows(int64_t m, int64_t k, Rng& rng, const double* w) {
  if (w) {
    // Row i gets the key log(u) / w_i; the k largest keys are a weighted draw without
    // replacement, in the order of sequential draws.
    std::vector<std::pair<double, int64_t>> keys;
    for (int64_t i = 0; i < m; ++i) {
      const double u = rng.uniform();
      if (w[i] > 0) keys.emplace_back(std::log(u) / w[i], i);
    }
    const auto above = [](const std::pair<double, int64_t>& a,
                          const std::pair<double, int64_t>& b) {
      return a.first > b.first || (a.first == b.first && a.second < b.second);
    };
    k = std::min<int64_t>(k, static_cast<int64_t>(keys.size()));
    std::partial_sort(keys.begin(), keys.begin() + k, keys.end(), above);
    std::vector<int64_t> idx(static_cast<size_t>(k));
    for (int64_t i = 0; i < k; ++i) idx[i] = keys[i].second;
    return idx;
  }
  std::vector<int64_t> idx(static_cast<size_t>(m));
  std::iota(idx.begin(), idx.end(), int64_t(0));
  for (int64_t i = 0; i < k; ++i) {  // partial Fisher-Yates
    const int64_t j = i + static_cast<int64_t>(rng.below(static_cast<uint64_t>(m - i)));
    std::swap(idx[i], idx[j]);
  }
  idx.resize(static_cast<size_t>(k));
  return idx;
}

std::vector<int64_t> kmeans_plus_plus(const float* x, int64_t m, int64_t d, int64_t k, Rng& rng,
                                      KMeansBackend& backend, int threads, const double* w) {
  const int64_t trials = 2 + static_cast<int64_t>(std::log(static_cast<double>(k)));
  // Potentials are summed per fixed chunk of rows, then the chunks in order: the same sums (and
  // centres) whatever the number of threads.
  constexpr int64_t kChunk = 4096;
  const int64_t chunks = (m + kChunk - 1) / kChunk;
  std::vector<int64_t> chosen;
  chosen.reserve(static_cast<size_t>(k));
  if (w) {
    std::vector<double> cum(static_cast<size_t>(m));
    double total = 0;
    for (int64_t i = 0; i < m; ++i) cum[i] = (total += w[i]);
    const double r = rng.uniform() * total;
    const int64_t i = std::upper_bound(cum.begin(), cum.end(), r) - cum.begin();
    chosen.push_back(std::min(i, m - 1));
  } else {
    chosen.push_back(static_cast<int64_t>(rng.below(static_cast<uint64_t>(m))));
  }

  backend.set_sample(x, m, d);
  std::vector<float> closest(static_cast<size_t>(m));
  backend.sample_sq_distances(x + chosen[0] * d, 1, closest.data());

  std::vector<double> cumsum(static_cast<size_t>(m));
  std::vector<float> cand(static_cast<size_t>(trials * d));
  std::vector<float> dist(static_cast<size_t>(m * trials));
  std::vector<int64_t> cand_idx(static_cast<size_t>(trials));
  std::vector<double> part(static_cast<size_t>(chunks * trials));
  for (int64_t c = 1; c < k; ++c) {
    double run = 0;
    for (int64_t i = 0; i < m; ++i) cumsum[i] = (run += w ? w[i] * closest[i] : closest[i]);
    for (int64_t t = 0; t < trials; ++t) {
      const double r = rng.uniform() * run;
      // Weighted: upper_bound never lands on a row of weight 0 (its cumsum equals the previous).
      int64_t i = (w ? std::upper_bound(cumsum.begin(), cumsum.end(), r)
                     : std::lower_bound(cumsum.begin(), cumsum.end(), r)) -
                  cumsum.begin();
      cand_idx[t] = std::min(i, m - 1);
      std::copy(x + cand_idx[t] * d, x + (cand_idx[t] + 1) * d, cand.data() + t * d);
    }
    backend.sample_sq_distances(cand.data(), trials, dist.data());
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t ch = 0; ch < chunks; ++ch) {
      double* p = part.data() + ch * trials;
      std::fill(p, p + trials, 0.0);
      for (int64_t i = ch * kChunk, end = std::min(m, i + kChunk); i < end; ++i) {
        const float* row = dist.data() + i * trials;
        const double wi = w ? w[i] : 1.0;
        for (int64_t t = 0; t < trials; ++t) p[t] += wi * std::min(closest[i], row[t]);
      }
    }
    int64_t best = 0;
    double best_pot = 0;
    for (int64_t t = 0; t < trials; ++t) {
      double pot = 0;
      for (int64_t ch = 0; ch < chunks; ++ch) pot += part[ch * trials + t];
      if (t == 0 || pot < best_pot) best = t, best_pot = pot;
    }
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t i = 0; i < m; ++i) closest[i] = std::min(closest[i], dist[i * trials + best]);
    chosen.push_back(cand_idx[best]);
  }
  return chosen;
}

}  // namespace embcluster
