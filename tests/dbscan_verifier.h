#pragma once
// An independent DBSCAN verifier for the tests: pairwise distances in double straight from the
// definition (no expansion, no tiles) and a check that accepts exactly the valid DBSCAN results.
#include <cmath>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace testutil {

// Pairwise distances in double, straight from the definition (no expansion, no tiles).
inline std::vector<double> brute_distances(const std::vector<float>& x, int64_t n, int64_t d,
                                           bool cosine) {
  std::vector<double> out(static_cast<size_t>(n * n));
  std::vector<double> norm(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    double s = 0;
    for (int64_t k = 0; k < d; ++k) s += double(x[i * d + k]) * x[i * d + k];
    norm[i] = std::sqrt(s);
  }
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double s = 0;
      for (int64_t k = 0; k < d; ++k) {
        if (cosine) {
          s += double(x[i * d + k]) * x[j * d + k];
        } else {
          const double t = double(x[i * d + k]) - x[j * d + k];
          s += t * t;
        }
      }
      out[i * n + j] = cosine ? (i == j ? 0.0 : 1.0 - s / (norm[i] * norm[j])) : std::sqrt(s);
    }
  return out;
}

// Accepts exactly the valid DBSCAN results: the right core points; clusters that are the
// connected components of core points within eps (one label each, numbered 0..C-1); every border
// point labelled with the cluster of one of its core neighbours; noise exactly the non-core
// points without a core neighbour. Returns "" or what is wrong.
inline std::string verify_dbscan(const std::vector<double>& dist, int64_t n, double eps,
                                 int64_t min_samples, const std::vector<int32_t>& labels,
                                 const std::vector<uint8_t>& core) {
  if (static_cast<int64_t>(labels.size()) != n || static_cast<int64_t>(core.size()) != n)
    return "wrong sizes";
  auto near = [&](int64_t i, int64_t j) { return dist[i * n + j] <= eps; };
  std::vector<uint8_t> truth(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    int64_t c = 0;
    for (int64_t j = 0; j < n; ++j) c += near(i, j);
    truth[i] = c >= min_samples;
    if (bool(truth[i]) != bool(core[i])) return "core flag of row " + std::to_string(i);
  }
  // Components of the core graph.
  std::vector<int64_t> comp(static_cast<size_t>(n), -1);
  int64_t ncomp = 0;
  for (int64_t s = 0; s < n; ++s) {
    if (!truth[s] || comp[s] >= 0) continue;
    std::vector<int64_t> stack{s};
    comp[s] = ncomp;
    while (!stack.empty()) {
      const int64_t i = stack.back();
      stack.pop_back();
      for (int64_t j = 0; j < n; ++j)
        if (truth[j] && comp[j] < 0 && near(i, j)) comp[j] = ncomp, stack.push_back(j);
    }
    ++ncomp;
  }
  std::map<int64_t, int32_t> comp_label;
  std::map<int32_t, int64_t> label_comp;
  for (int64_t i = 0; i < n; ++i) {
    if (!truth[i]) continue;
    if (labels[i] < 0) return "core row " + std::to_string(i) + " is noise";
    auto [a, fresh_a] = comp_label.emplace(comp[i], labels[i]);
    auto [b, fresh_b] = label_comp.emplace(labels[i], comp[i]);
    if (a->second != labels[i])
      return "a cluster of core rows is split at row " + std::to_string(i);
    if (b->second != comp[i]) return "two clusters share label " + std::to_string(labels[i]);
  }
  for (int32_t l = 0; l < static_cast<int32_t>(ncomp); ++l)
    if (!label_comp.count(l)) return "cluster labels are not 0..C-1";
  for (int64_t i = 0; i < n; ++i) {
    if (truth[i]) continue;
    std::set<int32_t> allowed;
    for (int64_t j = 0; j < n; ++j)
      if (truth[j] && near(i, j)) allowed.insert(labels[j]);
    if (allowed.empty() && labels[i] != -1) return "row " + std::to_string(i) + " is not noise";
    if (!allowed.empty() && !allowed.count(labels[i]))
      return "border row " + std::to_string(i) + " is not in a cluster of its core neighbours";
  }
  return "";
}

}  // namespace testutil
