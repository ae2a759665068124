#pragma once
// What DBSCAN's passes share: neighbour counts, core flags, the union-find of core points and the
// attachment of border points, indexed by source row; per-tile caches of the exact passes.
// Internal to the library (dbscan.cpp, dbscan_faiss.cpp, the CPU tile passes).
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <vector>

#include "core/union_find.h"
#include "embcluster/dbscan.h"

namespace embcluster {

constexpr int64_t kNoRoot = std::numeric_limits<int64_t>::max();

inline void atomic_min(std::atomic<int64_t>& a, int64_t v) {
  int64_t cur = a.load(std::memory_order_relaxed);
  while (v < cur && !a.compare_exchange_weak(cur, v, std::memory_order_relaxed)) {
  }
}

struct DbscanState {
  DbscanState(int64_t rows, int64_t tiles, int64_t min_samples_, float eps2_)
      : n(rows),
        min_samples(min_samples_),
        eps2(eps2_),
        count(new std::atomic<int32_t>[rows]),
        core(static_cast<size_t>(rows), 0),
        uf(rows),
        border(new std::atomic<int64_t>[rows]),
        tile_flag(new std::atomic<uint8_t>[tiles > 0 ? tiles : 1]),
        core_radius(new std::atomic<double>[tiles > 0 ? tiles : 1]),
        tile_total(tiles) {
    for (int64_t i = 0; i < n; ++i) {
      count[i].store(0, std::memory_order_relaxed);
      border[i].store(kNoRoot, std::memory_order_relaxed);
    }
    reset_tile_flags();
    for (int64_t t = 0; t < tiles; ++t) core_radius[t].store(-1, std::memory_order_relaxed);
  }
  void reset_tile_flags() {
    for (int64_t t = 0; t < tile_total; ++t) tile_flag[t].store(0, std::memory_order_relaxed);
  }

  int64_t n;
  int64_t min_samples;
  float eps2;  // distances (squared, in prepared units) <= eps2 are within eps
  std::unique_ptr<std::atomic<int32_t>[]> count;  // neighbours found so far, the row included
  std::vector<uint8_t> core;
  ConcurrentUnionFind uf;  // core points within eps of each other; roots = lowest core row
  std::unique_ptr<std::atomic<int64_t>[]> border;  // non-core rows: lowest root of a core neighbour
  // Per tile: a flag that, once set, stays (count: every row settled; union: core rows share a
  // root), the number of core rows, a core row's position, the lowest root among its core rows.
  std::unique_ptr<std::atomic<uint8_t>[]> tile_flag;
  // Per tile, once the core rows are known: the largest distance of a core row from the tile's
  // centre (-1 until a pass has measured it).
  std::unique_ptr<std::atomic<double>[]> core_radius;
  int64_t tile_total;
  std::vector<int32_t> tile_core;
  std::vector<int64_t> tile_core_pos;
  std::vector<int64_t> tile_min_root;
  // Optional (nbr_cap > 0, min_samples - 1): the first nbr_cap neighbours each row's count met, in
  // slots [row * nbr_cap, ...). A row that ends non-core has fewer, so its slots hold all of its
  // neighbours (itself included) and the border pass needs no distances.
  int64_t nbr_cap = 0;
  std::vector<int32_t> nbr;

  // Adds c neighbours to row's count; while the row's count is below nbr_cap, records the first of
  // them: id(q) is the q-th of the c, asked for q = 0, 1, ... in order.
  template <class IdFn>
  void add_neighbours(int64_t row, int32_t c, IdFn&& id) {
    const int32_t old = count[row].fetch_add(c, std::memory_order_relaxed);
    if (old >= nbr_cap) return;
    const int64_t end = std::min<int64_t>(int64_t(old) + c, nbr_cap);
    int32_t* slot = nbr.data() + row * nbr_cap;
    for (int64_t q = old; q < end; ++q) slot[q] = static_cast<int32_t>(id(q - old));
  }
};

// Labels from the state after the passes: clusters numbered by their lowest core row, border
// rows with the cluster of their lowest-rooted core neighbour, noise -1. Fills labels, core,
// n_clusters, n_noise, n_core and cluster_sizes.
void dbscan_labels(DbscanState& st, DBSCANResult* res);

}  // namespace embcluster
