#pragma once
// Lower bounds on distances from a few principal directions, for exact DBSCAN on data whose tile
// bounds prune little (SIFT descriptors, text embeddings: in 100+ dimensions every tile's radius
// exceeds eps). The rows' coordinates on the k leading principal directions of a sample give, for
// every pair, a projected distance that never exceeds the true one; pairs whose projected distance
// (with margins for every rounding) exceeds eps cannot be within eps, and only the few others are
// decided exactly, by the same rule as the full distance tiles (within_eps). k is chosen from the
// sample by the expected cost; k = 0 when projections would not pay (then the full tiles run).
// Implemented in cpu/dbscan_distances.cpp.
#include <cstdint>
#include <utility>
#include <vector>

namespace embcluster {

class DbscanTiles;
struct LoadedBlock;

struct DbscanProjection {
  int64_t k = 0;              // directions kept (0: no projection)
  int64_t d = 0;              // dimensions of the rows
  float eps2 = 0;             // the squared radius distances are compared with
  std::vector<double> mean;   // d: the sample's mean
  std::vector<double> basis;  // k x d: orthonormal directions, the leading first
  // The largest true projected distance of a pair within eps (every decision's rounding included).
  double reach = 0;
  double expected_saving = 0;  // estimated cost with projections / cost of the full tiles

  bool active() const { return k > 0; }
};

// The projection for rows x (m x d, prepared) compared at eps2: principal directions of at most a
// few thousand of them, k (at most max_k) chosen from their projected distances (0 when it would
// not pay or d is small).
DbscanProjection fit_dbscan_projection(const float* x, int64_t m, int64_t d, float eps2,
                                       int threads, int64_t max_k = 128);

// The rows of a loaded block on the projection's directions, with per-tile bounds on rounding.
struct ProjectedBlock {
  int64_t index = -1;
  int64_t first_tile = 0;
  std::vector<float> p;           // rows x k
  std::vector<float> norms;       // squared norms of p (kern::sq_norm)
  std::vector<double> tile_norm;  // per tile of the block: largest squared norm of p
  std::vector<double> tile_dev;   // per tile: largest distance of a row from the mean
};

ProjectedBlock project_block(const DbscanProjection& pr, const DbscanTiles& rows,
                             const LoadedBlock& blk, int threads);

// Projected squared distances (as sq_distance_tile computes them) above this value for a pair of
// rows of tiles s (of block a) and t (of block b) mean the pair is not within eps.
float projected_limit(const DbscanProjection& pr, const ProjectedBlock& a, int64_t s,
                      const ProjectedBlock& b, int64_t t);

// The candidates of a pair of tiles: the pairs (i, j) of rows a (ma x k, squared norms na) and b
// (mb x k, nb), j > i when diag, whose projected squared distance, expanded as sq_distance_tile
// expands it, is at most lim, into *out (cleared first). Returns how many, or -1 as soon as there
// are more than max_pairs. scratch: room for max(ma * mb, 8 * ceil(mb / 8) * (k + 1)) floats.
int64_t projected_candidates(const float* a, const float* na, int64_t ma, const float* b,
                             const float* nb, int64_t mb, int64_t k, float lim, bool diag,
                             int64_t max_pairs, std::vector<std::pair<int32_t, int32_t>>* out,
                             float* scratch);

// DBSCAN's decision for rows x and y (squared norms xn, yn): the direct sum's (kern::sq_l2 <=
// eps2), from a dot product when it is far enough from the rounding band (as settle_band decides).
bool within_eps(const float* x, float xn, const float* y, float yn, int64_t d, float eps2,
                float scale);

}  // namespace embcluster
