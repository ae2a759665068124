#pragma once
// One tile of rows of the CPU K-means assignment, two ways to the same labels:
// - dots: the tile's rows against every centre in one go (the AVX-512 or AVX2 panel kernel of
//   cpu/panel_dots.h, or a BLAS sgemm on a CPU with neither), the argmin read from the tile while
//   it sits in cache;
// - bounds: per row, lower bounds on its distances to groups of centres (cpu/centre_groups.h),
//   moved by how far the centres moved, so that only the groups they cannot rule out are measured.
// Every row's label is the centre of least exact_sq_l2 (cpu/exact_distance.h), lowest centre
// index on ties. The dot-product values (||c||^2 - 2 x.c) only preselect: every centre whose value
// lies within a rigorous rounding margin of the least is measured exactly. The bounds carry the
// error of exact_sq_l2 too, so that both paths give the same labels bit for bit.
#include <cstdint>
#include <vector>

#include "cpu/panel_dots.h"

namespace embcluster {

// The centres of a pass, in the order of their groups (positions; see CentreGroups).
struct PassCentres {
  int64_t k = 0, d = 0;
  const float* c = nullptr;        // k x d by position
  const float* norms = nullptr;    // k: squared norms
  const float* panels = nullptr;   // the centres packed for panel_dots (null: BLAS sgemm)
  PanelIsa isa = PanelIsa::None;   // the panels' kernel
  const int32_t* order = nullptr;  // position -> centre index
  float cmax = 0;                  // largest centre norm (not squared)
  double rel_err = 0;              // bound on the relative error of one exact_sq_l2
  // Bounds (groups = 0: none).
  int64_t groups = 0;
  const int64_t* group_start = nullptr;  // groups + 1
  const int32_t* group_of = nullptr;     // position -> group
  const float* drift = nullptr;  // per group: the farthest move of its centres since the bounds
                                 // were made (null: the bounds are for these centres)
};

// Per-thread buffers of the tiles.
struct TileScratch {
  std::vector<float> values;  // rows x k
  std::vector<float> exact;   // k: exact distances of one row
  std::vector<int32_t> cand;  // k
  std::vector<int64_t> failing;
  std::vector<float> zeros;  // d: ||x||^2 = exact_sq_l2(x, 0)
};

// Rows per tile for k centres of d dimensions: the tile's values (rows x k) and rows (rows x d)
// stay in cache.
int64_t tile_rows(int64_t k, int64_t d);

// Bound on the relative rounding error of exact_sq_l2 over d dimensions.
double exact_rel_err(int64_t d);

// The tile's rows x (rows x d): position of each row's centre into pos, its exact squared
// distance into dist; lower (rows x groups, null without bounds) gets fresh bounds. Returns the
// row-centre distances computed.
int64_t dots_tile(const float* x, int64_t rows, const PassCentres& pc, TileScratch& s, int32_t* pos,
                  float* dist, float* lower);

// The same from the rows' bounds: pos holds each row's centre position from the last pass and
// lower its bounds (moved by pc.drift first when not null). Rows the bounds cannot settle are
// measured against the groups they leave open; a tile where that would cost more than dots_tile
// goes to dots_tile. Returns the row-centre distances computed.
int64_t bounded_tile(const float* x, int64_t rows, const PassCentres& pc, TileScratch& s,
                     int32_t* pos, float* dist, float* lower);

}  // namespace embcluster
