// Davies-Bouldin, Calinski-Harabasz, inertia, sizes and the simplified silhouette: one pass for the
// centroids, one for the distances to them; doubles throughout, deterministic for any threads.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "algo/metrics/metric_labels.h"
#include "core/thread_guard.h"
#include "cpu/cluster_distance_sums.h"
#include "embcluster/error.h"
#include "embcluster/memory.h"
#include "embcluster/metrics.h"
#include "io/row_blocks.h"
#include "kernels/silhouette_math.cuh"

namespace embcluster {
namespace {

double now_s() {
  using clock = std::chrono::steady_clock;
  return std::chrono::duration<double>(clock::now().time_since_epoch()).count();
}

// scikit-learn's np.allclose(v, 0): every |v| <= 1e-8.
bool all_near_zero(const std::vector<double>& v) {
  return std::all_of(v.begin(), v.end(), [](double x) { return std::fabs(x) <= 1e-8; });
}

}  // namespace

ClusterMetrics cluster_metrics(Source& data, const std::vector<int32_t>& labels,
                               const MetricsParams& p, const ExecutionContext& ctx,
                               SilhouetteResult* simplified) {
  const double t_start = now_s();
  check_context(ctx);
  require(data.cols() > 0, data.name(), ": rows have 0 columns");
  const DenseLabels L = dense_labels(labels, data.rows(), data.name(), p.include_noise);
  const int64_t n = data.rows(), d = data.cols(), k = L.k;
  const int threads = context_threads(ctx);
  const ThreadGuard thread_guard(threads, 1);
  const bool cosine = p.metric == Metric::Cosine;
  // Blocks of at most 16384 rows: the unit-row copy for cosine stays small.
  RowBlocks blocks(data, context_memory_budget(ctx), 4096, 16384);

  // The rows as measured: unit rows for cosine, as read otherwise.
  std::vector<float> unit;
  auto rows_of = [&](const Block& b) -> const float* {
    if (!cosine) return b.data;
    unit.resize(static_cast<size_t>(b.rows * d));
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t i = 0; i < b.rows; ++i) unit_row(b.data + i * d, d, unit.data() + i * d);
    return unit.data();
  };

  // Pass 1: per-cluster sums, each thread owning a range of features, rows added in order.
  std::vector<double> sums(static_cast<size_t>(k * d), 0.0);
  blocks.for_each([&](const Block& b) {
    throw_if_cancelled(ctx);
    const float* x = rows_of(b);
#pragma omp parallel num_threads(threads)
    {
      const int nt = omp_get_num_threads(), t = omp_get_thread_num();
      const int64_t j0 = d * t / nt, j1 = d * (t + 1) / nt;
      for (int64_t i = 0; i < b.rows; ++i) {
        const int32_t c = L.id[b.start + i];
        if (c < 0) continue;
        double* s = sums.data() + c * d;
        for (int64_t j = j0; j < j1; ++j) s[j] += x[i * d + j];
      }
    }
  });
  std::vector<double> centre(static_cast<size_t>(k * d)), mean(static_cast<size_t>(d), 0.0);
  for (int64_t c = 0; c < k; ++c)
    for (int64_t j = 0; j < d; ++j) {
      centre[c * d + j] = sums[c * d + j] / static_cast<double>(L.sizes[c]);
      mean[j] += sums[c * d + j];
    }
  for (auto& v : mean) v /= static_cast<double>(L.rows_in);

  // Centroids in float for the simplified silhouette's GEMM tiles (unit length for cosine).
  std::vector<float> centre_f;
  if (simplified) {
    centre_f.resize(static_cast<size_t>(k * d));
    for (int64_t i = 0; i < k * d; ++i) centre_f[i] = static_cast<float>(centre[i]);
    if (cosine)
      for (int64_t c = 0; c < k; ++c) unit_row(centre_f.data() + c * d, d, centre_f.data() + c * d);
    simplified->samples.assign(static_cast<size_t>(n), std::numeric_limits<float>::quiet_NaN());
  }

  // Pass 2: squared distance of every row to its own centre (double), summed per cluster in
  // row order; the simplified silhouette from the distances to every centre.
  std::vector<double> wcss(static_cast<size_t>(k), 0.0), intra(static_cast<size_t>(k), 0.0);
  std::vector<double> sq;
  std::vector<float> a, bb;
  blocks.for_each([&](const Block& b) {
    throw_if_cancelled(ctx);
    const float* x = rows_of(b);
    sq.assign(static_cast<size_t>(b.rows), 0.0);
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t i = 0; i < b.rows; ++i) {
      const int32_t c = L.id[b.start + i];
      if (c < 0) continue;
      const double* m = centre.data() + c * d;
      double s = 0;
      for (int64_t j = 0; j < d; ++j) {
        const double t = x[i * d + j] - m[j];
        s += t * t;
      }
      sq[i] = s;
    }
    for (int64_t i = 0; i < b.rows; ++i) {
      const int32_t c = L.id[b.start + i];
      if (c < 0) continue;
      wcss[c] += sq[i];
      intra[c] += std::sqrt(sq[i]);
    }
    if (!simplified) return;
    a.resize(static_cast<size_t>(b.rows));
    bb.resize(static_cast<size_t>(b.rows));
    own_and_nearest_other(x, b.rows, d, centre_f.data(), k, L.id.data() + b.start,
                          cosine ? TileMetric::cosine : TileMetric::euclidean, a.data(), bb.data(),
                          threads);
    for (int64_t i = 0; i < b.rows; ++i) {
      const int32_t c = L.id[b.start + i];
      if (c < 0) continue;
      simplified->samples[b.start + i] = kern::silhouette_value(a[i], bb[i], L.sizes[c] <= 1);
    }
  });

  ClusterMetrics r;
  r.cluster_labels = L.values;
  r.cluster_sizes = L.sizes;
  r.noise_rows = L.noise_rows;
  r.noise_included = L.noise_included;
  double extra = 0;
  for (int64_t c = 0; c < k; ++c) {
    r.inertia += wcss[c];
    double s = 0;
    for (int64_t j = 0; j < d; ++j) {
      const double t = centre[c * d + j] - mean[j];
      s += t * t;
    }
    extra += static_cast<double>(L.sizes[c]) * s;
  }
  r.calinski_harabasz =
      r.inertia == 0 ? 1.0
                     : extra * static_cast<double>(L.rows_in - k) / (r.inertia * (k - 1.0));
  // Davies-Bouldin as scikit-learn: mean over clusters of max over others of
  // (S_i + S_j) / ||c_i - c_j||, with S the mean distance to the centre; 0 when degenerate.
  std::vector<double> s_mean(static_cast<size_t>(k)), cdist(static_cast<size_t>(k * k));
  for (int64_t c = 0; c < k; ++c) s_mean[c] = intra[c] / static_cast<double>(L.sizes[c]);
#pragma omp parallel for num_threads(threads) schedule(dynamic, 16)
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j < k; ++j) {
      double s = 0;
      for (int64_t t = 0; t < d; ++t) {
        const double v = centre[i * d + t] - centre[j * d + t];
        s += v * v;
      }
      cdist[i * k + j] = std::sqrt(s);
    }
  if (!all_near_zero(s_mean) && !all_near_zero(cdist)) {
    double total = 0;
    for (int64_t i = 0; i < k; ++i) {
      double worst = 0;
      for (int64_t j = 0; j < k; ++j) {
        const double m = cdist[i * k + j];
        if (j != i && m > 0) worst = std::max(worst, (s_mean[i] + s_mean[j]) / m);
      }
      total += worst;
    }
    r.davies_bouldin = total / static_cast<double>(k);
  }
  r.seconds = now_s() - t_start;

  if (simplified) {
    SilhouetteResult& s = *simplified;
    s.method = "simplified";
    s.metric = p.metric;
    s.device = "cpu";
    s.cluster_labels = L.values;
    s.cluster_sizes = L.sizes;
    s.cluster_scored.assign(static_cast<size_t>(k), 0);
    std::vector<double> csum(static_cast<size_t>(k), 0.0);
    double sum = 0;
    s.rows_scored = 0;
    for (int64_t i = 0; i < n; ++i) {
      if (std::isnan(s.samples[i])) continue;
      sum += s.samples[i];
      csum[L.id[i]] += s.samples[i];
      ++s.cluster_scored[L.id[i]];
      ++s.rows_scored;
    }
    s.score = sum / static_cast<double>(s.rows_scored);
    s.ci_low = s.ci_high = s.score;
    s.cluster_means.clear();
    for (int64_t c = 0; c < k; ++c) s.cluster_means.push_back(csum[c] / s.cluster_scored[c]);
    s.noise_rows = L.noise_rows;
    s.noise_included = L.noise_included;
    s.streamed = !blocks.resident();
    s.data_passes = 2;
    s.seconds = r.seconds;
  }
  return r;
}

}  // namespace embcluster
