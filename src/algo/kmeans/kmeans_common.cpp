#include "algo/kmeans/kmeans_common.h"

#include <algorithm>
#include <cmath>
#include <queue>
#include <utility>

#include "embcluster/error.h"
#include "embcluster/memory.h"

namespace embcluster {

std::vector<int64_t> farthest_rows(const std::vector<float>& dist, int64_t count) {
  using Item = std::pair<float, int64_t>;  // (distance, row)
  auto ranks_above = [](const Item& a, const Item& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  };
  // The heap's top is the lowest-ranked row kept so far.
  std::priority_queue<Item, std::vector<Item>, decltype(ranks_above)> heap(ranks_above);
  for (int64_t i = 0; i < static_cast<int64_t>(dist.size()); ++i) {
    const Item it{dist[i], i};
    if (static_cast<int64_t>(heap.size()) < count) {
      heap.push(it);
    } else if (ranks_above(it, heap.top())) {
      heap.pop();
      heap.push(it);
    }
  }
  std::vector<int64_t> rows;
  for (; !heap.empty(); heap.pop()) rows.push_back(heap.top().second);
  std::reverse(rows.begin(), rows.end());
  return rows;
}

namespace {

struct FarRow {
  float dist;
  int32_t label;
  int64_t row;
};

// The `count` farthest rows of the slab, or of every rank's slab, best first.
std::vector<FarRow> farthest_of_all(const std::vector<int32_t>& labels,
                                    const std::vector<float>& dist, int64_t first_row,
                                    int64_t count, Communicator* comm) {
  std::vector<FarRow> mine;
  for (int64_t i : farthest_rows(dist, count)) mine.push_back({dist[i], labels[i], first_row + i});
  if (!comm) return mine;
  std::vector<FarRow> all = allgather_values(mine, *comm);
  std::sort(all.begin(), all.end(), [](const FarRow& a, const FarRow& b) {
    return a.dist > b.dist || (a.dist == b.dist && a.row < b.row);
  });
  all.resize(std::min<size_t>(all.size(), static_cast<size_t>(count)));
  return all;
}

}  // namespace

int64_t relocate_empty_clusters(ClusterSums& s, const std::vector<int32_t>& labels,
                                const std::vector<float>& dist, int64_t first_row, Source& src,
                                const double* row_weights, Communicator* comm) {
  const int64_t k = s.k, d = s.d;
  std::vector<int64_t> empty;
  for (int64_t c = 0; c < k; ++c)
    if (s.weight[c] <= 0) empty.push_back(c);
  if (empty.empty()) return 0;
  const std::vector<FarRow> far =
      farthest_of_all(labels, dist, first_row, static_cast<int64_t>(empty.size()), comm);
  std::vector<float> row(static_cast<size_t>(d));
  for (size_t e = 0; e < far.size(); ++e) {
    const int64_t i = far[e].row, to = empty[e], from = far[e].label;
    const double w = row_weights ? row_weights[i] : 1.0;
    src.read(i, 1, row.data());
    for (int64_t j = 0; j < d; ++j) {
      s.sums[from * d + j] -= w * row[j];
      s.sums[to * d + j] = w * row[j];
    }
    s.counts[from] -= 1;
    s.counts[to] = 1;
    s.weight[from] -= w;
    s.weight[to] = w;
  }
  return static_cast<int64_t>(far.size());
}

std::vector<float> centres_from_sums(const std::vector<float>& centres, const ClusterSums& s) {
  std::vector<float> next(centres);
  for (int64_t c = 0; c < s.k; ++c) {
    if (s.weight[c] <= 0) continue;
    const double inv = 1.0 / s.weight[c];
    for (int64_t j = 0; j < s.d; ++j)
      next[c * s.d + j] = static_cast<float>(s.sums[c * s.d + j] * inv);
  }
  return next;
}

double centre_shift(const std::vector<float>& from, const std::vector<float>& to) {
  double shift = 0;
  for (size_t i = 0; i < from.size(); ++i) {
    const double t = static_cast<double>(to[i]) - from[i];
    shift += t * t;
  }
  return shift;
}

void normalise_centres(std::vector<float>& centres, int64_t d) {
  const int64_t k = static_cast<int64_t>(centres.size()) / d;
  for (int64_t i = 0; i < k; ++i) {
    float* c = centres.data() + i * d;
    double s = 0;
    for (int64_t j = 0; j < d; ++j) s += static_cast<double>(c[j]) * c[j];
    if (s <= 0) continue;
    const float inv = static_cast<float>(1.0 / std::sqrt(s));
    for (int64_t j = 0; j < d; ++j) c[j] *= inv;
  }
}

BoundGroups bound_groups(KMeansAlgorithm a, int64_t rows, int64_t k, int64_t d, int64_t budget) {
  if (a == KMeansAlgorithm::Lloyd || (a == KMeansAlgorithm::Auto && k <= 1)) return {0, "lloyd"};
  // Auto: a bound per centre while k is small (updating k bounds costs less than one distance),
  // Yinyang's k / 10 groups beyond.
  const int64_t yinyang = std::max<int64_t>(1, (k + 9) / 10);
  const int64_t want = a == KMeansAlgorithm::Hamerly ? 1
                       : a == KMeansAlgorithm::Elkan ? k
                       : a == KMeansAlgorithm::Yinyang
                           ? yinyang
                           : std::max(yinyang, std::min<int64_t>(k, 64));
  const int64_t fit = (budget / 2) / std::max<int64_t>(1, 4 * rows) - 1;
  if (a == KMeansAlgorithm::Auto) {
    // At most an eighth of the rows' own size, so that the bounds never weigh like the data.
    const int64_t g = std::min({want, fit, std::max<int64_t>(1, d / 8)});
    if (g < 1) return {0, "lloyd"};
    return {g, g == k ? "elkan" : g == 1 ? "hamerly" : "yinyang"};
  }
  require(want <= fit, "algorithm='", to_string(a), "' keeps ", want + 1, " values per row (",
          format_bytes(4 * (want + 1) * rows), " for ", rows,
          " rows), more than half the memory budget (", format_bytes(budget),
          "): raise --memory or use algorithm='auto'");
  return {want, to_string(a)};
}

}  // namespace embcluster
