#pragma once
// The rows of the CPU tile passes: a tile's rows inside a loaded block, the scratch space of one
// thread, copies of the rows a pair of tiles needs (core rows, rows that can reach the other tile),
// and the per-tile questions that let a pass skip a pair (Needs). Internal to cpu/dbscan_cpu*.cpp.
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "algo/dbscan/dbscan_state.h"
#include "algo/spatial/dbscan_tiles.h"

namespace embcluster {

struct DbscanPassContext;

// What a visit of a pair of tiles did (for the pass statistics).
enum class Visit { settled, near, gemm };

// One thread's buffers for a pair of tiles: the distance tile, per-row counts, two gathered sets of
// rows (x, norms, source rows, positions) and the picked rows of the border pass.
struct Scratch {
  explicit Scratch(int64_t d);
  std::vector<float> tile;
  std::vector<int32_t> rc, cc;
  std::vector<float> gathered, gathered_norms, gathered2, gathered2_norms;
  std::vector<int64_t> ids, ids2;
  std::vector<int64_t> pick;
  std::vector<int32_t> keep, keep2;
  // Projected passes: candidate pairs and pairs within eps (positions), the latter listed by row
  // and by column, and the projected rows of two gathered sets.
  std::vector<std::pair<int32_t, int32_t>> cands, pairs;
  std::vector<int32_t> row_start, col_start, row_list, col_list;
  std::vector<float> proj, proj_norms, proj2, proj2_norms;
};

// Rows of a tile inside a loaded block.
struct TileRows {
  const float* x;
  const float* norms;
  const int64_t* ids;
  int64_t m;
};

TileRows tile_rows(const DbscanTiles& rows, const LoadedBlock& blk, int64_t t);

// Copies the core rows of a tile to x (norms xn, source rows ids); returns how many.
int64_t gather_core(const DbscanState& st, const TileRows& r, int64_t d, float* x, float* xn,
                    int64_t* ids);

// Whether row x (squared norm xn) can lie within eps of a row of tile `other` whose rows of
// interest lie within `radius` of its centre. A row is a tile of radius 0: it cannot when
// kern::tile_pair_kind calls it far from the other tile, with the same rounding margins, so leaving
// such rows out of a tile pair never changes a result.
bool row_reaches(const DbscanTiles& rows, const float* x, float xn, int64_t other, double radius,
                 float eps2);

// The largest distance of a core row of tile r (tile number t) from the tile's centre, measured by
// the first pass that asks (the core rows do not change after the count pass).
double core_radius(const DbscanTiles& rows, DbscanState& st, const TileRows& r, int64_t t);

// Positions (in tile r) of the rows that can reach tile `other` (radius: its own), into keep;
// returns how many.
int64_t rows_in_reach(const DbscanTiles& rows, const TileRows& r, int64_t other, float eps2,
                      int32_t* keep);

// Copies the rows of r at positions keep[0..k) to x (norms xn; source rows ids when given).
template <class Pos>
void gather_rows(const TileRows& r, const Pos* keep, int64_t k, int64_t d, float* x, float* xn,
                 int64_t* ids = nullptr) {
  for (int64_t q = 0; q < k; ++q) {
    std::memcpy(x + q * d, r.x + keep[q] * d, sizeof(float) * d);
    xn[q] = r.norms[keep[q]];
    if (ids) ids[q] = r.ids[keep[q]];
  }
}

// Copies the core rows of tile r that can reach the rows of tile `other` lying within `radius` of
// its centre to x (norms xn, source rows ids); returns how many. keep is scratch for a tile's
// positions.
int64_t gather_core_in_reach(const DbscanTiles& rows, const DbscanState& st, const TileRows& r,
                             int64_t other, double radius, float* x, float* xn, int64_t* ids,
                             int32_t* keep);

// The per-tile questions of the passes, answered from the state (and cached once settled) and the
// tile rules of kernels/dbscan_rules.cuh.
class Needs {
 public:
  explicit Needs(DbscanPassContext& ctx);

  // Every row of tile t has min_samples neighbours already.
  bool settled(int64_t t);
  // Every core row of tile t is in one set already.
  bool one_root(int64_t t);
  // Whether the count (join) pass can still change anything with tiles s and t.
  bool count(int64_t s, int64_t t) { return !(settled(s) && settled(t)); }
  bool join(int64_t s, int64_t t);
  // Non-core rows of tile p whose attachment a core row of tile q could still lower.
  void improvable(int64_t p, int64_t q, std::vector<int64_t>* pick);
  // Whether the border pass can still lower an attachment with tiles s and t.
  bool attach(int64_t s, int64_t t, std::vector<int64_t>* pick);

 private:
  const DbscanTiles& rows_;
  DbscanState& st_;
};

}  // namespace embcluster
