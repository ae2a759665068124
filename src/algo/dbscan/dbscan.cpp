// The DBSCAN driver: validation, then (exact) three passes over pairs of tiled row blocks through
// the CPU primitives or on a CUDA device, or (flat, ivf, hnsw) the same passes with neighbours
// from a FAISS index; finally labels numbered as scikit-learn numbers them.
#include "embcluster/dbscan.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <future>
#include <limits>

#include "backend/device_select.h"
#include "algo/dbscan/dbscan_internal.h"
#include "core/thread_guard.h"
#include "cpu/dbscan_cpu.h"
#include "cuda/cuda_dbscan.h"
#include "embcluster/error.h"
#include "embcluster/memory.h"

namespace embcluster {

float dbscan_eps2(double eps, Metric metric) {
  return static_cast<float>(metric == Metric::Cosine ? 2.0 * eps : eps * eps);
}

void check_dbscan_params(const DBSCANParams& p, const Source* s) {
  require(std::isfinite(p.eps) && p.eps > 0, "eps=", p.eps, " must be a positive number");
  require(p.min_samples >= 1, "min_samples=", p.min_samples, " must be at least 1");
  require(kHaveFaiss || p.index == DBSCANIndex::Exact,
          "this build has no FAISS: --index exact only (index='", to_string(p.index),
          "'; install FAISS and reconfigure)");
  require(p.nlist >= 0, "nlist=", p.nlist, " must be >= 1 (0 = auto)");
  require(p.nprobe >= 0, "nprobe=", p.nprobe, " must be >= 1 (0 = auto)");
  require(p.hnsw_m >= 2, "hnsw_m=", p.hnsw_m, " must be at least 2");
  require(p.ef_construction >= 1, "ef_construction=", p.ef_construction, " must be at least 1");
  require(p.ef_search >= 0, "ef_search=", p.ef_search, " must be >= 1 (0 = auto)");
  require(p.hnsw_k >= 0, "hnsw_k=", p.hnsw_k, " must be >= 1 (0 = auto)");
  require(p.check_sample >= 0, "check_sample=", p.check_sample, " must be >= 0");
  if (!s) return;
  require(s->rows() > 0, s->name(), ": no rows");
  require(s->cols() > 0, s->name(), ": rows have 0 columns");
  require(s->rows() <= std::numeric_limits<int32_t>::max(), s->name(), ": ", s->rows(),
          " rows; DBSCAN labels are int32, at most 2^31 - 1 rows");
  if (p.index == DBSCANIndex::Ivf)
    require(p.nlist <= s->rows(), "nlist=", p.nlist, " must be at most the number of rows (",
            s->rows(), ")");
  if (p.index == DBSCANIndex::Ivf && p.nlist > 0)
    require(p.nprobe <= p.nlist, "nprobe=", p.nprobe, " must be at most nlist (", p.nlist, ")");
}

void dbscan_labels(DbscanState& st, DBSCANResult* res) {
  const int64_t n = st.n;
  res->labels.assign(static_cast<size_t>(n), -1);
  res->core = st.core;
  res->cluster_sizes.clear();
  int32_t next = 0;
  // Roots are the lowest core row of their set and come first in row order, so clusters are
  // numbered by their lowest core row, as scikit-learn numbers them.
  for (int64_t i = 0; i < n; ++i) {
    if (!st.core[i]) continue;
    const int64_t r = st.uf.root(i);
    if (r == i) {
      res->labels[i] = next++;
      res->cluster_sizes.push_back(0);
    } else {
      res->labels[i] = res->labels[r];
    }
  }
  res->n_core = 0;
  res->n_noise = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (st.core[i]) {
      ++res->n_core;
    } else {
      const int64_t r = st.border[i].load(std::memory_order_relaxed);
      if (r != kNoRoot) res->labels[i] = res->labels[r];
    }
    if (res->labels[i] < 0)
      ++res->n_noise;
    else
      ++res->cluster_sizes[res->labels[i]];
  }
  res->n_clusters = next;
}

namespace {

const char* pass_name(DbscanPass p) {
  return p == DbscanPass::count ? "count" : p == DbscanPass::union_core ? "union" : "border";
}

// One pass over every pair of blocks (each pair once). Streamed data reads the inner blocks in
// order, the next one on a second thread while the current pair is processed, and skips pairs of
// blocks that cannot change the result.
DBSCANPassStats run_pass(DbscanPass pass, DbscanTiles& rows, DbscanState& st, int threads,
                         const ExecutionContext& ec, const PhaseProgress& progress) {
  DBSCANPassStats stats;
  stats.pass = pass_name(pass);
  const int64_t T = rows.tile_total();
  stats.tile_pairs = T * (T + 1) / 2;
  DbscanPassContext ctx;
  ctx.rows = &rows;
  ctx.st = &st;
  ctx.threads = threads;
  ctx.stats = &stats;
  int64_t base = 0;
  if (progress) {
    ctx.tick = [&](int64_t now) {
      progress(stats.pass, double(base + now) / std::max<int64_t>(1, stats.tile_pairs));
    };
  }
  begin_dbscan_pass(pass, ctx);
  const int64_t nb = rows.block_count();
  auto pairs = [&](int64_t i, int64_t j) {
    const int64_t a = rows.tile_count(i), b = rows.tile_count(j);
    return i == j ? a * (a + 1) / 2 : a * b;
  };
  for (int64_t i = 0; i < nb; ++i) {
    std::vector<int64_t> js;
    for (int64_t j = i; j < nb; ++j) {
      if (rows.resident() || dbscan_blocks_need_pass(pass, i, j, ctx)) {
        js.push_back(j);
      } else {
        stats.settled += pairs(i, j);
        base += pairs(i, j);
      }
    }
    if (js.empty()) continue;
    const auto a = rows.load(i);
    std::future<std::shared_ptr<const LoadedBlock>> next;
    auto prefetch = [&](size_t k) {
      if (k < js.size() && js[k] != i)
        next = std::async(std::launch::async, [&rows, j = js[k]] { return rows.load(j); });
    };
    prefetch(0);
    for (size_t k = 0; k < js.size(); ++k) {
      const auto b = js[k] == i ? a : next.get();
      throw_if_cancelled(ec);
      prefetch(k + 1);
      run_dbscan_pass(pass, *a, *b, ctx);
      ++stats.block_pairs_read;
      base += pairs(i, js[k]);
      if (progress) progress(stats.pass, double(base) / std::max<int64_t>(1, stats.tile_pairs));
    }
  }
  return stats;
}

// The CUDA device that runs the passes of the exact index, or -1 for the CPU; *note says why
// auto chose the CPU (or that a FAISS index runs on the CPU whatever the device).
int dbscan_device(const DBSCANParams& p, const ExecutionContext& ctx, std::string* note) {
  if (p.index != DBSCANIndex::Exact) {
    if (ctx.device.kind == DeviceKind::Cuda)
      *note = "index " + to_string(p.index) + " runs on the CPU";
    return -1;
  }
  return choose_cuda_device(ctx.device, "using the CPU", note);
}

// The three passes and the labels, on the CPU (cuda == nullptr) or the CUDA device.
void exact_passes(DbscanTiles& rows, DbscanState& st, CudaDbscanPasses* cuda, const DBSCANParams& p,
                  const ExecutionContext& ctx, int threads, DBSCANResult* res,
                  const PhaseProgress& progress) {
  auto pass = [&](DbscanPass ps) {
    throw_if_cancelled(ctx);
    return cuda ? cuda->run(ps, progress) : run_pass(ps, rows, st, threads, ctx, progress);
  };
  const int64_t n = rows.rows();
  double t0 = dbscan_now_s();
  if (p.min_samples > 1) res->passes.push_back(pass(DbscanPass::count));
  for (int64_t i = 0; i < n; ++i)
    st.core[i] = st.count[i].load(std::memory_order_relaxed) >= p.min_samples || p.min_samples == 1;
  res->timings.emplace_back("count", dbscan_now_s() - t0);

  t0 = dbscan_now_s();
  res->passes.push_back(pass(DbscanPass::union_core));
  st.uf.flatten();
  res->timings.emplace_back("union", dbscan_now_s() - t0);

  t0 = dbscan_now_s();
  const auto n_core = std::count(st.core.begin(), st.core.end(), uint8_t(1));
  if (n_core > 0 && n_core < n) res->passes.push_back(pass(DbscanPass::border));
  res->timings.emplace_back("border", dbscan_now_s() - t0);

  t0 = dbscan_now_s();
  dbscan_labels(st, res);
  res->timings.emplace_back("labels", dbscan_now_s() - t0);
}

void exact_dbscan(Source& source, const DBSCANParams& p, const ExecutionContext& ctx, int threads,
                  int64_t budget, int device, DBSCANResult* res, const PhaseProgress& progress) {
  double t0 = dbscan_now_s();
  DbscanTiles rows(source, p.metric == Metric::Cosine, budget, threads, [&](double f) {
    if (progress) progress("prepare", f);
  });
  res->streamed = !rows.resident();
  res->block_rows = rows.block_rows();
  res->blocks = rows.block_count();
  res->tiles = rows.tile_total();
  res->timings.emplace_back("prepare", dbscan_now_s() - t0);

  const int64_t n = rows.rows();
  const float eps2 = dbscan_eps2(p.eps, p.metric);
  DbscanState st(n, rows.tile_total(), p.min_samples, eps2);
  if (device >= 0) {
    // auto falls back to the CPU when the device cannot run the passes; an explicit cuda[:N]
    // reports the error.
    const auto before = res->timings.size();
    try {
      auto cuda = make_cuda_dbscan_passes(rows, st, device, ctx.device_memory_budget, threads);
      res->device = cuda->device_name();
      exact_passes(rows, st, cuda.get(), p, ctx, threads, res, progress);
      for (auto& note : cuda->notes()) res->notes.push_back(note);
      return;
    } catch (const Error& e) {
      res->notes.emplace_back("device_note", auto_fallback_note(ctx.device, e, "using the CPU"));
      res->device = "cpu (" + std::to_string(threads) + " threads)";
      res->passes.clear();
      res->timings.resize(before);
      st = DbscanState(n, rows.tile_total(), p.min_samples, eps2);
    }
  }
  exact_passes(rows, st, nullptr, p, ctx, threads, res, progress);
}

}  // namespace

DBSCANResult dbscan(Source& source, const DBSCANParams& params, const ExecutionContext& ctx,
                    const DBSCANCallback& progress) {
  check_dbscan_params(params, &source);
  check_context(ctx);
  const double t_start = dbscan_now_s();
  const int threads = context_threads(ctx);
  const ThreadGuard thread_guard(threads, 1);
  const int64_t budget = context_memory_budget(ctx);
  PhaseProgress phase_progress;
  if (progress) {
    phase_progress = [&](const std::string& phase, double f) {
      progress(DBSCANProgress{phase, std::min(1.0, f), dbscan_now_s() - t_start});
    };
  }

  DBSCANResult res;
  res.rows = source.rows();
  res.dims = source.cols();
  res.index = params.index;
  res.device = "cpu (" + std::to_string(threads) + " threads)";
  std::string device_note;
  const int device = dbscan_device(params, ctx, &device_note);
  if (!device_note.empty()) res.notes.emplace_back("device_note", device_note);
  if (progress) progress(DBSCANProgress{"device", 1.0, dbscan_now_s() - t_start, device_note});
  throw_if_cancelled(ctx);
  if (params.index == DBSCANIndex::Exact) {
    exact_dbscan(source, params, ctx, threads, budget, device, &res, phase_progress);
  } else if constexpr (kHaveFaiss) {
    DbscanState st(source.rows(), 0, params.min_samples, dbscan_eps2(params.eps, params.metric));
    std::vector<int64_t> check_rows;
    std::vector<float> check_x;
    RowPrep prep;
    dbscan_faiss(source, params, ctx, threads, budget, st, &res, phase_progress, &check_rows,
                 &check_x, &prep);
    double t0 = dbscan_now_s();
    dbscan_labels(st, &res);
    res.timings.emplace_back("labels", dbscan_now_s() - t0);
    if (!check_rows.empty()) {
      t0 = dbscan_now_s();
      res.check = dbscan_check(source, prep, check_rows, check_x, res, st.eps2, params.min_samples,
                               threads, budget, phase_progress);
      res.check.seconds = dbscan_now_s() - t0;
      res.checked = true;
      res.timings.emplace_back("check", res.check.seconds);
    }
  }
  res.timings.emplace_back("total", dbscan_now_s() - t_start);
  return res;
}

}  // namespace embcluster
