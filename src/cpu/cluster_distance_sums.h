#pragma once
// The silhouette's backend primitive on the CPU: for query rows A and column rows B, the sum of
// the distances from every row of A to the rows of B of each cluster, |A| x k, in double. The
// |A| x |B| distances exist one GEMM tile at a time and are reduced at once; never n x n.
#include <cstdint>
#include <functional>
#include <vector>

namespace embcluster {

enum class TileMetric {
  euclidean,  // sqrt(||a - b||^2)
  cosine,     // 1 - a.b on unit rows (= ||a - b||^2 / 2), clipped to [0, 2] as scikit-learn
};

// Rows of clusters held for the distance tiles. Positions are cut into tiles of at most
// kSilTileRows rows; within a tile the rows are grouped by cluster (stable: ascending row inside a
// cluster), so that a tile row reduces into per-cluster sums with contiguous loops. The tiles of
// a range of rows are the same whatever block the range is read in, so results do not depend on
// the memory budget.
struct ClusterTiles {
  struct Segment {
    int32_t cluster;
    int64_t begin, end;  // positions
  };
  int64_t d = 0;
  std::vector<float> x;          // positions x d
  std::vector<float> norms;      // squared norms for the distance expansion (1 for cosine)
  std::vector<int32_t> cluster;  // dense cluster id per position
  std::vector<int64_t> row;      // original row index per position
  std::vector<int64_t> tile_start{0};    // tiles + 1 entries
  std::vector<int64_t> tile_segment{0};  // first segment of each tile, tiles + 1 entries
  std::vector<Segment> segments;
  // Column use: the rows [first_row, end_row) this set covers and the position of each (-1 when
  // the row was left out), so that a row is found when it meets itself.
  int64_t first_row = 0, end_row = 0;
  std::vector<int64_t> pos_of;

  int64_t count() const { return static_cast<int64_t>(row.size()); }
  int64_t tiles() const { return static_cast<int64_t>(tile_start.size()) - 1; }
  // Appends one tile of count rows (x: count x d, row-major). Rows with cluster -1 are dropped;
  // with cosine the rows are scaled to unit length (zero rows stay zero).
  void append_tile(const float* x, const int64_t* rows, const int32_t* clusters, int64_t count,
                   TileMetric metric);
  // Builds pos_of for the covered rows [first, end).
  void index_rows(int64_t first, int64_t end);
};

// Rows per tile: column tiles hold at most this many rows; query tiles are cut into GEMM tiles of
// kSilQueryRows rows.
constexpr int64_t kSilTileRows = 1024;
constexpr int64_t kSilQueryRows = 256;

// sums[(p - q.tile_start[qt0]) * k + c] += sum of dist(q row at p, b) over the rows b of cluster c
// in cols, for the query positions p of tiles [qt0, qt1). A row meets itself at distance 0.
// The additions for each query row go in column-tile order: deterministic for any thread count.
void cluster_distance_sums(const ClusterTiles& q, int64_t qt0, int64_t qt1, const ClusterTiles& cols,
                           TileMetric metric, int64_t k, double* sums, int threads);

// dst = src / ||src|| (norm in double); a zero row stays zero. The one normalisation of cosine.
void unit_row(const float* src, int64_t d, float* dst);

// The same for every row of `all` against every row of `all`, computing each pair of rows once
// (tile pairs ti <= tj; the tile serves the rows of ti and, by columns, the rows of tj).
// sums: all.count() x k, zeroed by the caller. Each row's sums are added in column-tile order
// whatever the threads. tile_done(ti) is called once the sums of tile ti's rows are final, in
// tile order. Needs count x k doubles where cluster_distance_sums needs a slab's.
void all_pairs_cluster_sums(const ClusterTiles& all, TileMetric metric, int64_t k, double* sums,
                            int threads, const std::function<void(int64_t)>& tile_done);

// out (n x k) = x (n x d, float) . s^T (s: k x d, double), in double, for the cosine shortcut.
void dot_rows_double(const float* x, int64_t n, int64_t d, const double* s, int64_t k,
                     double* out, int threads);

// Simplified silhouette's distances: for each of the n rows of x (n x d), a[i] = distance to the
// centroid own[i] and b[i] = distance to the nearest other centroid (centroids: k x d; for
// cosine they and the rows must be unit length or zero). GEMM tiles, float.
void own_and_nearest_other(const float* x, int64_t n, int64_t d, const float* centroids, int64_t k,
                           const int32_t* own, TileMetric metric, float* a, float* b, int threads);

}  // namespace embcluster
