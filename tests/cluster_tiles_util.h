#pragma once
// Test data laid out in the CPU silhouette's tiles: every row of a Blobs in row order.
#include <algorithm>
#include <cstdint>
#include <numeric>
#include <vector>

#include "cpu/cluster_distance_sums.h"
#include "testutil.h"

namespace testutil {

inline embcluster::ClusterTiles tiles_of(const Blobs& b, embcluster::TileMetric metric) {
  embcluster::ClusterTiles t;
  t.d = b.d;
  std::vector<int64_t> rows(b.n);
  std::iota(rows.begin(), rows.end(), int64_t(0));
  for (int64_t o = 0; o < b.n; o += embcluster::kSilTileRows)
    t.append_tile(b.x.data() + o * b.d, rows.data() + o, b.labels.data() + o,
                  std::min(embcluster::kSilTileRows, b.n - o), metric);
  t.index_rows(0, b.n);
  return t;
}

}  // namespace testutil
