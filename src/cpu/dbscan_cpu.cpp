#include "cpu/dbscan_cpu.h"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "cpu/distance_tile.h"
#include "kernels/dbscan_math.cuh"
#include "kernels/distance.cuh"

namespace embcluster {
namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;

// What a visit of a pair of tiles did (for the pass statistics).
enum class Visit { settled, near, gemm };

struct Scratch {
  explicit Scratch(int64_t d)
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
        keep2(kDbscanTileRows) {}
  std::vector<float> tile;
  std::vector<int32_t> rc, cc;
  std::vector<float> gathered, gathered_norms, gathered2, gathered2_norms;
  std::vector<int64_t> ids, ids2;
  std::vector<int64_t> pick;
  std::vector<int32_t> keep, keep2;
};

// Rows of a tile inside a loaded block.
struct TileRows {
  const float* x;
  const float* norms;
  const int64_t* ids;
  int64_t m;
};

TileRows tile_rows(const DbscanTiles& rows, const LoadedBlock& blk, int64_t t) {
  const TileInfo& ti = rows.tile(t);
  const int64_t local = ti.begin - blk.pos0;
  return {blk.data.data() + local * rows.dims(), blk.norms.data() + local, rows.ids() + ti.begin,
          ti.rows()};
}

// Copies the core rows of a tile to x (norms xn, source rows ids); returns how many.
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

// Whether row x (squared norm xn) can lie within eps of a row of tile `other` whose rows of
// interest lie within `radius` of its centre. A row is a tile of radius 0: it cannot when
// kern::tile_pair_kind calls it far from the other tile, with the same rounding margins, so leaving
// such rows out of a tile pair never changes a result.
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

// The largest distance of a core row of tile r (tile number t) from the tile's centre, measured
// by the first pass that asks (the core rows do not change after the count pass).
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

// Positions (in tile r) of the rows with wanted(i) that can reach tile `other`, into keep;
// returns how many.
template <class Wanted>
int64_t rows_in_reach(const DbscanTiles& rows, const TileRows& r, int64_t other, double radius,
                      float eps2, int32_t* keep, Wanted&& wanted) {
  int64_t k = 0;
  for (int64_t i = 0; i < r.m; ++i)
    if (wanted(i) && row_reaches(rows, r.x + i * rows.dims(), r.norms[i], other, radius, eps2))
      keep[k++] = static_cast<int32_t>(i);
  return k;
}

int64_t rows_in_reach(const DbscanTiles& rows, const TileRows& r, int64_t other, float eps2,
                      int32_t* keep) {
  return rows_in_reach(rows, r, other, rows.tile(other).radius, eps2, keep,
                       [](int64_t) { return true; });
}

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

// Copies the core rows of tile r that can reach the rows of tile `other` lying within `radius`
// of its centre to x (norms xn, source rows ids); returns how many. keep is scratch for a tile's
// positions.
int64_t gather_core_in_reach(const DbscanTiles& rows, const DbscanState& st, const TileRows& r,
                             int64_t other, double radius, float* x, float* xn, int64_t* ids,
                             int32_t* keep) {
  const int64_t k = rows_in_reach(rows, r, other, radius, st.eps2, keep,
                                  [&](int64_t i) { return st.core[r.ids[i]] != 0; });
  gather_rows(r, keep, k, rows.dims(), x, xn, ids);
  return k;
}

// The per-tile questions of the passes, answered from the state (and cached once settled).
class Needs {
 public:
  explicit Needs(DbscanPassContext& ctx) : rows_(*ctx.rows), st_(*ctx.st) {}

  // Every row of tile t has min_samples neighbours already.
  bool settled(int64_t t) {
    if (st_.tile_flag[t].load(kRelaxed)) return true;
    const TileInfo& ti = rows_.tile(t);
    for (int64_t p = ti.begin; p < ti.end; ++p)
      if (st_.count[rows_.ids()[p]].load(kRelaxed) < st_.min_samples) return false;
    st_.tile_flag[t].store(1, kRelaxed);
    return true;
  }

  // Every core row of tile t is in one set already.
  bool one_root(int64_t t) {
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

  bool count(int64_t s, int64_t t) { return !(settled(s) && settled(t)); }

  bool join(int64_t s, int64_t t) {
    if (s == t) return st_.tile_core[s] >= 2 && !one_root(s);
    if (st_.tile_core[s] == 0 || st_.tile_core[t] == 0) return false;
    return !(one_root(s) && one_root(t) &&
             st_.uf.same(rows_.ids()[st_.tile_core_pos[s]], rows_.ids()[st_.tile_core_pos[t]]));
  }

  // Non-core rows of tile p whose attachment a core row of tile q could still lower.
  void improvable(int64_t p, int64_t q, std::vector<int64_t>* pick) {
    pick->clear();
    if (st_.tile_core[q] == 0 || st_.tile_core[p] == rows_.tile(p).rows()) return;
    const TileInfo& ti = rows_.tile(p);
    const int64_t best = st_.tile_min_root[q];
    for (int64_t pos = ti.begin; pos < ti.end; ++pos) {
      const int64_t id = rows_.ids()[pos];
      if (!st_.core[id] && st_.border[id].load(kRelaxed) > best) pick->push_back(pos - ti.begin);
    }
  }

  bool attach(int64_t s, int64_t t, std::vector<int64_t>* pick) {
    improvable(s, t, pick);
    if (!pick->empty()) return true;
    if (s == t) return false;
    improvable(t, s, pick);
    return !pick->empty();
  }

 private:
  const DbscanTiles& rows_;
  DbscanState& st_;
};

// Calls visit(s, t, kind, scratch) for every pair of tiles of blocks a and b that is not far
// apart (each unordered pair once), in parallel over the tiles of a.
template <class VisitFn>
void for_tile_pairs(const LoadedBlock& a, const LoadedBlock& b, DbscanPassContext& ctx,
                    VisitFn&& visit) {
  DbscanTiles& rows = *ctx.rows;
  const bool same = a.index == b.index;
  const int64_t s0 = rows.first_tile(a.index), ns = rows.tile_count(a.index);
  const int64_t t0 = rows.first_tile(b.index), nt = rows.tile_count(b.index);
  const float eps2 = ctx.st->eps2;
  std::atomic<int64_t> done{0};
  int64_t far = 0, near = 0, settled = 0, gemm = 0;
#pragma omp parallel num_threads(ctx.threads) reduction(+ : far, near, settled, gemm)
  {
    Scratch sc(rows.dims());
#pragma omp for schedule(dynamic, 1)
    for (int64_t i = 0; i < ns; ++i) {
      for (int64_t j = same ? i : 0; j < nt; ++j) {
        const int64_t s = s0 + i, t = t0 + j;
        const PairKind kind = rows.classify(s, t, eps2);
        if (kind == PairKind::far) {
          ++far;
          continue;
        }
        switch (visit(s, t, kind, sc)) {
          case Visit::settled:
            ++settled;
            break;
          case Visit::near:
            ++near;
            break;
          case Visit::gemm:
            ++gemm;
            break;
        }
      }
      const int64_t now = done.fetch_add(same ? nt - i : nt) + (same ? nt - i : nt);
      if (ctx.tick && omp_get_thread_num() == 0) ctx.tick(now);
    }
  }
  if (ctx.stats) {
    ctx.stats->far += far;
    ctx.stats->near += near;
    ctx.stats->settled += settled;
    ctx.stats->gemm += gemm;
  }
}

void count_pair(DbscanPassContext& ctx, Needs& needs, const LoadedBlock& a, const LoadedBlock& b,
                int64_t s, int64_t t, PairKind kind, Scratch& sc, Visit* out) {
  DbscanState& st = *ctx.st;
  if (!needs.count(s, t)) {
    *out = Visit::settled;
    return;
  }
  const TileRows rs = tile_rows(*ctx.rows, a, s), rt = tile_rows(*ctx.rows, b, t);
  if (kind == PairKind::near) {  // every pair within eps (on the diagonal the row itself too)
    for (int64_t i = 0; i < rs.m; ++i) st.count[rs.ids[i]].fetch_add(int32_t(rt.m), kRelaxed);
    if (s != t)
      for (int64_t j = 0; j < rt.m; ++j) st.count[rt.ids[j]].fetch_add(int32_t(rs.m), kRelaxed);
    *out = Visit::near;
    return;
  }
  const int64_t d = ctx.rows->dims();
  const float eps2 = st.eps2;
  float* d2 = sc.tile.data();
  int32_t* cc = sc.cc.data();
  if (s == t) {
    sq_distance_tile(rs.x, rs.m, rs.norms, rs.x, rs.m, rs.norms, d, d2);
    settle_band(d2, rs.x, rs.norms, rs.m, rs.x, rs.norms, rs.m, d, eps2);
    int32_t* rc = sc.rc.data();
    std::fill(rc, rc + rs.m, 0);
    std::fill(cc, cc + rs.m, 0);
    for (int64_t i = 0; i < rs.m; ++i) {
      const float* row = d2 + i * rs.m;
      int32_t c = 1;  // the row itself, whatever rounding says
      for (int64_t j = i + 1; j < rs.m; ++j) {
        const int32_t w = row[j] <= eps2;
        c += w;
        cc[j] += w;
      }
      rc[i] += c;
    }
    for (int64_t i = 0; i < rs.m; ++i)
      if (rc[i] + cc[i]) st.count[rs.ids[i]].fetch_add(rc[i] + cc[i], kRelaxed);
    *out = Visit::gemm;
    return;
  }
  // Off the diagonal only the rows of each tile that can reach the other tile (gathered when
  // some cannot).
  int32_t* ka = sc.keep.data();
  int32_t* kb = sc.keep2.data();
  const int64_t na = rows_in_reach(*ctx.rows, rs, t, eps2, ka);
  const int64_t nb = na ? rows_in_reach(*ctx.rows, rt, s, eps2, kb) : 0;
  if (na == 0 || nb == 0) {
    *out = Visit::settled;
    return;
  }
  const float *xa = rs.x, *xan = rs.norms, *xb = rt.x, *xbn = rt.norms;
  if (na < rs.m) {
    gather_rows(rs, ka, na, d, sc.gathered.data(), sc.gathered_norms.data());
    xa = sc.gathered.data(), xan = sc.gathered_norms.data();
  }
  if (nb < rt.m) {
    gather_rows(rt, kb, nb, d, sc.gathered2.data(), sc.gathered2_norms.data());
    xb = sc.gathered2.data(), xbn = sc.gathered2_norms.data();
  }
  sq_distance_tile(xa, na, xan, xb, nb, xbn, d, d2);
  settle_band(d2, xa, xan, na, xb, xbn, nb, d, eps2);
  std::fill(cc, cc + nb, 0);
  for (int64_t i = 0; i < na; ++i) {
    const float* row = d2 + i * nb;
    int32_t c = 0;
#pragma omp simd reduction(+ : c)
    for (int64_t j = 0; j < nb; ++j) {
      const int32_t w = row[j] <= eps2;
      c += w;
      cc[j] += w;
    }
    if (c) st.count[rs.ids[ka[i]]].fetch_add(c, kRelaxed);
  }
  for (int64_t j = 0; j < nb; ++j)
    if (cc[j]) st.count[rt.ids[kb[j]]].fetch_add(cc[j], kRelaxed);
  *out = Visit::gemm;
}

void union_pair(DbscanPassContext& ctx, Needs& needs, const LoadedBlock& a, const LoadedBlock& b,
                int64_t s, int64_t t, PairKind kind, Scratch& sc, Visit* out) {
  DbscanState& st = *ctx.st;
  if (!needs.join(s, t)) {
    *out = Visit::settled;
    return;
  }
  const TileRows rs = tile_rows(*ctx.rows, a, s), rt = tile_rows(*ctx.rows, b, t);
  if (kind == PairKind::near) {  // all core rows of both tiles are one set
    const int64_t anchor = ctx.rows->ids()[st.tile_core_pos[s]];
    for (int64_t i = 0; i < rs.m; ++i)
      if (st.core[rs.ids[i]]) st.uf.unite(anchor, rs.ids[i]);
    for (int64_t j = 0; j < rt.m; ++j)
      if (st.core[rt.ids[j]]) st.uf.unite(anchor, rt.ids[j]);
    *out = Visit::near;
    return;
  }
  // Only core rows matter: distances between them alone.
  const int64_t d = ctx.rows->dims();
  const bool diag = s == t;
  // Off the diagonal only the core rows that can reach the other tile.
  const int64_t ka =
      diag ? gather_core(st, rs, d, sc.gathered.data(), sc.gathered_norms.data(), sc.ids.data())
           : gather_core_in_reach(*ctx.rows, st, rs, t, core_radius(*ctx.rows, st, rt, t),
                                  sc.gathered.data(), sc.gathered_norms.data(), sc.ids.data(),
                                  sc.keep.data());
  const float* yb = diag ? sc.gathered.data() : sc.gathered2.data();
  const float* yn = diag ? sc.gathered_norms.data() : sc.gathered2_norms.data();
  const int64_t* yid = diag ? sc.ids.data() : sc.ids2.data();
  const int64_t kb = diag || ka == 0 ? ka
                                     : gather_core_in_reach(
                                           *ctx.rows, st, rt, s, core_radius(*ctx.rows, st, rs, s),
                                           sc.gathered2.data(), sc.gathered2_norms.data(),
                                           sc.ids2.data(), sc.keep2.data());
  if (ka == 0 || kb == 0) {
    *out = Visit::settled;
    return;
  }
  float* d2 = sc.tile.data();
  sq_distance_tile(sc.gathered.data(), ka, sc.gathered_norms.data(), yb, kb, yn, d, d2);
  settle_band(d2, sc.gathered.data(), sc.gathered_norms.data(), ka, yb, yn, kb, d, st.eps2);
  for (int64_t i = 0; i < ka; ++i) {
    const float* row = d2 + i * kb;
    for (int64_t j = diag ? i + 1 : 0; j < kb; ++j)
      if (row[j] <= st.eps2) st.uf.unite(sc.ids[i], yid[j]);
  }
  *out = Visit::gemm;
}

// Attaches the non-core rows of tile p (positions in sc.pick) to core rows of tile q.
bool attach_rows(DbscanPassContext& ctx, const LoadedBlock& pb, int64_t p, const LoadedBlock& qb,
                 int64_t q, PairKind kind, Scratch& sc) {
  DbscanState& st = *ctx.st;
  const TileRows rp = tile_rows(*ctx.rows, pb, p), rq = tile_rows(*ctx.rows, qb, q);
  const int64_t d = ctx.rows->dims();
  if (kind == PairKind::near) {
    for (int64_t i : sc.pick) atomic_min(st.border[rp.ids[i]], st.tile_min_root[q]);
    return false;
  }
  if (p != q) {  // only the picked rows that can reach a core row of q
    const double qr = core_radius(*ctx.rows, st, rq, q);
    int64_t kept = 0;
    for (int64_t i : sc.pick)
      if (row_reaches(*ctx.rows, rp.x + i * d, rp.norms[i], q, qr, st.eps2)) sc.pick[kept++] = i;
    sc.pick.resize(static_cast<size_t>(kept));
    if (kept == 0) return false;
  }
  const int64_t k = static_cast<int64_t>(sc.pick.size());
  gather_rows(rp, sc.pick.data(), k, d, sc.gathered.data(), sc.gathered_norms.data());
  // Distances from the picked non-core rows to the core rows of q only (off the diagonal, those
  // that can reach p).
  const int64_t kq = p == q ? gather_core(st, rq, d, sc.gathered2.data(), sc.gathered2_norms.data(),
                                          sc.ids2.data())
                            : gather_core_in_reach(*ctx.rows, st, rq, p, ctx.rows->tile(p).radius,
                                                   sc.gathered2.data(), sc.gathered2_norms.data(),
                                                   sc.ids2.data(), sc.keep2.data());
  if (kq == 0) return false;
  float* d2 = sc.tile.data();
  sq_distance_tile(sc.gathered.data(), k, sc.gathered_norms.data(), sc.gathered2.data(), kq,
                   sc.gathered2_norms.data(), d, d2);
  settle_band(d2, sc.gathered.data(), sc.gathered_norms.data(), k, sc.gathered2.data(),
              sc.gathered2_norms.data(), kq, d, st.eps2);
  for (int64_t r = 0; r < k; ++r) {
    const float* row = d2 + r * kq;
    int64_t best = kNoRoot;
    for (int64_t j = 0; j < kq; ++j)
      if (row[j] <= st.eps2) best = std::min(best, st.uf.root(sc.ids2[j]));
    if (best != kNoRoot) atomic_min(st.border[rp.ids[sc.pick[r]]], best);
  }
  return true;
}

void border_pair(DbscanPassContext& ctx, Needs& needs, const LoadedBlock& a, const LoadedBlock& b,
                 int64_t s, int64_t t, PairKind kind, Scratch& sc, Visit* out) {
  bool gemm = false, any = false;
  needs.improvable(s, t, &sc.pick);
  if (!sc.pick.empty()) {
    any = true;
    gemm |= attach_rows(ctx, a, s, b, t, kind, sc);
  }
  if (s != t) {
    needs.improvable(t, s, &sc.pick);
    if (!sc.pick.empty()) {
      any = true;
      gemm |= attach_rows(ctx, b, t, a, s, kind, sc);
    }
  }
  *out = !any ? Visit::settled : gemm ? Visit::gemm : Visit::near;
}

}  // namespace

void settle_band(float* d2, const float* x, const float* xn, int64_t ma, const float* y,
                 const float* yn, int64_t mb, int64_t d, float eps2) {
  const float xmax = *std::max_element(xn, xn + ma), ymax = *std::max_element(yn, yn + mb);
  const float e = static_cast<float>(rounding_scale(d) * (double(xmax) + ymax));
  const float lo = eps2 - e, hi = eps2 + e;
  for (int64_t i = 0; i < ma; ++i) {
    float* row = d2 + i * mb;
    int any = 0;
#pragma omp simd reduction(| : any)
    for (int64_t j = 0; j < mb; ++j) any |= (row[j] >= lo) & (row[j] <= hi);
    if (!any) continue;
    for (int64_t j = 0; j < mb; ++j)
      row[j] = kern::settled_sq_dist(row[j], lo, hi, x + i * d, y + j * d, d);
  }
}

void begin_dbscan_pass(DbscanPass pass, DbscanPassContext& ctx) {
  DbscanState& st = *ctx.st;
  const DbscanTiles& rows = *ctx.rows;
  st.reset_tile_flags();
  if (pass == DbscanPass::count) return;
  const int64_t nt = rows.tile_total();
  st.tile_core.assign(static_cast<size_t>(nt), 0);
  st.tile_core_pos.assign(static_cast<size_t>(nt), 0);
  st.tile_min_root.assign(static_cast<size_t>(nt), kNoRoot);
#pragma omp parallel for num_threads(ctx.threads) schedule(dynamic, 16)
  for (int64_t t = 0; t < nt; ++t) {
    const TileInfo& ti = rows.tile(t);
    for (int64_t p = ti.begin; p < ti.end; ++p) {
      const int64_t id = rows.ids()[p];
      if (!st.core[id]) continue;
      if (st.tile_core[t]++ == 0) st.tile_core_pos[t] = p;
      if (pass == DbscanPass::border)
        st.tile_min_root[t] = std::min(st.tile_min_root[t], st.uf.root(id));
    }
  }
}

void run_dbscan_pass(DbscanPass pass, const LoadedBlock& a, const LoadedBlock& b,
                     DbscanPassContext& ctx) {
  Needs needs(ctx);
  for_tile_pairs(a, b, ctx, [&](int64_t s, int64_t t, PairKind kind, Scratch& sc) {
    Visit v = Visit::settled;
    switch (pass) {
      case DbscanPass::count:
        count_pair(ctx, needs, a, b, s, t, kind, sc, &v);
        break;
      case DbscanPass::union_core:
        union_pair(ctx, needs, a, b, s, t, kind, sc, &v);
        break;
      case DbscanPass::border:
        border_pair(ctx, needs, a, b, s, t, kind, sc, &v);
        break;
    }
    return v;
  });
}

bool dbscan_blocks_need_pass(DbscanPass pass, int64_t a, int64_t b, DbscanPassContext& ctx) {
  DbscanTiles& rows = *ctx.rows;
  Needs needs(ctx);
  std::vector<int64_t> pick;
  const int64_t s0 = rows.first_tile(a), ns = rows.tile_count(a);
  const int64_t t0 = rows.first_tile(b), nt = rows.tile_count(b);
  for (int64_t i = 0; i < ns; ++i) {
    for (int64_t j = a == b ? i : 0; j < nt; ++j) {
      const int64_t s = s0 + i, t = t0 + j;
      if (rows.classify(s, t, ctx.st->eps2) == PairKind::far) continue;
      const bool need = pass == DbscanPass::count        ? needs.count(s, t)
                        : pass == DbscanPass::union_core ? needs.join(s, t)
                                                         : needs.attach(s, t, &pick);
      if (need) return true;
    }
  }
  return false;
}

void query_distances(const float* q, const float* qn, int64_t nq, const float* x, const float* xn,
                     int64_t m, int64_t d, int threads,
                     const std::function<void(int64_t, int64_t, const float*, int64_t)>& fn) {
  constexpr int64_t kQ = kDbscanTileRows, kX = 1024;
  const int64_t tiles = (nq + kQ - 1) / kQ;
#pragma omp parallel num_threads(threads)
  {
    std::vector<float> buf(static_cast<size_t>(kQ * kX));
#pragma omp for schedule(dynamic, 1)
    for (int64_t qt = 0; qt < tiles; ++qt) {
      const int64_t q0 = qt * kQ, rows = std::min(kQ, nq - q0);
      for (int64_t j0 = 0; j0 < m; j0 += kX) {
        const int64_t len = std::min(kX, m - j0);
        sq_distance_tile(q + q0 * d, rows, qn + q0, x + j0 * d, len, xn + j0, d, buf.data());
        for (int64_t i = 0; i < rows; ++i) fn(q0 + i, j0, buf.data() + i * len, len);
      }
    }
  }
}

}  // namespace embcluster
