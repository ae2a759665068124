// The k-distance curve: for a sample of rows, the distance to the k-th nearest row (the row itself
// first), against every row with GEMM tiles; its quantiles and knee suggest DBSCAN's eps.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "algo/dbscan/dbscan_internal.h"
#include "algo/kmeans/kmeans_init.h"
#include "core/rng.h"
#include "core/thread_guard.h"
#include "cpu/dbscan_cpu.h"
#include "embcluster/dbscan.h"
#include "embcluster/error.h"
#include "embcluster/memory.h"
#include "io/row_blocks.h"
#include "kernels/distance.cuh"

namespace embcluster {

KDistResult kdist(Source& source, const KDistParams& p, const ExecutionContext& ctx,
                  const DBSCANCallback& progress) {
  const int64_t n = source.rows(), d = source.cols();
  require(n > 0, source.name(), ": no rows");
  require(d > 0, source.name(), ": rows have 0 columns");
  require(p.k >= 1 && p.k <= n, "k=", p.k, " must be between 1 and the number of rows (", n, ")");
  require(p.sample >= 0, "sample=", p.sample, " must be >= 0 (0 = every row)");
  check_context(ctx);
  const double t_start = dbscan_now_s();
  const int threads = context_threads(ctx);
  const ThreadGuard thread_guard(threads, 1);
  const int64_t budget = context_memory_budget(ctx);
  const int64_t m = p.sample == 0 || p.sample >= n ? n : p.sample;
  const int64_t k = p.k;
  require(m * (d * 4 + k * 4) <= budget, "sample=", m, " rows need ",
          format_bytes(m * (d * 4 + k * 4)),
          " for their rows and distances, more than the memory "
          "budget (",
          format_bytes(budget), "): lower --sample or raise --memory");
  auto report = [&](const std::string& phase, double f) {
    if (progress) progress(DBSCANProgress{phase, std::min(1.0, f), dbscan_now_s() - t_start});
  };

  KDistResult res;
  res.rows_total = n;
  res.dims = d;
  std::vector<int64_t> rows;
  if (m == n) {
    rows.resize(static_cast<size_t>(n));
    std::iota(rows.begin(), rows.end(), int64_t(0));
  } else {
    Rng rng(p.seed, 0x6b64);
    rows = sample_rows(n, m, rng);
  }
  double t0 = dbscan_now_s();
  std::vector<float> q;
  const int64_t rest = std::max<int64_t>(budget - m * (d * 4 + k * 4), int64_t(16) << 20);
  RowPrep prep;
  prep.normalise = p.metric == Metric::Cosine;
  read_rows(source, prep, rows, rest, threads, &q);
  std::vector<float> qn(static_cast<size_t>(m));
  for (int64_t i = 0; i < m; ++i) qn[i] = kern::sq_norm(q.data() + i * d, d);
  res.timings.emplace_back("prepare", dbscan_now_s() - t0);

  // A max-heap of the k smallest squared distances per sampled row, the row itself (0) first.
  // Candidates come from the expansion; their values from the direct sum (exact up to float
  // rounding, and the same arithmetic that decides DBSCAN's neighbourhoods near eps).
  t0 = dbscan_now_s();
  std::vector<float> heaps(static_cast<size_t>(m * k));
  std::vector<int32_t> sizes(static_cast<size_t>(m), 1);
  for (int64_t i = 0; i < m; ++i) heaps[i * k] = 0.0f;
  RowBlocks blocks(source, rest);
  std::vector<float> buf, norms;
  const float scale = static_cast<float>(rounding_scale(d));
  blocks.for_each([&](const Block& b) {
    throw_if_cancelled(ctx);
    buf.assign(b.data, b.data + b.rows * d);
    prep.apply(buf.data(), b.rows, d, threads);
    norms.resize(static_cast<size_t>(b.rows));
    for (int64_t i = 0; i < b.rows; ++i) norms[i] = kern::sq_norm(buf.data() + i * d, d);
    query_distances(q.data(), qn.data(), m, buf.data(), norms.data(), b.rows, d, threads,
                    [&](int64_t qi, int64_t j0, const float* d2, int64_t len) {
                      float* h = heaps.data() + qi * k;
                      int32_t& size = sizes[qi];
                      const int64_t self = rows[qi] - b.start - j0;
                      const float* qx = q.data() + qi * d;
                      for (int64_t j = 0; j < len; ++j) {
                        if (size == k && !(d2[j] - scale * (qn[qi] + norms[j0 + j]) < h[0]))
                          continue;
                        if (j == self) continue;
                        const float v = kern::sq_l2(qx, buf.data() + (j0 + j) * d, d);
                        if (size == k) {
                          if (!(v < h[0])) continue;
                          std::pop_heap(h, h + size);
                          h[size - 1] = v;
                        } else {
                          h[size++] = v;
                        }
                        std::push_heap(h, h + size);
                      }
                    });
    report("kdist", double(b.start + b.rows) / n);
  });
  res.timings.emplace_back("distances", dbscan_now_s() - t0);

  const bool cosine = p.metric == Metric::Cosine;
  std::vector<std::pair<float, int64_t>> curve(static_cast<size_t>(m));
  for (int64_t i = 0; i < m; ++i) {
    const float v = heaps[i * k];  // the largest of the k smallest (sizes[i] == k as k <= n)
    curve[i] = {cosine ? v / 2 : std::sqrt(std::max(v, 0.0f)), rows[i]};
  }
  std::sort(curve.begin(), curve.end());
  res.kdist.resize(static_cast<size_t>(m));
  res.rows.resize(static_cast<size_t>(m));
  for (int64_t i = 0; i < m; ++i) {
    res.kdist[i] = curve[i].first;
    res.rows[i] = curve[i].second;
  }
  for (double qv : {0.0, 0.1, 0.5, 0.9, 0.99, 1.0}) {
    const double pos = qv * (m - 1);
    const int64_t lo = static_cast<int64_t>(std::floor(pos)), hi = std::min(lo + 1, m - 1);
    const double f = pos - lo;
    res.quantiles.emplace_back(qv, res.kdist[lo] + f * (double(res.kdist[hi]) - res.kdist[lo]));
  }
  // Knee: the point farthest below the chord, both axes scaled to [0, 1].
  const double y0 = res.kdist.front(), span = double(res.kdist.back()) - y0;
  double best = 0;
  for (int64_t i = 0; m > 1 && span > 0 && i < m; ++i) {
    const double gap = double(i) / (m - 1) - (res.kdist[i] - y0) / span;
    if (gap > best) best = gap, res.knee = i;
  }
  res.suggested_eps = res.kdist[res.knee];
  res.timings.emplace_back("total", dbscan_now_s() - t_start);
  return res;
}

}  // namespace embcluster
