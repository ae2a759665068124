#include "algo/kmeans/sweep_silhouette.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "algo/kmeans/kmeans_common.h"
#include "algo/metrics/metric_labels.h"
#include "core/thread_guard.h"
#include "cpu/distance_tile.h"

namespace embcluster {
namespace {

constexpr int64_t kColumnTile = 2048;  // columns of a distance tile (one sgemm)

constexpr int64_t kLanes = 4;  // independent partial sums: consecutive adds to one cluster
                               // do not wait for each other

// sums[c] = the sum of row[j] over the columns j with lab[j] = c (k clusters); column j goes to
// partial sum j % kLanes, the partials added in lane order.
void cluster_sums(const float* row, const int32_t* lab, int64_t n, int64_t k, double* lanes,
                  double* sums) {
  std::fill(lanes, lanes + kLanes * k, 0.0);
  const int64_t full = n / kLanes * kLanes;
  for (int64_t j = 0; j < full; j += kLanes)
    for (int64_t l = 0; l < kLanes; ++l) lanes[l * k + lab[j + l]] += row[j + l];
  for (int64_t j = full; j < n; ++j) lanes[(j % kLanes) * k + lab[j]] += row[j];
  for (int64_t c = 0; c < k; ++c) {
    double s = 0;
    for (int64_t l = 0; l < kLanes; ++l) s += lanes[l * k + c];
    sums[c] = s;
  }
}

// Row i's silhouette from its per-cluster distance sums (sklearn's rule for a cluster of one).
float row_score(const double* sums, const int64_t* sizes, int64_t k, int32_t own) {
  if (sizes[own] <= 1) return 0.0f;
  const double a = sums[own] / static_cast<double>(sizes[own] - 1);
  double b = std::numeric_limits<double>::infinity();
  for (int64_t c = 0; c < k; ++c)
    if (c != own && sizes[c] > 0) b = std::min(b, sums[c] / static_cast<double>(sizes[c]));
  const double m = std::max(a, b);
  return m > 0 ? static_cast<float>((b - a) / m) : 0.0f;
}

}  // namespace

std::vector<SampledScore> shared_silhouettes(const std::vector<float>& rows, int64_t n, int64_t d,
                                             Metric metric,
                                             const std::vector<std::vector<int32_t>>& labelings,
                                             const std::vector<int64_t>& ks,
                                             const std::vector<int64_t>& sample,
                                             const ExecutionContext& ctx) {
  const int threads = context_threads(ctx);
  const ThreadGuard guard(threads, 1);
  std::vector<float> unit;
  if (metric == Metric::Cosine) {
    unit = rows;
    normalise_centres(unit, d);  // every row to unit length (a zero row stays zero)
  }
  const std::vector<float>& x = unit.empty() ? rows : unit;
  std::vector<float> norms(static_cast<size_t>(n));
  row_sq_norms(x.data(), n, d, norms.data());
  const size_t T = labelings.size();
  std::vector<std::vector<int64_t>> sizes(T);
  int64_t kmax = 0;
  for (size_t t = 0; t < T; ++t) {
    sizes[t].assign(static_cast<size_t>(ks[t]), 0);
    for (int32_t c : labelings[t]) ++sizes[t][c];
    kmax = std::max(kmax, ks[t]);
  }
  const int64_t m = static_cast<int64_t>(sample.size());
  // Sample rows per pass: their distances to all rows (B x n floats) within about 256 MiB.
  const int64_t B = std::clamp<int64_t>((int64_t(64) << 20) / std::max<int64_t>(n, 1), 8, 512);
  std::vector<float> xs(static_cast<size_t>(B * d)), xs_norms(static_cast<size_t>(B));
  std::vector<float> dist(static_cast<size_t>(B * n));
  std::vector<std::vector<float>> scores(T, std::vector<float>(static_cast<size_t>(m)));
  for (int64_t s0 = 0; s0 < m; s0 += B) {
    throw_if_cancelled(ctx);
    const int64_t b = std::min(B, m - s0);
    for (int64_t i = 0; i < b; ++i) {
      std::copy(x.begin() + sample[s0 + i] * d, x.begin() + (sample[s0 + i] + 1) * d,
                xs.begin() + i * d);
      xs_norms[i] = norms[sample[s0 + i]];
    }
    // Tiles of columns in parallel: dist (b x n) in place, row-major with leading dimension n.
    const int64_t tiles = (n + kColumnTile - 1) / kColumnTile;
#pragma omp parallel num_threads(threads)
    {
      std::vector<float> tile(static_cast<size_t>(b * kColumnTile));
#pragma omp for schedule(dynamic, 1)
      for (int64_t t = 0; t < tiles; ++t) {
        const int64_t c0 = t * kColumnTile, cols = std::min(kColumnTile, n - c0);
        sq_distance_tile(xs.data(), b, xs_norms.data(), x.data() + c0 * d, cols, norms.data() + c0,
                         d, tile.data());
        for (int64_t i = 0; i < b; ++i)
          for (int64_t j = 0; j < cols; ++j) {
            const float sq = tile[i * cols + j];
            dist[i * n + c0 + j] =
                metric == Metric::Cosine ? std::min(2.0f, sq * 0.5f) : std::sqrt(sq);
          }
      }
    }
    // Each sample row's sums per labeling, in a fixed order: any threads, same bits.
#pragma omp parallel num_threads(threads)
    {
      std::vector<double> lanes(static_cast<size_t>(kLanes * kmax));
      std::vector<double> sums(static_cast<size_t>(kmax));
#pragma omp for schedule(dynamic, 1)
      for (int64_t i = 0; i < b; ++i) {
        float* row = dist.data() + i * n;
        row[sample[s0 + i]] = 0.0f;  // its own distance, whatever the rounding
        for (size_t t = 0; t < T; ++t) {
          const int32_t* lab = labelings[t].data();
          cluster_sums(row, lab, n, ks[t], lanes.data(), sums.data());
          scores[t][s0 + i] = row_score(sums.data(), sizes[t].data(), ks[t], lab[sample[s0 + i]]);
        }
      }
    }
  }
  std::vector<SampledScore> out(T);
  for (size_t t = 0; t < T; ++t) {
    const MeanInterval mi = mean_interval(scores[t]);
    out[t] = {mi.mean, mi.low, mi.high};
  }
  return out;
}

}  // namespace embcluster
