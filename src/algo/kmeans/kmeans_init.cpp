#include "algo/kmeans/kmeans_init.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_set>
#include <utility>

#include "kernels/kmeanspp.cuh"

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

int64_t first_centre(int64_t m, Rng& rng, const double* w) {
  if (!w) return static_cast<int64_t>(rng.below(static_cast<uint64_t>(m)));
  std::vector<double> cum(static_cast<size_t>(m));
  double total = 0;
  for (int64_t i = 0; i < m; ++i) cum[i] = (total += w[i]);
  const double r = rng.uniform() * total;
  const int64_t i = std::upper_bound(cum.begin(), cum.end(), r) - cum.begin();
  return std::min(i, m - 1);
}

std::vector<double> chunk_potentials(const std::vector<float>& closest, const double* w,
                                     int threads) {
  const int64_t m = static_cast<int64_t>(closest.size()), chunk = kern::kPlusPlusChunk;
  const int64_t chunks = (m + chunk - 1) / chunk;
  std::vector<double> part(static_cast<size_t>(chunks));
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t ch = 0; ch < chunks; ++ch)
    part[ch] = kern::chunk_potential(closest.data(), closest.data(), 1, ch * chunk,
                                     std::min(m, (ch + 1) * chunk), w);
  return part;
}

std::vector<int64_t> kmeans_plus_plus(const float* x, int64_t m, int64_t d, int64_t k, Rng& rng,
                                      KMeansBackend& backend, int threads, const double* w) {
  const int64_t trials = 2 + static_cast<int64_t>(std::log(static_cast<double>(k)));
  std::vector<int64_t> chosen(static_cast<size_t>(k));
  chosen[0] = first_centre(m, rng, w);
  // The draws do not depend on the data: all of them first, so that a backend can run the rounds
  // where its distances are.
  std::vector<double> draws(static_cast<size_t>((k - 1) * trials));
  for (auto& u : draws) u = rng.uniform();

  backend.set_sample(x, m, d);
  if (backend.plus_plus_rounds(chosen[0], k, trials, draws.data(), w, chosen.data())) return chosen;

  // Potentials per chunk (kernels/kmeanspp.cuh): the same sums, and picks, whatever the threads.
  constexpr int64_t kChunk = kern::kPlusPlusChunk;
  const int64_t chunks = (m + kChunk - 1) / kChunk;
  const bool upper = w != nullptr;  // a row of weight 0 is never picked
  std::vector<float> closest(static_cast<size_t>(m));
  backend.sample_sq_distances(x + chosen[0] * d, 1, closest.data());
  std::vector<double> off(static_cast<size_t>(chunks + 1)),
      part = chunk_potentials(closest, w, threads);
  for (int64_t ch = 0; ch < chunks; ++ch) off[ch + 1] = off[ch] + part[ch];
  part.resize(static_cast<size_t>(chunks * trials));

  std::vector<float> cand(static_cast<size_t>(trials * d));
  std::vector<float> dist(static_cast<size_t>(m * trials));
  std::vector<int64_t> cand_idx(static_cast<size_t>(trials));
  for (int64_t c = 1; c < k; ++c) {
    for (int64_t t = 0; t < trials; ++t) {
      const double r = draws[(c - 1) * trials + t] * off[chunks];
      const int64_t i = kern::draw_row(off.data(), chunks, closest.data(), w, m, r, upper);
      cand_idx[t] = i;
      std::copy(x + i * d, x + (i + 1) * d, cand.data() + t * d);
    }
    backend.sample_sq_distances(cand.data(), trials, dist.data());
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t ch = 0; ch < chunks; ++ch)
      for (int64_t t = 0; t < trials; ++t)
        part[ch * trials + t] =
            kern::chunk_potential(closest.data(), dist.data() + t, trials, ch * kChunk,
                                  std::min(m, (ch + 1) * kChunk), w);
    int64_t best = 0;
    double best_pot = 0;
    for (int64_t t = 0; t < trials; ++t) {
      double pot = 0;
      for (int64_t ch = 0; ch < chunks; ++ch) pot += part[ch * trials + t];
      if (t == 0 || pot < best_pot) best = t, best_pot = pot;
    }
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t i = 0; i < m; ++i) closest[i] = std::min(closest[i], dist[i * trials + best]);
    for (int64_t ch = 0; ch < chunks; ++ch) off[ch + 1] = off[ch] + part[ch * trials + best];
    chosen[c] = cand_idx[best];
  }
  return chosen;
}

}  // namespace embcluster
