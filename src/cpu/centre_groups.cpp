#include "cpu/centre_groups.h"

#include <algorithm>
#include <limits>

#include "cpu/exact_distance.h"

namespace embcluster {
namespace {

constexpr int kGroupingIterations = 5;

// Group of every centre: nearest of `groups` means after a few Lloyd iterations on the centres.
std::vector<int32_t> nearest_groups(const float* c, int64_t k, int64_t d, int64_t groups) {
  std::vector<float> means(static_cast<size_t>(groups * d));
  for (int64_t g = 0; g < groups; ++g)
    std::copy(c + (g * k / groups) * d, c + (g * k / groups + 1) * d, means.begin() + g * d);
  std::vector<int32_t> of(static_cast<size_t>(k), 0);
  std::vector<double> sums(static_cast<size_t>(groups * d));
  std::vector<int64_t> counts(static_cast<size_t>(groups));
  for (int it = 0; it < kGroupingIterations; ++it) {
    for (int64_t j = 0; j < k; ++j) {
      float best = std::numeric_limits<float>::infinity();
      for (int64_t g = 0; g < groups; ++g) {
        const float v = exact_sq_l2(c + j * d, means.data() + g * d, d);
        if (v < best) best = v, of[j] = static_cast<int32_t>(g);
      }
    }
    std::fill(sums.begin(), sums.end(), 0.0);
    std::fill(counts.begin(), counts.end(), 0);
    for (int64_t j = 0; j < k; ++j) {
      ++counts[of[j]];
      for (int64_t t = 0; t < d; ++t) sums[of[j] * d + t] += c[j * d + t];
    }
    for (int64_t g = 0; g < groups; ++g)
      if (counts[g] > 0)
        for (int64_t t = 0; t < d; ++t)
          means[g * d + t] = static_cast<float>(sums[g * d + t] / static_cast<double>(counts[g]));
  }
  return of;
}

}  // namespace

CentreGroups group_centres(const float* c, int64_t k, int64_t d, int64_t groups) {
  groups = std::max<int64_t>(1, std::min(groups, k));
  std::vector<int32_t> of(static_cast<size_t>(k), 0);
  if (groups == k)
    for (int64_t j = 0; j < k; ++j) of[j] = static_cast<int32_t>(j);
  else if (groups > 1)
    of = nearest_groups(c, k, d, groups);
  CentreGroups cg;
  cg.order.resize(static_cast<size_t>(k));
  for (int64_t j = 0; j < k; ++j) cg.order[j] = static_cast<int32_t>(j);
  std::stable_sort(cg.order.begin(), cg.order.end(),
                   [&](int32_t a, int32_t b) { return of[a] < of[b]; });
  cg.group_of.resize(static_cast<size_t>(k));
  int32_t g = -1;
  for (int64_t p = 0; p < k; ++p) {
    if (p == 0 || of[cg.order[p]] != of[cg.order[p - 1]]) {
      cg.start.push_back(p);
      ++g;
    }
    cg.group_of[p] = g;
  }
  cg.start.push_back(k);
  return cg;
}

}  // namespace embcluster
