// The rows of the CPU tile passes: tiles inside loaded blocks, the rows a pair of tiles needs and
// the per-tile questions that let a pass skip a pair.
#include "cpu/dbscan_cpu_rows.h"

#include <algorithm>
#include <cmath>

#include "cpu/dbscan_cpu.h"
#include "kernels/dbscan_math.cuh"
#include "kernels/dbscan_rules.cuh"

namespace embcluster {
namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;

// Positions (in tile r) of the rows with wanted(i) that can reach tile `other`, into keep; returns
// how many.
template <class Wanted>
int64_t rows_in_reach_if(const DbscanTiles& rows, const TileRows& r, int64_t other, double radius,
                         float eps2, int32_t* keep, Wanted&& wanted) {
  int64_t k = 0;
  for (int64_t i = 0; i < r.m; ++i)
    if (wanted(i) && row_reaches(rows, r.x + i * rows.dims(), r.norms[i], other, radius, eps2))
      keep[k++] = static_cast<int32_t>(i);
  return k;
}

}  // namespace

Scratch::Scratch(int64_t d)
    : tile(static_cast<size_t>(kDbscanTileRows * kDbscanTileRows)),
      rc(kDbscanTileRows),
      cc(kDbscanTileRows),
      gathered(static_cast<size_t>(kDbscanTileRows * d)),
      gathered_norms(kDbscanTileRows),
      gathered2(static_cast<size_t>(kDbscanTileRows * d)),
      gathered2_norms(kDbscanTileRows),
      ids(kDbscanTileRows),
      ids2(kDbscanTileRows),
      keep(kDbscanTileRows),
      keep2(kDbscanTileRows),
      row_start(kDbscanTileRows + 1),
      col_start(kDbscanTileRows + 1),
      proj(static_cast<size_t>(kDbscanTileRows * d)),
      proj_norms(kDbscanTileRows),
      proj2(static_cast<size_t>(kDbscanTileRows * d)),
      proj2_norms(kDbscanTileRows) {}

TileRows tile_rows(const DbscanTiles& rows, const LoadedBlock& blk, int64_t t) {
  const TileInfo& ti = rows.tile(t);
  const int64_t local = ti.begin - blk.pos0;
  return {blk.data.data() + local * rows.dims(), blk.norms.data() + local, rows.ids() + ti.begin,
          ti.rows()};
}

int64_t gather_core(const DbscanState& st, const TileRows& r, int64_t d, float* x, float* xn,
                    int64_t* ids) {
  int64_t k = 0;
  for (int64_t i = 0; i < r.m; ++i) {
    if (!st.core[r.ids[i]]) continue;
    std::memcpy(x + k * d, r.x + i * d, sizeof(float) * d);
    xn[k] = r.norms[i];
    ids[k++] = r.ids[i];
  }
  return k;
}

bool row_reaches(const DbscanTiles& rows, const float* x, float xn, int64_t other, double radius,
                 float eps2) {
  const double* c = rows.centre(other);
  const int64_t d = rows.dims();
  double c2 = 0;
#pragma omp simd reduction(+ : c2)
  for (int64_t j = 0; j < d; ++j) {
    const double v = double(x[j]) - c[j];
    c2 += v * v;
  }
  return kern::tile_pair_kind(c2, 0.0, radius, xn, rows.tile(other).max_sq_norm, eps2,
                              rounding_scale(d)) != kern::kTilesFar;
}

double core_radius(const DbscanTiles& rows, DbscanState& st, const TileRows& r, int64_t t) {
  double v = st.core_radius[t].load(kRelaxed);
  if (v >= 0) return v;
  const double* c = rows.centre(t);
  const int64_t d = rows.dims();
  v = 0;
  for (int64_t i = 0; i < r.m; ++i) {
    if (!st.core[r.ids[i]]) continue;
    double s = 0;
    for (int64_t j = 0; j < d; ++j) {
      const double u = double(r.x[i * d + j]) - c[j];
      s += u * u;
    }
    v = std::max(v, s);
  }
  v = std::sqrt(v);
  st.core_radius[t].store(v, kRelaxed);
  return v;
}

int64_t rows_in_reach(const DbscanTiles& rows, const TileRows& r, int64_t other, float eps2,
                      int32_t* keep) {
  return rows_in_reach_if(rows, r, other, rows.tile(other).radius, eps2, keep,
                          [](int64_t) { return true; });
}

int64_t gather_core_in_reach(const DbscanTiles& rows, const DbscanState& st, const TileRows& r,
                             int64_t other, double radius, float* x, float* xn, int64_t* ids,
                             int32_t* keep) {
  const int64_t k = rows_in_reach_if(rows, r, other, radius, st.eps2, keep,
                                     [&](int64_t i) { return st.core[r.ids[i]] != 0; });
  gather_rows(r, keep, k, rows.dims(), x, xn, ids);
  return k;
}

Needs::Needs(DbscanPassContext& ctx) : rows_(*ctx.rows), st_(*ctx.st) {}

bool Needs::settled(int64_t t) {
  if (st_.tile_flag[t].load(kRelaxed)) return true;
  const TileInfo& ti = rows_.tile(t);
  for (int64_t p = ti.begin; p < ti.end; ++p)
    if (st_.count[rows_.ids()[p]].load(kRelaxed) < st_.min_samples) return false;
  st_.tile_flag[t].store(1, kRelaxed);
  return true;
}

bool Needs::one_root(int64_t t) {
  if (st_.tile_flag[t].load(kRelaxed)) return true;
  const TileInfo& ti = rows_.tile(t);
  const int64_t r = st_.uf.find(rows_.ids()[st_.tile_core_pos[t]]);
  for (int64_t p = ti.begin; p < ti.end; ++p) {
    const int64_t id = rows_.ids()[p];
    if (st_.core[id] && st_.uf.find(id) != r) return false;
  }
  st_.tile_flag[t].store(1, kRelaxed);
  return true;
}

bool Needs::join(int64_t s, int64_t t) {
  if (!kern::dbscan_tiles_join(st_.tile_core[s], st_.tile_core[t], s == t)) return false;
  if (s == t) return !one_root(s);
  return !(one_root(s) && one_root(t) &&
           st_.uf.same(rows_.ids()[st_.tile_core_pos[s]], rows_.ids()[st_.tile_core_pos[t]]));
}

void Needs::improvable(int64_t p, int64_t q, std::vector<int64_t>* pick) {
  pick->clear();
  const TileInfo& ti = rows_.tile(p);
  if (!kern::dbscan_tile_attaches(st_.tile_core[p], ti.rows(), st_.tile_core[q])) return;
  const int64_t best = st_.tile_min_root[q];
  for (int64_t pos = ti.begin; pos < ti.end; ++pos) {
    const int64_t id = rows_.ids()[pos];
    if (!st_.core[id] && st_.border[id].load(kRelaxed) > best) pick->push_back(pos - ti.begin);
  }
}

bool Needs::attach(int64_t s, int64_t t, std::vector<int64_t>* pick) {
  improvable(s, t, pick);
  if (!pick->empty()) return true;
  if (s == t) return false;
  improvable(t, s, pick);
  return !pick->empty();
}

}  // namespace embcluster
