#pragma once
// Rows prepared for DBSCAN's distance tiles: normalised for the cosine metric, arranged in
// spatially coherent tiles with bounds (centre, radius) so that pairs of tiles further apart
// than eps are skipped and pairs entirely within eps need no distances. Data that fits the memory
// budget is kept as one block; larger data is split into row blocks, each tiled on its own and
// read again (and prepared the same way) whenever a pass needs it.
#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "embcluster/source.h"

namespace embcluster {

struct Block;

// Rows per tile (at most): one sgemm of 256 x 256 x d per pair of tiles.
constexpr int64_t kDbscanTileRows = 256;

// A bound on the rounding of a computed squared distance between rows of squared norms a and b
// in d dimensions, for the expansion of the distance tiles (||x||^2 + ||y||^2 - 2 x.y: terms of d
// products in float) and the direct sum alike: rounding_scale(d) * (a + b). Distances within this
// band of eps^2 are recomputed by the direct sum (kern::sq_l2), so every decision "within eps" is
// the direct sum's, whatever the tiling, the BLAS kernel or an offset in the data.
inline double rounding_scale(int64_t d) { return (2.0 * d + 8) * std::ldexp(1.0, -23) * 1.001; }

// How rows are prepared on their way in: L2-normalised for the cosine metric (zero rows stay zero,
// at distance 1/2 from every unit row); unchanged for euclidean.
struct RowPrep {
  bool normalise = false;
  void apply(float* rows, int64_t m, int64_t d, int threads) const;
};

// The rows in picks (ascending, within [first_row, end_row)), prepared, into *out (picks.size() x
// d): one read of those rows of the source in blocks under budget (end_row -1: to the end).
void read_rows(Source& source, const RowPrep& prep, const std::vector<int64_t>& picks,
               int64_t budget, int threads, std::vector<float>* out, int64_t first_row = 0,
               int64_t end_row = -1);

// Calls fn(block, x, norms) for every block of the source's rows [first_row, end_row) (end_row -1:
// to the end), read in blocks under budget: x the block's rows prepared (block.rows x d), norms
// their squared norms (kern::sq_norm). The sampled check and the k-distance curve measure their
// query rows against every row this way.
void for_prepared_blocks(
    Source& source, const RowPrep& prep, int64_t budget, int threads,
    const std::function<void(const Block& b, const float* x, const float* norms)>& fn,
    int64_t first_row = 0, int64_t end_row = -1);

// Arranges the rows of x (m x d) in tiles of at most `leaf` rows by recursive median splits along
// the direction between two far-apart rows. order[p] is the row placed at position p; tile t
// holds positions [starts[t], starts[t + 1]). Deterministic whatever the thread count.
void build_tile_order(const float* x, int64_t m, int64_t d, int64_t leaf, int threads,
                      std::vector<int32_t>* order, std::vector<int64_t>* starts);

struct TileInfo {
  int64_t block = 0;
  int64_t begin = 0, end = 0;  // global positions (source rows of all blocks, in tile order)
  double radius = 0;           // largest distance of a row from the tile's centre
  double max_sq_norm = 0;      // largest squared norm of a prepared row
  int64_t rows() const { return end - begin; }
};

// Pairs of tiles: every pair further than eps, every pair within eps, or some of each.
enum class PairKind { far, near, mixed };

// A block of prepared rows in tile order.
struct LoadedBlock {
  int64_t index = 0;
  int64_t pos0 = 0;  // global position of the block's first row
  int64_t rows = 0;
  std::vector<float> data;   // rows x d
  std::vector<float> norms;  // squared norms (kern::sq_norm)
};

class DbscanTiles {
 public:
  // Reads the source once to arrange the tiles (and keeps it when it fits the budget).
  // progress(fraction) is called after every block.
  DbscanTiles(Source& source, bool normalise, int64_t budget, int threads,
              const std::function<void(double)>& progress = nullptr);

  int64_t rows() const { return n_; }
  int64_t dims() const { return d_; }
  bool resident() const { return static_cast<bool>(kept_); }
  int64_t block_rows() const { return block_rows_; }
  int64_t block_count() const { return static_cast<int64_t>(block_tiles_.size()) - 1; }
  int64_t first_tile(int64_t b) const { return block_tiles_[b]; }
  int64_t tile_count(int64_t b) const { return block_tiles_[b + 1] - block_tiles_[b]; }
  int64_t tile_total() const { return static_cast<int64_t>(tiles_.size()); }
  const TileInfo& tile(int64_t t) const { return tiles_[t]; }
  // Centre of tile t (d values): with TileInfo's radius and max_sq_norm, the tile's bounds.
  const double* centre(int64_t t) const { return centres_.data() + t * d_; }
  // Source row at each global position.
  const int64_t* ids() const { return ids_.data(); }
  const RowPrep& prep() const { return prep_; }

  // Bounds test for tiles s and t against the squared radius eps2 that distances are compared
  // with. The margins cover the float rounding of the distance tiles, so a pair called far (near)
  // is also far (near) by the computed distances: skipping never changes a result.
  PairKind classify(int64_t s, int64_t t, float eps2) const;

  // The prepared rows of block b in tile order. Resident data returns the kept block. One call
  // at a time (a prefetch thread may run it while the caller works on another block).
  std::shared_ptr<const LoadedBlock> load(int64_t b);
  int64_t bytes_per_block() const;

 private:
  void tile_block(int64_t b, float* x, int64_t m, int threads);

  Source& source_;
  int64_t n_, d_;
  int threads_;
  int64_t block_rows_ = 0;
  RowPrep prep_;
  std::vector<int64_t> ids_;
  std::vector<TileInfo> tiles_;
  std::vector<double> centres_;        // tiles x d
  std::vector<int64_t> block_tiles_;   // first tile of each block, then the total
  std::shared_ptr<LoadedBlock> kept_;  // resident data
};

}  // namespace embcluster
