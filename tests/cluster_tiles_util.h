#pragma once
// Test data laid out for the cluster sums backends (backend/cluster_sums.h): the rows of a Blobs
// grouped by cluster within spans of `span` rows (0: one span of every row), as the silhouette
// driver hands them over.
#include <algorithm>
#include <cstdint>
#include <numeric>
#include <vector>

#include "backend/cluster_sums.h"
#include "cpu/cluster_distance_sums.h"
#include "testutil.h"

namespace testutil {

struct GroupedRows {
  std::vector<float> x;
  std::vector<int32_t> cluster;
  std::vector<int64_t> row;        // source row per position
  std::vector<int64_t> span_rows;  // rows per span
  std::vector<int64_t> start;      // with one span: k + 1 cluster starts
  embcluster::ClusterRows view() const {
    return {x.data(), cluster.data(), static_cast<int64_t>(row.size()), span_rows.data(),
            static_cast<int64_t>(span_rows.size())};
  }
};

inline GroupedRows group_rows(const Blobs& b, int64_t span, bool cosine) {
  GroupedRows g;
  const int64_t step = span > 0 ? span : b.n;
  for (int64_t s0 = 0; s0 < b.n; s0 += step) {
    std::vector<int64_t> order;
    for (int64_t i = s0; i < std::min(b.n, s0 + step); ++i)
      if (b.labels[i] >= 0) order.push_back(i);
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t p, int64_t q) { return b.labels[p] < b.labels[q]; });
    for (int64_t i : order) {
      g.row.push_back(i);
      g.cluster.push_back(b.labels[i]);
    }
    g.span_rows.push_back(static_cast<int64_t>(order.size()));
  }
  g.x.resize(g.row.size() * b.d);
  for (size_t p = 0; p < g.row.size(); ++p) {
    const float* src = b.x.data() + g.row[p] * b.d;
    if (cosine)
      embcluster::unit_row(src, b.d, g.x.data() + p * b.d);
    else
      std::copy(src, src + b.d, g.x.data() + p * b.d);
  }
  const int32_t k = g.cluster.empty() ? 0 : *std::max_element(g.cluster.begin(), g.cluster.end());
  g.start.assign(k + 2, 0);
  for (int32_t c : g.cluster) ++g.start[c + 1];
  std::partial_sum(g.start.begin(), g.start.end(), g.start.begin());
  return g;
}

// Rows already grouped by cluster as one span.
inline embcluster::ClusterRows one_span(const float* x, const std::vector<int32_t>& cluster,
                                        int64_t count) {
  return {x, cluster.data(), count, nullptr, 0};
}

}  // namespace testutil
