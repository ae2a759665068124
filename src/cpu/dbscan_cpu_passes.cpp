// Exact DBSCAN's passes on the CPU: every pair of row blocks (each pair once) through the tile
// passes of cpu/dbscan_cpu.cpp, behind the DbscanPasses interface.
#include <omp.h>

#include <algorithm>
#include <future>
#include <string>

#include "cpu/dbscan_cpu.h"

namespace embcluster {
namespace {

class CpuDbscanPasses final : public DbscanPasses {
 public:
  CpuDbscanPasses(DbscanTiles& rows, DbscanState& st, int threads)
      : rows_(rows), st_(st), threads_(threads) {}

  DBSCANPassStats run(DbscanPass pass, const PhaseProgress& progress) override;

  std::string device_name() const override {
    return "cpu (" + std::to_string(threads_) + " threads)";
  }

 private:
  // Tile pairs of blocks i and j (each pair once when i == j).
  int64_t tile_pairs(int64_t i, int64_t j) const {
    const int64_t a = rows_.tile_count(i), b = rows_.tile_count(j);
    return i == j ? a * (a + 1) / 2 : a * b;
  }
  void outer_block(DbscanPass pass, int64_t i, DbscanPassContext& ctx,
                   const std::function<void(int64_t, bool)>& done);

  DbscanTiles& rows_;
  DbscanState& st_;
  int threads_;
};

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
  std::future<std::shared_ptr<const LoadedBlock>> next;
  auto prefetch = [&](size_t k) {
    if (k < js.size() && js[k] != i)
      next = std::async(std::launch::async, [this, j = js[k]] { return rows_.load(j); });
  };
  prefetch(0);
  for (size_t k = 0; k < js.size(); ++k) {
    const auto b = js[k] == i ? a : next.get();
    prefetch(k + 1);
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
                                                     int threads) {
  return std::make_unique<CpuDbscanPasses>(rows, st, threads);
}

}  // namespace embcluster
