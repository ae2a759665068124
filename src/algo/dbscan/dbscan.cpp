// The DBSCAN driver: validation, then the count, union and border passes through one DbscanPasses
// implementation (backend/dbscan_passes.h), chosen once: CPU tiles or a CUDA device for the exact
// index, FAISS neighbourhoods for flat, ivf and hnsw; finally labels numbered as scikit-learn
// numbers them (and, for a FAISS index, the sampled check against exact neighbourhoods).
#include "embcluster/dbscan.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "algo/dbscan/dbscan_faiss.h"
#include "algo/dbscan/dbscan_internal.h"
#include "backend/dbscan_passes.h"
#include "backend/device_select.h"
#include "core/thread_guard.h"
#include "cpu/dbscan_cpu.h"
#include "cuda/cuda_dbscan.h"
#include "embcluster/error.h"
#include "embcluster/memory.h"
#include "io/nonzero_rows.h"
#include "kernels/dbscan_rules.cuh"

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

// The driver, the same for every implementation of the passes: count (when min_samples > 1), the
// core flags, union, border (when some rows are core and some are not), then the labels.
void run_passes(DbscanPasses& passes, DbscanState& st, const DBSCANParams& p,
                const ExecutionContext& ctx, DBSCANResult* res, const PhaseProgress& progress) {
  auto pass = [&](DbscanPass ps) {
    throw_if_cancelled(ctx);
    DBSCANPassStats stats = passes.run(ps, progress);
    if (!stats.pass.empty()) res->passes.push_back(std::move(stats));
  };
  res->device = passes.device_name();
  const int64_t n = st.n;
  double t0 = dbscan_now_s();
  if (p.min_samples > 1) pass(DbscanPass::count);
  for (int64_t i = 0; i < n; ++i)
    st.core[i] = kern::dbscan_core(st.count[i].load(std::memory_order_relaxed), p.min_samples);
  res->timings.emplace_back("count", dbscan_now_s() - t0);

  t0 = dbscan_now_s();
  pass(DbscanPass::union_core);
  st.uf.flatten();
  res->timings.emplace_back("union", dbscan_now_s() - t0);

  t0 = dbscan_now_s();
  const auto n_core = std::count(st.core.begin(), st.core.end(), uint8_t(1));
  if (n_core > 0 && n_core < n) pass(DbscanPass::border);
  res->timings.emplace_back("border", dbscan_now_s() - t0);

  for (auto& note : passes.notes()) res->notes.push_back(note);
  t0 = dbscan_now_s();
  dbscan_labels(st, res);
  res->timings.emplace_back("labels", dbscan_now_s() - t0);
}

// The CUDA device that runs the passes of the exact index, or -1 for the CPU; *note says why auto
// chose the CPU (or that a FAISS index runs on the CPU whatever the device).
int dbscan_device(const DBSCANParams& p, const ExecutionContext& ctx, std::string* note) {
  if (p.index != DBSCANIndex::Exact) {
    if (ctx.device.kind == DeviceKind::Cuda)
      *note = "index " + to_string(p.index) + " runs on the CPU";
    return -1;
  }
  return choose_cuda_device(ctx.device, "using the CPU", note);
}

// The exact index: the rows prepared and tiled, the passes on the CUDA device or the CPU.
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
      run_passes(*make_cuda_dbscan_passes(rows, st, device, ctx.device_memory_budget, threads), st,
                 p, ctx, res, progress);
      return;
    } catch (const Error& e) {
      res->notes.emplace_back("device_note", auto_fallback_note(ctx.device, e, "using the CPU"));
      res->passes.clear();
      res->timings.resize(before);
      st = DbscanState(n, rows.tile_total(), p.min_samples, eps2);
    }
  }
  run_passes(*make_cpu_dbscan_passes(rows, st, threads, budget), st, p, ctx, res, progress);
}

// A FAISS index: the passes on its neighbourhoods, then the sampled check against exact ones.
void faiss_dbscan(Source& source, const DBSCANParams& p, const ExecutionContext& ctx, int threads,
                  int64_t budget, DBSCANResult* res, const PhaseProgress& progress) {
  if constexpr (kHaveFaiss) {  // without FAISS, check_dbscan_params refused the index
    DbscanState st(source.rows(), 0, p.min_samples, dbscan_eps2(p.eps, p.metric));
    DbscanCheckSample check;
    run_passes(
        *make_faiss_dbscan_passes(source, p, threads, budget, st, progress, &res->timings, &check),
        st, p, ctx, res, progress);
    if (check.rows.empty()) return;
    const double t0 = dbscan_now_s();
    res->check = dbscan_check(source, check.prep, check.rows, check.x, *res, st.eps2, p.min_samples,
                              threads, budget, progress);
    res->check.seconds = dbscan_now_s() - t0;
    res->checked = true;
    res->timings.emplace_back("check", res->check.seconds);
  }
}

}  // namespace

DBSCANResult dbscan(Source& input, const DBSCANParams& params, const ExecutionContext& ctx,
                    const DBSCANCallback& progress) {
  check_dbscan_params(params, &input);
  check_context(ctx);
  // Cosine: a zero row is refused as it is read, whichever index or device reads it.
  const std::unique_ptr<Source> checked =
      params.metric == Metric::Cosine ? nonzero_rows(input) : nullptr;
  Source& source = checked ? *checked : input;
  const double t_start = dbscan_now_s();
  const int threads = context_threads(ctx);
  const ThreadGuard thread_guard(threads, 1);
  const int64_t budget = context_memory_budget(ctx);
  PhaseProgress phase_progress;
  if (progress) {
    phase_progress = [&](const std::string& phase, double f) {
      progress(DBSCANProgress{phase, std::min(1.0, f), dbscan_now_s() - t_start, {}});
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
  if (params.index == DBSCANIndex::Exact)
    exact_dbscan(source, params, ctx, threads, budget, device, &res, phase_progress);
  else
    faiss_dbscan(source, params, ctx, threads, budget, &res, phase_progress);
  res.timings.emplace_back("total", dbscan_now_s() - t_start);
  return res;
}

}  // namespace embcluster
