#pragma once
// Launchers of exact DBSCAN's CUDA kernels (device pointers, asynchronous on `stream`).
//
// Rows live on the device in chunks of whole tiles (the tile order of DbscanTiles); a pair of tiles
// (s, t) is one 256 x 256 dot-product tile of a batched cuBLAS SGEMM, which the pass kernels read
// with one thread block per pair: thread j owns row j of tile t, and walks the rows i of tile s.
// Row-level results (neighbour counts, the union-find, border attachments) are indexed by source
// row, so they do not depend on how the rows were tiled or chunked.
#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/dbscan_rules.cuh"

namespace embcluster {
namespace kern {

// Rows per tile (at most) and the side of a pair's dot-product tile; equals kDbscanTileRows.
constexpr int kDbscanGpuTile = 256;

// Per-tile arrays over every tile of the data (device pointers).
struct DbscanTileSet {
  const int32_t* begin = nullptr;    // global position of the tile's first row
  const int32_t* rows = nullptr;     // rows in the tile (1..kDbscanGpuTile)
  const int32_t* core = nullptr;     // core rows in the tile (union and border passes)
  const double* centre = nullptr;    // tiles x d
  const double* radius = nullptr;    // largest distance of a row from the centre
  const double* max_norm = nullptr;  // largest squared norm of a row
};

// Which tile pairs a pass needs (besides not being far apart): the pass's number in
// kernels/dbscan_rules.cuh, whose dbscan_tiles_wanted decides.
enum DbscanPairFilter : int {
  kPairsAll = int(kDbscanCount),      // count: every pair
  kPairsCore = int(kDbscanUnion),     // union: core rows on both sides (two of them in one tile)
  kPairsBorder = int(kDbscanBorder),  // border: non-core rows on one side, core rows on the other
};

// Classifies the pairs of tiles (s, t), s in [s0, s1), t in [t0, t1) (t >= s when same), and
// appends those that are not far apart and pass the filter to pairs (x = s, y = t; in no
// particular order; the caller makes room for every pair). counters[0] += pairs appended,
// counters[1] += far pairs, counters[2] += pairs the filter left out.
void launch_dbscan_classify(const DbscanTileSet& tiles, int64_t d, int32_t s0, int32_t s1,
                            int32_t t0, int32_t t1, bool same, float eps2, double err_scale,
                            int filter, int2* pairs, unsigned long long* counters,
                            cudaStream_t stream);

// Rows of a chunk on the device: the rows at global positions pos0.. and their squared norms.
struct DbscanSide {
  const float* x = nullptr;
  const float* norms = nullptr;
  int64_t pos0 = 0;
};

// One batch of tile pairs and their dot-product tiles g (pair p at g + p * 256 * 256, row-major,
// g[i * 256 + j] = row i of tile s . row j of tile t). Tiles s lie in side a, tiles t in side b.
struct DbscanPairBatch {
  const int2* pairs = nullptr;
  int64_t count = 0;
  const float* g = nullptr;
  DbscanSide a, b;
  const int32_t* tile_begin = nullptr;
  const int32_t* tile_rows = nullptr;
  const int32_t* ids = nullptr;  // source row at each global position
  int64_t d = 0;
  float eps2 = 0;   // squared radius in prepared units
  float scale = 0;  // rounding_scale(d)
};

// The operand pointers of a batched SGEMM producing the batch's dot-product tiles:
// a_ptr[p] = rows of tile t, b_ptr[p] = rows of tile s, c_ptr[p] = g + p * 256 * 256.
void launch_dbscan_gemm_pointers(const DbscanPairBatch& batch, float* g, const float** a_ptr,
                                 const float** b_ptr, float** c_ptr, cudaStream_t stream);

// counts[row] += rows within eps in the batch's pairs (each row counts itself once, in the pair
// of its tile with itself).
void launch_dbscan_count(const DbscanPairBatch& batch, int32_t* counts, cudaStream_t stream);

// Joins core rows within eps in the lock-free union-find parent (indexed by source row).
void launch_dbscan_union(const DbscanPairBatch& batch, const uint8_t* core, int32_t* parent,
                         cudaStream_t stream);

// border[row] = the lowest root (root: the flattened union-find) among the core rows within eps
// of each non-core row, if lower than its current value.
void launch_dbscan_border(const DbscanPairBatch& batch, const uint8_t* core, const int32_t* root,
                          int32_t* border, cudaStream_t stream);

// parent[i] = i and border[i] = INT32_MAX (no core neighbour) for i < n.
void launch_dbscan_reset(int32_t* parent, int32_t* border, int64_t n, cudaStream_t stream);

// parent[i] = the root of i, for i < n (after every union).
void launch_dbscan_flatten(int32_t* parent, int64_t n, cudaStream_t stream);

}  // namespace kern
}  // namespace embcluster
