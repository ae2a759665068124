#pragma once
// DBSCAN's rules, written once for every implementation of the passes (CPU tiles, FAISS
// neighbourhoods, CUDA kernels): what the count, union and border passes do with a pair of rows
// within eps, and which pairs of tiles can still hold such a pair. Each implementation finds the
// pairs its own way (GEMM tiles, an index, a batched SGEMM on the device) and asks these rules. No
// CUDA headers: usable from plain C++.
#include <cstdint>

#include "kernels/dbscan_math.cuh"

namespace embcluster {
namespace kern {

// The passes, in the order they run (the kernels' pair filter takes these values).
enum DbscanRulePass : int { kDbscanCount = 0, kDbscanUnion = 1, kDbscanBorder = 2 };

// count: a row is core when it has at least min_samples rows within eps, itself included (with
// min_samples 1 every row is, and the count pass does not run).
EMB_HD bool dbscan_core(int64_t neighbours, int64_t min_samples) {
  return neighbours >= min_samples || min_samples == 1;
}

// count: whether neighbour nbr of row adds to row's count when the row itself was counted already
// (a row is its own neighbour once, whatever rounding says of its distance to itself).
template <class I>
EMB_HD bool dbscan_counts(I row, I nbr) {
  return nbr != row;
}

// union: a pair of rows within eps joins their sets when both rows are core.
EMB_HD bool dbscan_joins(bool core_row, bool core_nbr) { return core_row && core_nbr; }

// border: a non-core row within eps of a core row may take the core row's root as its cluster.
EMB_HD bool dbscan_attaches(bool core_row, bool core_nbr) { return !core_row && core_nbr; }

// border: the attachment a border row keeps from its current one and another core neighbour's root
// (roots are lowest core rows, so the lowest root is the lowest-numbered cluster, as scikit-learn
// labels it).
template <class I>
EMB_HD I dbscan_attachment(I current, I root) {
  return root < current ? root : current;
}

// union: whether tiles s and t (core rows cs and ct; same: one tile with itself) can hold a pair of
// core rows.
EMB_HD bool dbscan_tiles_join(int64_t cs, int64_t ct, bool same) {
  return same ? cs >= 2 : (cs > 0 && ct > 0);
}

// border: whether a non-core row of tile p (core rows cp of mp) can meet a core row of tile q.
EMB_HD bool dbscan_tile_attaches(int64_t cp, int64_t mp, int64_t cq) { return cp < mp && cq > 0; }

// Whether a pass needs the pair of tiles s and t (core rows cs of ms, ct of mt) at all, from the
// core counts alone (the count pass needs every pair).
EMB_HD bool dbscan_tiles_wanted(int pass, int64_t cs, int64_t ms, int64_t ct, int64_t mt,
                                bool same) {
  if (pass == kDbscanCount) return true;
  if (pass == kDbscanUnion) return dbscan_tiles_join(cs, ct, same);
  return dbscan_tile_attaches(cs, ms, ct) || dbscan_tile_attaches(ct, mt, cs);
}

}  // namespace kern
}  // namespace embcluster
