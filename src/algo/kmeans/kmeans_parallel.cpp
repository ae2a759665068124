#include "algo/kmeans/kmeans_parallel.h"

#include <algorithm>
#include <cstring>

#include "algo/kmeans/kmeans_init.h"
#include "kernels/kmeanspp.cuh"

namespace embcluster {
namespace {

constexpr int64_t kSampleBlockRows = int64_t(1) << 18;  // rows per transient block
constexpr int kExtraRounds = 64;  // rounds after `rounds` while candidates are too few

// Every row's nearest of the c rows of y and its exact squared distance, by the backend's
// assignment of the rows as transient blocks.
void nearest(KMeansBackend& be, const float* x, int64_t m, int64_t d, const float* y, int64_t c,
             int32_t* label, float* dist) {
  be.set_centroids(y, c, d);
  be.begin_pass(nullptr);
  for (int64_t r0 = 0; r0 < m; r0 += kSampleBlockRows) {
    Block b;
    b.index = kTransientBlock;
    b.start = r0;
    b.rows = std::min(kSampleBlockRows, m - r0);
    b.cols = d;
    b.data = x + r0 * d;
    be.assign(b, label + r0, dist + r0, nullptr);
  }
  be.end_pass(nullptr);
}

// Sum of w_i x closest_i, the chunks' potentials added in chunk order.
double potential(const std::vector<float>& closest, const double* w, int threads) {
  double s = 0;
  for (const double v : chunk_potentials(closest, w, threads)) s += v;
  return s;
}

}  // namespace

ParallelInit kmeans_parallel(const float* x, int64_t m, int64_t d, int64_t k, double oversampling,
                             int rounds, Rng& rng, KMeansBackend& backend, int threads,
                             const double* w) {
  ParallelInit out;
  const double l = oversampling * static_cast<double>(k);
  std::vector<int64_t> cand{first_centre(m, rng, w)};
  std::vector<float> closest(static_cast<size_t>(m)), dist(static_cast<size_t>(m));
  std::vector<int32_t> near(static_cast<size_t>(m), 0), label(static_cast<size_t>(m));
  nearest(backend, x, m, d, x + cand[0] * d, 1, label.data(), closest.data());
  // Candidates of weight > 0 so far: a row is its own nearest candidate unless an earlier one
  // lies at distance 0 from it.
  const auto positive = [&] {
    std::vector<char> has(cand.size(), 0);
    for (int64_t i = 0; i < m; ++i)
      if (!w || w[i] > 0) has[near[i]] = 1;
    return static_cast<int64_t>(std::count(has.begin(), has.end(), 1));
  };
  std::vector<float> y;
  for (int r = 0; r < rounds + kExtraRounds; ++r) {
    if (r >= rounds && positive() >= k) break;
    const double phi = potential(closest, w, threads);
    if (!(phi > 0)) break;  // every row lies on a candidate
    std::vector<int64_t> picked;
    for (int64_t i = 0; i < m; ++i) {
      const double u = rng.uniform();
      const double wi = w ? w[i] : 1.0;
      if (u * phi < l * wi * static_cast<double>(closest[i])) picked.push_back(i);
    }
    ++out.rounds;
    if (picked.empty()) continue;
    const int64_t c = static_cast<int64_t>(picked.size()), base = static_cast<int64_t>(cand.size());
    y.resize(static_cast<size_t>(c * d));
    for (int64_t j = 0; j < c; ++j)
      std::memcpy(y.data() + j * d, x + picked[j] * d, sizeof(float) * d);
    nearest(backend, x, m, d, y.data(), c, label.data(), dist.data());
    for (int64_t i = 0; i < m; ++i)
      if (dist[i] < closest[i]) {  // ties keep the earlier candidate
        closest[i] = dist[i];
        near[i] = static_cast<int32_t>(base + label[i]);
      }
    cand.insert(cand.end(), picked.begin(), picked.end());
  }

  // Each candidate's weight: its rows'.
  std::vector<double> weight(cand.size(), 0.0);
  for (int64_t i = 0; i < m; ++i) weight[near[i]] += w ? w[i] : 1.0;
  std::vector<int64_t> kept;  // candidates of weight > 0
  for (size_t j = 0; j < cand.size(); ++j)
    if (weight[j] > 0) kept.push_back(static_cast<int64_t>(j));
  out.candidates = static_cast<int64_t>(kept.size());

  if (out.candidates > k) {
    const int64_t c = out.candidates;
    std::vector<float> rows(static_cast<size_t>(c * d));
    std::vector<double> cw(static_cast<size_t>(c));
    for (int64_t j = 0; j < c; ++j) {
      std::memcpy(rows.data() + j * d, x + cand[kept[j]] * d, sizeof(float) * d);
      cw[j] = weight[kept[j]];
    }
    for (const int64_t j : kmeans_plus_plus(rows.data(), c, d, k, rng, backend, threads, cw.data()))
      out.rows.push_back(cand[kept[j]]);
    return out;
  }
  // Too few distinct candidates (the sample repeats rows): all of them, then rows drawn at random
  // (by weight) from the others.
  std::vector<char> taken(static_cast<size_t>(m), 0);
  for (const int64_t j : kept) {
    out.rows.push_back(cand[j]);
    taken[cand[j]] = 1;
  }
  std::vector<int64_t> others;
  std::vector<double> other_w;
  for (int64_t i = 0; i < m; ++i)
    if (!taken[i] && (!w || w[i] > 0)) {
      others.push_back(i);
      if (w) other_w.push_back(w[i]);
    }
  const int64_t need = k - static_cast<int64_t>(out.rows.size());
  for (const int64_t j :
       random_rows(static_cast<int64_t>(others.size()), need, rng, w ? other_w.data() : nullptr))
    out.rows.push_back(others[j]);
  out.filled = need;
  return out;
}

}  // namespace embcluster
