// Exact DBSCAN's passes on the CPU: every pair of row blocks (each pair once) through the tile
// passes of cpu/dbscan_cpu.cpp, behind the DbscanPasses interface.
#include <omp.h>

#include <algorithm>
#include <future>
#include <string>
#include <utility>
#include <vector>

#include "cpu/dbscan_cpu.h"
#include "kernels/dbscan_rules.cuh"

namespace embcluster {
namespace {

class CpuDbscanPasses final : public DbscanPasses {
 public:
  CpuDbscanPasses(DbscanTiles& rows, DbscanState& st, int threads, int64_t budget);

  DBSCANPassStats run(DbscanPass pass, const PhaseProgress& progress) override;

  std::string device_name() const override {
    return "cpu (" + std::to_string(threads_) + " threads)";
  }
  // The report's parameters.projection_dims: principal directions that mixed tile pairs went
  // through (none when the full tiles ran).
  std::vector<std::pair<std::string, std::string>> notes() const override {
    if (!proj_.active()) return {};
    return {{"projection_dims", std::to_string(proj_.k)}};
  }

 private:
  // Tile pairs of blocks i and j (each pair once when i == j).
  int64_t tile_pairs(int64_t i, int64_t j) const {
    const int64_t a = rows_.tile_count(i), b = rows_.tile_count(j);
    return i == j ? a * (a + 1) / 2 : a * b;
  }
  void outer_block(DbscanPass pass, int64_t i, DbscanPassContext& ctx,
                   const std::function<void(int64_t, bool)>& done);
  // The projected rows of a loaded block (kept for resident data).
  std::shared_ptr<const ProjectedBlock> projected(const LoadedBlock& blk);
  // border from the neighbours the count pass kept: no distances.
  void border_from_neighbours(DBSCANPassStats* stats);

  DbscanTiles& rows_;
  DbscanState& st_;
  int threads_;
  DbscanProjection proj_;
  std::shared_ptr<const ProjectedBlock> kept_;
};

CpuDbscanPasses::CpuDbscanPasses(DbscanTiles& rows, DbscanState& st, int threads, int64_t budget)
    : rows_(rows), st_(st), threads_(threads) {
  // What the rows leave of the budget (resident: all of them; streamed: three blocks).
  const int64_t row_bytes = rows_.dims() * 4 + 4;
  const int64_t kept = rows_.resident() ? rows_.rows() : 3 * rows_.block_rows();
  int64_t spare = std::max<int64_t>(0, budget - kept * row_bytes);
  // Neighbour slots for the rows that may end non-core, in at most half of it.
  const int64_t cap = st.min_samples - 1, slot_bytes = st.n * cap * 4;
  if (cap > 0 && slot_bytes <= spare / 2) {
    st.nbr_cap = cap;
    st.nbr.assign(static_cast<size_t>(st.n * cap), 0);
    spare -= slot_bytes;
  }
  // Projected rows (resident: all; streamed: two blocks) in the rest. Principal directions from the
  // first block (all of the rows when resident), unless finding them (a sample's d x d covariance
  // and its eigenproblem) would cost more than a twentieth of the full tiles' n^2 d / 2.
  const int64_t projected_rows = rows_.resident() ? rows_.rows() : 2 * rows_.block_rows();
  const int64_t max_k = spare / (4 * projected_rows) - 1;
  const double n = static_cast<double>(rows_.rows()), d = static_cast<double>(rows_.dims());
  const double sample = static_cast<double>(std::min<int64_t>(rows_.block_rows(), 4096));
  if (max_k >= 8 && 9 * d * d * d + sample * d * d < 0.05 * n * n * d) {
    const auto first = rows_.load(0);
    proj_ = fit_dbscan_projection(first->data.data(), first->rows, rows_.dims(), st.eps2, threads,
                                  max_k);
  }
}

std::shared_ptr<const ProjectedBlock> CpuDbscanPasses::projected(const LoadedBlock& blk) {
  if (kept_ && kept_->index == blk.index) return kept_;
  auto pb = std::make_shared<const ProjectedBlock>(project_block(proj_, rows_, blk, threads_));
  if (rows_.resident()) kept_ = pb;
  return pb;
}

void CpuDbscanPasses::border_from_neighbours(DBSCANPassStats* stats) {
  const int64_t n = st_.n, cap = st_.nbr_cap;
#pragma omp parallel for num_threads(threads_) schedule(dynamic, 4096)
  for (int64_t i = 0; i < n; ++i) {
    if (st_.core[i]) continue;
    // A non-core row met fewer than min_samples neighbours: all of them are in its slots.
    const int64_t c = std::min<int64_t>(st_.count[i].load(std::memory_order_relaxed), cap);
    const int32_t* slot = st_.nbr.data() + i * cap;
    int64_t best = kNoRoot;
    for (int64_t q = 0; q < c; ++q)
      if (kern::dbscan_attaches(false, st_.core[slot[q]] != 0))
        best = kern::dbscan_attachment(best, st_.uf.root(slot[q]));
    st_.border[i].store(best, std::memory_order_relaxed);
  }
  stats->settled = stats->tile_pairs;
}

// The pairs (i, j >= i) of blocks: streamed data reads the inner blocks in order, the next one on a
// second thread while the current pair is processed, and skips pairs of blocks that cannot change
// the result. done(tile pairs, read) after each pair of blocks, read or skipped.
void CpuDbscanPasses::outer_block(DbscanPass pass, int64_t i, DbscanPassContext& ctx,
                                  const std::function<void(int64_t, bool)>& done) {
  const int64_t nb = rows_.block_count();
  std::vector<int64_t> js;
  for (int64_t j = i; j < nb; ++j) {
    if (rows_.resident() || dbscan_blocks_need_pass(pass, i, j, ctx)) {
      js.push_back(j);
    } else {
      ctx.stats->settled += tile_pairs(i, j);
      done(tile_pairs(i, j), false);
    }
  }
  if (js.empty()) return;
  const auto a = rows_.load(i);
  std::shared_ptr<const ProjectedBlock> pa, pb;
  if (proj_.active()) pa = projected(*a);
  std::future<std::shared_ptr<const LoadedBlock>> next;
  auto prefetch = [&](size_t k) {
    if (k < js.size() && js[k] != i)
      next = std::async(std::launch::async, [this, j = js[k]] { return rows_.load(j); });
  };
  prefetch(0);
  for (size_t k = 0; k < js.size(); ++k) {
    const auto b = js[k] == i ? a : next.get();
    prefetch(k + 1);
    if (proj_.active()) {
      pb = b == a ? pa : projected(*b);
      ctx.proj = &proj_;
      ctx.pa = pa.get();
      ctx.pb = pb.get();
    }
    run_dbscan_pass(pass, *a, *b, ctx);
    ++ctx.stats->block_pairs_read;
    done(tile_pairs(i, js[k]), true);
  }
}

DBSCANPassStats CpuDbscanPasses::run(DbscanPass pass, const PhaseProgress& progress) {
  DBSCANPassStats stats;
  stats.pass = dbscan_pass_name(pass);
  const int64_t T = rows_.tile_total();
  stats.tile_pairs = T * (T + 1) / 2;
  auto report = [&](int64_t pairs) {
    progress(stats.pass, double(pairs) / std::max<int64_t>(1, stats.tile_pairs));
  };
  DbscanPassContext ctx;
  ctx.rows = &rows_;
  ctx.st = &st_;
  ctx.threads = threads_;
  ctx.stats = &stats;
  int64_t base = 0;  // tile pairs of the pairs of blocks finished
  if (progress) ctx.tick = [&](int64_t now) { report(base + now); };
  if (pass == DbscanPass::border && st_.nbr_cap > 0) {
    border_from_neighbours(&stats);
    return stats;
  }
  begin_dbscan_pass(pass, ctx);
  for (int64_t i = 0; i < rows_.block_count(); ++i) {
    outer_block(pass, i, ctx, [&](int64_t pairs, bool read) {
      base += pairs;
      if (progress && read) report(base);
    });
  }
  return stats;
}

}  // namespace

std::unique_ptr<DbscanPasses> make_cpu_dbscan_passes(DbscanTiles& rows, DbscanState& st,
                                                     int threads, int64_t budget) {
  return std::make_unique<CpuDbscanPasses>(rows, st, threads, budget);
}

}  // namespace embcluster
