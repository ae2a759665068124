// The k-distance curve: for a sample of rows, the distance to the k-th nearest row (the row itself
// first), against every row with GEMM tiles; its quantiles and knee suggest DBSCAN's eps.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "algo/dbscan/dbscan_internal.h"
#include "algo/kmeans/kmeans_init.h"
#include "core/distributed.h"
#include "core/rng.h"
#include "core/thread_guard.h"
#include "cpu/dbscan_cpu.h"
#include "embcluster/dbscan.h"
#include "embcluster/error.h"
#include "embcluster/memory.h"
#include "io/nonzero_rows.h"
#include "io/row_blocks.h"
#include "kernels/distance.cuh"

namespace embcluster {
namespace {

void check_kdist_params(const KDistParams& p, const Source& source) {
  const int64_t n = source.rows();
  require(n > 0, source.name(), ": no rows");
  require(source.cols() > 0, source.name(), ": rows have 0 columns");
  require(p.k >= 1 && p.k <= n, "k=", p.k, " must be between 1 and the number of rows (", n, ")");
  require(p.sample >= 0, "sample=", p.sample, " must be >= 0 (0 = every row)");
}

// The sampled rows (source rows ascending), prepared, with their squared norms.
struct Queries {
  std::vector<int64_t> rows;
  std::vector<float> x, norms;
};

// In a distributed run each rank reads the sampled rows of its slab and every rank gathers them.
Queries read_queries(Source& source, const KDistParams& p, const RowPrep& prep, int64_t m,
                     int64_t budget, int threads, Communicator* comm, const RowSlab& slab) {
  const int64_t n = source.rows(), d = source.cols();
  Queries q;
  if (m == n) {
    q.rows.resize(static_cast<size_t>(n));
    std::iota(q.rows.begin(), q.rows.end(), int64_t(0));
  } else {
    Rng rng(p.seed, 0x6b64);
    q.rows = sample_rows(n, m, rng);
  }
  if (comm) {
    const auto b = std::lower_bound(q.rows.begin(), q.rows.end(), slab.first);
    const auto e = std::lower_bound(q.rows.begin(), q.rows.end(), slab.last);
    std::vector<float> mine;
    read_rows(source, prep, std::vector<int64_t>(b, e), budget, threads, &mine, slab.first,
              slab.last);
    q.x = allgather_values(mine, *comm);
  } else {
    read_rows(source, prep, q.rows, budget, threads, &q.x);
  }
  q.norms.resize(static_cast<size_t>(m));
  for (int64_t i = 0; i < m; ++i) q.norms[i] = kern::sq_norm(q.x.data() + i * d, d);
  return q;
}

// The k smallest squared distances of each query row (the row itself, 0, first) as max-heaps, (m x
// k). Candidates come from the expansion; their values from the direct sum (exact up to float
// rounding, and the same arithmetic that decides DBSCAN's neighbourhoods near eps).
// In a distributed run, against the rank's slab only (the row itself counted by the rank that
// holds it): merge_ranks() makes the heaps of all rows.
std::vector<float> k_smallest(Source& source, const RowPrep& prep, const Queries& q, int64_t k,
                              int64_t budget, int threads,
                              const std::function<void(double)>& report, const RowSlab& slab,
                              std::vector<int32_t>* heap_sizes) {
  const int64_t m = static_cast<int64_t>(q.rows.size()), d = source.cols(), n = source.rows();
  std::vector<float> heaps(static_cast<size_t>(m * k));
  std::vector<int32_t>& sizes = *heap_sizes;
  sizes.assign(static_cast<size_t>(m), 0);
  for (int64_t i = 0; i < m; ++i)
    if (q.rows[i] >= slab.first && q.rows[i] < slab.last) heaps[i * k] = 0.0f, sizes[i] = 1;
  const float scale = static_cast<float>(rounding_scale(d));
  auto visit = [&](const Block& b, const float* x, const float* norms) {
    query_distances(q.x.data(), q.norms.data(), m, x, norms, b.rows, d, threads,
                    [&](int64_t qi, int64_t j0, const float* d2, int64_t len) {
                      float* h = heaps.data() + qi * k;
                      int32_t& size = sizes[qi];
                      const int64_t self = q.rows[qi] - b.start - j0;
                      const float* qx = q.x.data() + qi * d;
                      for (int64_t j = 0; j < len; ++j) {
                        if (size == k && !(d2[j] - scale * (q.norms[qi] + norms[j0 + j]) < h[0]))
                          continue;
                        if (j == self) continue;
                        const float v = kern::sq_l2(qx, x + (j0 + j) * d, d);
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
    if (report) report(double(b.start + b.rows) / n);
  };
  for_prepared_blocks(source, prep, budget, threads, visit, slab.first, slab.last);
  return heaps;
}

// Every rank's heaps (the k smallest against its slab) into the heaps of all rows: per query the
// k smallest of the union, the largest at the top. Exact values, so the same as one process's.
void merge_ranks(std::vector<float>& heaps, const std::vector<int32_t>& sizes, int64_t k,
                 Communicator& comm) {
  const int64_t m = static_cast<int64_t>(sizes.size());
  const std::vector<float> all_heaps = allgather_values(heaps, comm);
  const std::vector<int32_t> all_sizes = allgather_values(sizes, comm);
  const int64_t ranks = static_cast<int64_t>(all_sizes.size()) / std::max<int64_t>(m, 1);
  std::vector<float> v;
  for (int64_t i = 0; i < m; ++i) {
    v.clear();
    for (int64_t r = 0; r < ranks; ++r) {
      const float* h = all_heaps.data() + (r * m + i) * k;
      v.insert(v.end(), h, h + all_sizes[r * m + i]);
    }
    std::sort(v.begin(), v.end());
    v.resize(static_cast<size_t>(k));  // k <= n: the ranks hold at least k values together
    std::make_heap(v.begin(), v.end());
    std::copy(v.begin(), v.end(), heaps.begin() + i * k);
  }
}

// The sorted curve from the heaps, its quantiles, its knee and the suggested eps.
void curve_from_heaps(const std::vector<float>& heaps, const std::vector<int64_t>& rows, int64_t k,
                      bool cosine, KDistResult* res) {
  const int64_t m = static_cast<int64_t>(rows.size());
  std::vector<std::pair<float, int64_t>> curve(static_cast<size_t>(m));
  for (int64_t i = 0; i < m; ++i) {
    const float v = heaps[i * k];  // the largest of the k smallest (every heap is full: k <= n)
    curve[i] = {cosine ? v / 2 : std::sqrt(std::max(v, 0.0f)), rows[i]};
  }
  std::sort(curve.begin(), curve.end());
  res->kdist.resize(static_cast<size_t>(m));
  res->rows.resize(static_cast<size_t>(m));
  for (int64_t i = 0; i < m; ++i) {
    res->kdist[i] = curve[i].first;
    res->rows[i] = curve[i].second;
  }
  for (double qv : {0.0, 0.1, 0.5, 0.9, 0.99, 1.0}) {
    const double pos = qv * (m - 1);
    const int64_t lo = static_cast<int64_t>(std::floor(pos)), hi = std::min(lo + 1, m - 1);
    const double f = pos - lo;
    res->quantiles.emplace_back(qv, res->kdist[lo] + f * (double(res->kdist[hi]) - res->kdist[lo]));
  }
  // Knee: the point farthest below the chord, both axes scaled to [0, 1].
  const double y0 = res->kdist.front(), span = double(res->kdist.back()) - y0;
  double best = 0;
  for (int64_t i = 0; m > 1 && span > 0 && i < m; ++i) {
    const double gap = double(i) / (m - 1) - (res->kdist[i] - y0) / span;
    if (gap > best) best = gap, res->knee = i;
  }
  // DBSCAN needs eps > 0: a knee on a run of zeros (duplicate rows) moves to the first non-zero
  // distance; when every distance is 0 there is nothing to suggest (suggested_eps stays 0).
  while (res->knee + 1 < m && res->kdist[res->knee] <= 0) ++res->knee;
  res->suggested_eps = res->kdist[res->knee];
}

}  // namespace

KDistResult kdist(Source& input, const KDistParams& p, const ExecutionContext& ctx,
                  const DBSCANCallback& progress) {
  check_kdist_params(p, input);
  check_context(ctx);
  // Cosine: a zero row is refused as it is read (as dbscan does).
  const std::unique_ptr<Source> checked =
      p.metric == Metric::Cosine ? nonzero_rows(input) : nullptr;
  Source& source = checked ? *checked : input;
  const int64_t n = source.rows(), d = source.cols();
  const double t_start = dbscan_now_s();
  const int threads = context_threads(ctx);
  const ThreadGuard thread_guard(threads, 1);
  const int64_t budget = context_memory_budget(ctx);
  const int64_t m = p.sample == 0 || p.sample >= n ? n : p.sample;
  const int64_t k = p.k, kept = m * (d * 4 + k * 4);
  require(kept <= budget, "sample=", m, " rows need ", format_bytes(kept),
          " for their rows and distances, more than the memory budget (", format_bytes(budget),
          "): lower --sample or raise --memory");
  std::function<void(double)> report;
  if (progress) {
    report = [&](double f) {
      progress(DBSCANProgress{"kdist", std::min(1.0, f), dbscan_now_s() - t_start, {}});
    };
  }

  KDistResult res;
  res.rows_total = n;
  res.dims = d;
  double t0 = dbscan_now_s();
  const int64_t rest = std::max<int64_t>(budget - kept, int64_t(16) << 20);
  RowPrep prep;
  prep.normalise = p.metric == Metric::Cosine;
  Communicator* comm = ranks_of(ctx);
  const RowSlab slab = slab_of(n, comm);
  const RankClock rank_clock(comm, slab);
  const Queries q = read_queries(source, p, prep, m, rest, threads, comm, slab);
  res.timings.emplace_back("prepare", dbscan_now_s() - t0);

  throw_if_cancelled(ctx);
  t0 = dbscan_now_s();
  std::vector<int32_t> sizes;
  std::vector<float> heaps = k_smallest(source, prep, q, k, rest, threads, report, slab, &sizes);
  if (comm) merge_ranks(heaps, sizes, k, *comm);
  res.timings.emplace_back("distances", dbscan_now_s() - t0);
  curve_from_heaps(heaps, q.rows, k, p.metric == Metric::Cosine, &res);
  res.timings.emplace_back("total", dbscan_now_s() - t_start);
  res.ranks = rank_clock.gather("cpu");
  return res;
}

}  // namespace embcluster
