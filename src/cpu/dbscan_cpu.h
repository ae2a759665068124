#pragma once
// DBSCAN's CPU primitives: the range_count / range_union / range_border passes over a pair of
// tiled row blocks (one sgemm distance tile per pair of tiles, OpenMP over tiles, BLAS
// single-threaded; cpu/dbscan_cpu.cpp), driven over every pair of blocks by
// make_cpu_dbscan_passes (cpu/dbscan_cpu_passes.cpp), and distances from query rows to a block of
// rows (sampled checks, k-distance; cpu/dbscan_distances.cpp).
// No neighbour list is ever kept: each tile is consumed as soon as it is computed.
#include <cstdint>
#include <functional>
#include <memory>

#include "algo/dbscan/dbscan_state.h"
#include "algo/spatial/dbscan_tiles.h"
#include "backend/dbscan_passes.h"
#include "cpu/dbscan_projection.h"

namespace embcluster {

struct DbscanPassContext {
  DbscanTiles* rows = nullptr;
  DbscanState* st = nullptr;
  int threads = 1;
  DBSCANPassStats* stats = nullptr;
  // When active: the projection and the projected rows of the pair's two blocks (mixed pairs of
  // tiles are then decided from projected distances, the few candidates exactly).
  const DbscanProjection* proj = nullptr;
  const ProjectedBlock* pa = nullptr;
  const ProjectedBlock* pb = nullptr;
  // Called now and then from one thread with the number of tile pairs finished in this call.
  std::function<void(int64_t)> tick;
};

// Prepares the per-tile caches of a pass (call once before the pass; core flags must be final for
// union and border, the union-find flattened for border).
void begin_dbscan_pass(DbscanPass pass, DbscanPassContext& ctx);

// Runs one pass over the pairs of tiles of blocks a and b (the same block: each pair once).
// count: neighbours within eps; union: joins core rows within eps; border: the lowest root of a
// core row within eps of each non-core row.
void run_dbscan_pass(DbscanPass pass, const LoadedBlock& a, const LoadedBlock& b,
                     DbscanPassContext& ctx);

// False when no pair of tiles of blocks a and b can change the pass's result (all far apart or
// already settled), so streamed data need not read them.
bool dbscan_blocks_need_pass(DbscanPass pass, int64_t a, int64_t b, DbscanPassContext& ctx);

// Squared distances d2 of a tile (rows x of a, squared norms xn; columns y, norms yn; leading
// dimension mb) so close to eps2 that the expansion's rounding could misplace them are
// recomputed by the direct sum, so that every "within eps" decision is the direct sum's.
void settle_band(float* d2, const float* x, const float* xn, int64_t ma, const float* y,
                 const float* yn, int64_t mb, int64_t d, float eps2);

// The squared distances d2 (ma x mb, leading dimension mb) between rows x (norms xn) and y (norms
// yn) with every "within eps2" decision the direct sum's: sq_distance_tile, then settle_band.
void eps_distance_tile(const float* x, const float* xn, int64_t ma, const float* y, const float* yn,
                       int64_t mb, int64_t d, float eps2, float* d2);

// Squared distances from query rows q (nq x d, squared norms qn) to rows x (m x d, norms xn), in
// tiles: fn(qi, j0, d2, len) receives the distances from query qi to rows j0..j0+len, from the
// expansion (callers recompute those that matter within rounding_scale of a threshold). Parallel
// over query tiles, so fn may touch per-query state without locks.
void query_distances(const float* q, const float* qn, int64_t nq, const float* x, const float* xn,
                     int64_t m, int64_t d, int threads,
                     const std::function<void(int64_t, int64_t, const float*, int64_t)>& fn);

// The passes of exact DBSCAN on the CPU over the rows' pairs of blocks (the next block read on a
// second thread while the current pair is processed when streamed; pairs of blocks that cannot
// change a pass's result are not read): an implementation of DbscanPasses over st. In what the
// rows leave of budget (bytes), the count pass keeps the neighbours of rows that may end non-core
// (DbscanState::nbr), so that the border pass needs no distances; and where projections on
// principal directions pay (fit_dbscan_projection), mixed pairs of tiles are decided through them.
std::unique_ptr<DbscanPasses> make_cpu_dbscan_passes(DbscanTiles& rows, DbscanState& st,
                                                     int threads, int64_t budget = 0);

}  // namespace embcluster
