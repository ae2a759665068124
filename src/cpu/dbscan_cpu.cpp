// The CPU tile passes of exact DBSCAN: for each pair of tiles of two loaded blocks that is not
// far apart, the count, union or border pass on one sgemm distance tile (OpenMP over tiles, BLAS
// single-threaded), on the rows the pair needs only. What a pass does with a pair of rows within
// eps follows kernels/dbscan_rules.cuh, as the FAISS path and the CUDA kernels do.
#include "cpu/dbscan_cpu.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <vector>

#include "cpu/dbscan_cpu_rows.h"
#include "cpu/distance_tile.h"
#include "kernels/dbscan_rules.cuh"

namespace embcluster {
namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;

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
        const Visit v = visit(s, t, kind, sc);
        settled += v == Visit::settled;
        near += v == Visit::near;
        gemm += v == Visit::gemm;
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

// Emits ids(j) for the positions j = 0, 1, ... where within(j), one per call (as
// DbscanState::add_neighbours asks for them).
template <class Within, class Ids>
auto next_within(Within within, Ids ids) {
  return [within, ids, j = int64_t(-1)](int64_t) mutable {
    while (!within(++j)) {
    }
    return ids(j);
  };
}

// count on a tile with itself: every row counts itself once, whatever rounding says.
void count_diagonal(DbscanState& st, const TileRows& r, int64_t d, Scratch& sc) {
  float* d2 = sc.tile.data();
  int32_t *rc = sc.rc.data(), *cc = sc.cc.data();
  const int64_t m = r.m;
  const float eps2 = st.eps2;
  eps_distance_tile(r.x, r.norms, m, r.x, r.norms, m, d, eps2, d2);
  std::fill(rc, rc + m, 0);
  std::fill(cc, cc + m, 0);
  for (int64_t i = 0; i < m; ++i) {
    const float* row = d2 + i * m;
    int32_t c = 1;  // the row itself
    for (int64_t j = i + 1; j < m; ++j) {
      const int32_t w = row[j] <= eps2;
      c += w;
      cc[j] += w;
    }
    rc[i] += c;
  }
  for (int64_t i = 0; i < m; ++i) {
    if (rc[i] + cc[i] == 0) continue;
    auto within = [&, i](int64_t j) {
      return j == i || (j > i ? d2[i * m + j] : d2[j * m + i]) <= eps2;
    };
    st.add_neighbours(r.ids[i], rc[i] + cc[i],
                      next_within(within, [&](int64_t j) { return r.ids[j]; }));
  }
}

// count on two tiles: only the rows of each that can reach the other (gathered when some
// cannot). False when no row can.
bool count_across(const DbscanTiles& rows, DbscanState& st, const TileRows& rs, int64_t s,
                  const TileRows& rt, int64_t t, Scratch& sc) {
  const int64_t d = rows.dims();
  int32_t *ka = sc.keep.data(), *kb = sc.keep2.data();
  const int64_t na = rows_in_reach(rows, rs, t, st.eps2, ka);
  const int64_t nb = na ? rows_in_reach(rows, rt, s, st.eps2, kb) : 0;
  if (na == 0 || nb == 0) return false;
  const float *xa = rs.x, *xan = rs.norms, *xb = rt.x, *xbn = rt.norms;
  if (na < rs.m) {
    gather_rows(rs, ka, na, d, sc.gathered.data(), sc.gathered_norms.data());
    xa = sc.gathered.data(), xan = sc.gathered_norms.data();
  }
  if (nb < rt.m) {
    gather_rows(rt, kb, nb, d, sc.gathered2.data(), sc.gathered2_norms.data());
    xb = sc.gathered2.data(), xbn = sc.gathered2_norms.data();
  }
  float* d2 = sc.tile.data();
  int32_t* cc = sc.cc.data();
  const float eps2 = st.eps2;
  eps_distance_tile(xa, xan, na, xb, xbn, nb, d, eps2, d2);
  std::fill(cc, cc + nb, 0);
  auto id_a = [&](int64_t i) { return rs.ids[ka[i]]; };
  auto id_b = [&](int64_t j) { return rt.ids[kb[j]]; };
  for (int64_t i = 0; i < na; ++i) {
    const float* row = d2 + i * nb;
    int32_t c = 0;
#pragma omp simd reduction(+ : c)
    for (int64_t j = 0; j < nb; ++j) {
      const int32_t w = row[j] <= eps2;
      c += w;
      cc[j] += w;
    }
    if (c)
      st.add_neighbours(id_a(i), c, next_within([&](int64_t j) { return row[j] <= eps2; }, id_b));
  }
  for (int64_t j = 0; j < nb; ++j) {
    if (!cc[j]) continue;
    auto within = [&, j](int64_t i) { return d2[i * nb + j] <= eps2; };
    st.add_neighbours(id_b(j), cc[j], next_within(within, id_a));
  }
  return true;
}

// The projected rows (and their squared norms) of tile t inside the loaded block blk.
const float* proj_rows(const ProjectedBlock& pb, const DbscanTiles& rows, const LoadedBlock& blk,
                       int64_t t, int64_t k, const float** norms) {
  const int64_t local = rows.tile(t).begin - blk.pos0;
  *norms = pb.norms.data() + local;
  return pb.p.data() + local * k;
}

// Lists of the pairs (positions) by their first or second member: start[0..m] offsets into list.
void pair_lists(const std::vector<std::pair<int32_t, int32_t>>& pairs, bool by_first,
                const int32_t* counts, int64_t m, int32_t* start, std::vector<int32_t>* list) {
  start[0] = 0;
  for (int64_t i = 0; i < m; ++i) start[i + 1] = start[i] + counts[i];
  list->resize(pairs.size());
  for (const auto& [i, j] : pairs) (*list)[start[by_first ? i : j]++] = by_first ? j : i;
  for (int64_t i = m; i > 0; --i) start[i] = start[i - 1];  // start[i] had moved to start[i + 1]
  start[0] = 0;
}

// Adds the pairs within eps found on tiles of rows ida (ma) and idb (mb), as positions in
// sc.pairs (diag: one tile with itself, pairs j > i, each row counting itself).
void count_found_pairs(DbscanState& st, const int64_t* ida, int64_t ma, const int64_t* idb,
                       int64_t mb, bool diag, Scratch& sc) {
  int32_t *rc = sc.rc.data(), *cc = sc.cc.data();
  std::fill(rc, rc + ma, 0);
  std::fill(cc, cc + mb, 0);
  for (const auto& [i, j] : sc.pairs) ++rc[i], ++cc[j];
  int32_t *rs = sc.row_start.data(), *cs = sc.col_start.data();
  pair_lists(sc.pairs, true, rc, ma, rs, &sc.row_list);
  pair_lists(sc.pairs, false, cc, mb, cs, &sc.col_list);
  const auto& rows = sc.row_list;
  const auto& cols = sc.col_list;
  if (diag) {  // row i's neighbours: itself, its pairs as first, then as second
    for (int64_t i = 0; i < ma; ++i)
      st.add_neighbours(ida[i], 1 + rc[i] + cc[i], [&, i](int64_t q) {
        if (q == 0) return ida[i];
        return q <= rc[i] ? ida[rows[rs[i] + q - 1]] : ida[cols[cs[i] + q - 1 - rc[i]]];
      });
    return;
  }
  for (int64_t i = 0; i < ma; ++i)
    if (rc[i]) st.add_neighbours(ida[i], rc[i], [&, i](int64_t q) { return idb[rows[rs[i] + q]]; });
  for (int64_t j = 0; j < mb; ++j)
    if (cc[j]) st.add_neighbours(idb[j], cc[j], [&, j](int64_t q) { return ida[cols[cs[j] + q]]; });
}

// count on a mixed pair of tiles through the projection: projected distances, the candidates
// decided exactly. False (nothing counted) when too many are candidates for this to pay.
bool count_projected(DbscanPassContext& ctx, const LoadedBlock& a, const LoadedBlock& b,
                     const TileRows& rs, int64_t s, const TileRows& rt, int64_t t, Scratch& sc) {
  const DbscanTiles& rows = *ctx.rows;
  DbscanState& st = *ctx.st;
  const int64_t k = ctx.proj->k, d = rows.dims(), ma = rs.m, mb = rt.m;
  const bool diag = s == t;
  const float *pna, *pnb;
  const float* pa = proj_rows(*ctx.pa, rows, a, s, k, &pna);
  const float* pb = proj_rows(*ctx.pb, rows, b, t, k, &pnb);
  const float lim = projected_limit(*ctx.proj, *ctx.pa, s, *ctx.pb, t);
  if (projected_candidates(pa, pna, ma, pb, pnb, mb, k, lim, diag, ma * mb / 4, &sc.cands,
                           sc.tile.data()) < 0)
    return false;
  const float scale = static_cast<float>(rounding_scale(d));
  sc.pairs.clear();
  for (const auto& [i, j] : sc.cands)
    if (within_eps(rs.x + i * d, rs.norms[i], rt.x + j * d, rt.norms[j], d, st.eps2, scale))
      sc.pairs.emplace_back(i, j);
  count_found_pairs(st, rs.ids, ma, rt.ids, mb, diag, sc);
  return true;
}

Visit count_pair(DbscanPassContext& ctx, Needs& needs, const LoadedBlock& a, const LoadedBlock& b,
                 int64_t s, int64_t t, PairKind kind, Scratch& sc) {
  DbscanState& st = *ctx.st;
  if (!needs.count(s, t)) return Visit::settled;
  const TileRows rs = tile_rows(*ctx.rows, a, s), rt = tile_rows(*ctx.rows, b, t);
  if (kind == PairKind::near) {  // every pair within eps (on the diagonal the row itself too)
    for (int64_t i = 0; i < rs.m; ++i)
      st.add_neighbours(rs.ids[i], int32_t(rt.m), [&](int64_t q) { return rt.ids[q]; });
    if (s != t)
      for (int64_t j = 0; j < rt.m; ++j)
        st.add_neighbours(rt.ids[j], int32_t(rs.m), [&](int64_t q) { return rs.ids[q]; });
    return Visit::near;
  }
  if (ctx.proj && count_projected(ctx, a, b, rs, s, rt, t, sc)) return Visit::gemm;
  if (s == t) {
    count_diagonal(st, rs, ctx.rows->dims(), sc);
    return Visit::gemm;
  }
  return count_across(*ctx.rows, st, rs, s, rt, t, sc) ? Visit::gemm : Visit::settled;
}

// The core rows of tile r for a pair with tile `other` (diagonal: all of them; otherwise those
// that can reach the core rows of `other`, core_other its radius) into the gathered set `second`.
int64_t gather_pair_core(DbscanPassContext& ctx, const TileRows& r, int64_t other,
                         const TileRows& ro, bool diag, bool second, Scratch& sc) {
  const DbscanTiles& rows = *ctx.rows;
  float* x = second ? sc.gathered2.data() : sc.gathered.data();
  float* xn = second ? sc.gathered2_norms.data() : sc.gathered_norms.data();
  int64_t* ids = second ? sc.ids2.data() : sc.ids.data();
  if (diag) return gather_core(*ctx.st, r, rows.dims(), x, xn, ids);
  return gather_core_in_reach(rows, *ctx.st, r, other, core_radius(rows, *ctx.st, ro, other), x, xn,
                              ids, second ? sc.keep2.data() : sc.keep.data());
}

// Copies the core rows of tile t (rows r) with their projected rows into the gathered set `second`;
// returns how many.
int64_t gather_core_projected(DbscanPassContext& ctx, const LoadedBlock& blk, const TileRows& r,
                              int64_t t, const ProjectedBlock& pb, bool second, Scratch& sc) {
  const int64_t d = ctx.rows->dims(), k = ctx.proj->k;
  float* x = second ? sc.gathered2.data() : sc.gathered.data();
  float* xn = second ? sc.gathered2_norms.data() : sc.gathered_norms.data();
  int64_t* ids = second ? sc.ids2.data() : sc.ids.data();
  float* p = second ? sc.proj2.data() : sc.proj.data();
  float* pn = second ? sc.proj2_norms.data() : sc.proj_norms.data();
  const float* pnorms;
  const float* prow = proj_rows(pb, *ctx.rows, blk, t, k, &pnorms);
  int64_t n = 0;
  for (int64_t i = 0; i < r.m; ++i) {
    if (!ctx.st->core[r.ids[i]]) continue;
    std::memcpy(x + n * d, r.x + i * d, sizeof(float) * d);
    std::memcpy(p + n * k, prow + i * k, sizeof(float) * k);
    xn[n] = r.norms[i];
    pn[n] = pnorms[i];
    ids[n++] = r.ids[i];
  }
  return n;
}

// union on a mixed pair of tiles through the projection: projected distances between their core
// rows; a candidate pair is decided exactly only when its rows are not in one set already.
Visit union_projected(DbscanPassContext& ctx, const LoadedBlock& a, const LoadedBlock& b,
                      const TileRows& rs, int64_t s, const TileRows& rt, int64_t t, Scratch& sc) {
  DbscanState& st = *ctx.st;
  const bool diag = s == t;
  const int64_t d = ctx.rows->dims(), k = ctx.proj->k;
  const int64_t ka = gather_core_projected(ctx, a, rs, s, *ctx.pa, false, sc);
  const int64_t kb = diag || ka == 0 ? ka : gather_core_projected(ctx, b, rt, t, *ctx.pb, true, sc);
  if (ka == 0 || kb == 0) return Visit::settled;
  const float* y = diag ? sc.gathered.data() : sc.gathered2.data();
  const float* yn = diag ? sc.gathered_norms.data() : sc.gathered2_norms.data();
  const int64_t* yid = diag ? sc.ids.data() : sc.ids2.data();
  const float lim = projected_limit(*ctx.proj, *ctx.pa, s, *ctx.pb, t);
  projected_candidates(sc.proj.data(), sc.proj_norms.data(), ka,
                       diag ? sc.proj.data() : sc.proj2.data(),
                       diag ? sc.proj_norms.data() : sc.proj2_norms.data(), kb, k, lim, diag,
                       ka * kb, &sc.cands, sc.tile.data());
  const float scale = static_cast<float>(rounding_scale(d));
  const float* x = sc.gathered.data();
  for (const auto& [i, j] : sc.cands)
    if (!st.uf.same(sc.ids[i], yid[j]) &&
        within_eps(x + i * d, sc.gathered_norms[i], y + j * d, yn[j], d, st.eps2, scale))
      st.uf.unite(sc.ids[i], yid[j]);
  return Visit::gemm;
}

Visit union_pair(DbscanPassContext& ctx, Needs& needs, const LoadedBlock& a, const LoadedBlock& b,
                 int64_t s, int64_t t, PairKind kind, Scratch& sc) {
  DbscanState& st = *ctx.st;
  if (!needs.join(s, t)) return Visit::settled;
  const TileRows rs = tile_rows(*ctx.rows, a, s), rt = tile_rows(*ctx.rows, b, t);
  if (kind == PairKind::near) {  // all core rows of both tiles are one set
    const int64_t anchor = ctx.rows->ids()[st.tile_core_pos[s]];
    for (int64_t i = 0; i < rs.m; ++i)
      if (kern::dbscan_joins(true, st.core[rs.ids[i]])) st.uf.unite(anchor, rs.ids[i]);
    for (int64_t j = 0; j < rt.m; ++j)
      if (kern::dbscan_joins(true, st.core[rt.ids[j]])) st.uf.unite(anchor, rt.ids[j]);
    return Visit::near;
  }
  if (ctx.proj) return union_projected(ctx, a, b, rs, s, rt, t, sc);
  // The rule joins core rows only: distances between the core rows alone.
  const bool diag = s == t;
  const int64_t ka = gather_pair_core(ctx, rs, t, rt, diag, false, sc);
  const int64_t kb = diag || ka == 0 ? ka : gather_pair_core(ctx, rt, s, rs, false, true, sc);
  if (ka == 0 || kb == 0) return Visit::settled;
  const float* yb = diag ? sc.gathered.data() : sc.gathered2.data();
  const float* yn = diag ? sc.gathered_norms.data() : sc.gathered2_norms.data();
  const int64_t* yid = diag ? sc.ids.data() : sc.ids2.data();
  float* d2 = sc.tile.data();
  eps_distance_tile(sc.gathered.data(), sc.gathered_norms.data(), ka, yb, yn, kb, ctx.rows->dims(),
                    st.eps2, d2);
  for (int64_t i = 0; i < ka; ++i) {
    const float* row = d2 + i * kb;
    for (int64_t j = diag ? i + 1 : 0; j < kb; ++j)
      if (row[j] <= st.eps2) st.uf.unite(sc.ids[i], yid[j]);
  }
  return Visit::gemm;
}

// Attaches the non-core rows of tile p (positions in sc.pick) to core rows of tile q; false when
// no distance was computed.
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
  eps_distance_tile(sc.gathered.data(), sc.gathered_norms.data(), k, sc.gathered2.data(),
                    sc.gathered2_norms.data(), kq, d, st.eps2, d2);
  for (int64_t r = 0; r < k; ++r) {
    const float* row = d2 + r * kq;
    int64_t best = kNoRoot;
    for (int64_t j = 0; j < kq; ++j)
      if (row[j] <= st.eps2) best = kern::dbscan_attachment(best, st.uf.root(sc.ids2[j]));
    if (best != kNoRoot) atomic_min(st.border[rp.ids[sc.pick[r]]], best);
  }
  return true;
}

Visit border_pair(DbscanPassContext& ctx, Needs& needs, const LoadedBlock& a, const LoadedBlock& b,
                  int64_t s, int64_t t, PairKind kind, Scratch& sc) {
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
  return !any ? Visit::settled : gemm ? Visit::gemm : Visit::near;
}

}  // namespace

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
    switch (pass) {
      case DbscanPass::count:
        return count_pair(ctx, needs, a, b, s, t, kind, sc);
      case DbscanPass::union_core:
        return union_pair(ctx, needs, a, b, s, t, kind, sc);
      case DbscanPass::border:
        break;
    }
    return border_pair(ctx, needs, a, b, s, t, kind, sc);
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

}  // namespace embcluster
