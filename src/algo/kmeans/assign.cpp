// Assignment to given centres through the K-means backend's pass, so that the labels are the ones
// a K-means run computes for the same centres (same kernel, same tie rule).
#include "embcluster/assign.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "backend/device_select.h"
#include "backend/kmeans_backend.h"
#include "core/thread_guard.h"
#include "embcluster/error.h"
#include "embcluster/prepare.h"
#include "io/nonzero_rows.h"
#include "io/row_blocks.h"

namespace embcluster {
namespace {

double now_s() {
  using clock = std::chrono::steady_clock;
  return std::chrono::duration<double>(clock::now().time_since_epoch()).count();
}

// Cosine: the centres on the unit sphere (norm in double, as the rows are normalised).
std::vector<float> unit_centres(const std::vector<float>& c, int64_t k, int64_t d) {
  std::vector<float> out(c);
  for (int64_t i = 0; i < k; ++i) {
    double s = 0;
    for (int64_t j = 0; j < d; ++j) s += static_cast<double>(c[i * d + j]) * c[i * d + j];
    require(s > 0, "centre ", i, " is all zeros: the cosine metric has no direction for it");
    const float inv = static_cast<float>(1.0 / std::sqrt(s));
    for (int64_t j = 0; j < d; ++j) out[i * d + j] *= inv;
  }
  return out;
}

}  // namespace

AssignResult assign(Source& data, const std::vector<float>& centres, int64_t k,
                    const AssignParams& params, const ExecutionContext& ctx,
                    const AssignCallback& progress) {
  check_context(ctx);
  const int64_t n = data.rows(), d = data.cols();
  require(k >= 1, "assign: need at least one centre (got ", k, ")");
  require(static_cast<int64_t>(centres.size()) == k * d, "centres hold ", centres.size(),
          " values; ", k, " centres of the data's ", d, " columns need ", k * d);
  for (size_t i = 0; i < centres.size(); ++i)
    require(std::isfinite(centres[i]), "centre ", static_cast<int64_t>(i) / d,
            " is not finite (column ", static_cast<int64_t>(i) % d, ")");
  const double t_start = now_s();
  const int threads = context_threads(ctx);
  const ThreadGuard thread_guard(threads, 1);
  const bool cosine = params.metric == Metric::Cosine;

  // Cosine: the rows normalised as they are read; a zero row is an error naming it.
  std::unique_ptr<Source> unit;
  if (cosine) unit = prepare_source(nonzero_rows(data), "l2", ctx);
  Source& rows = cosine ? *unit : data;
  const std::vector<float> c = cosine ? unit_centres(centres, k, d) : centres;

  KMeansParams kp;
  kp.n_clusters = k;
  kp.precision = params.precision;
  BackendChoice choice = make_kmeans_backend(kp, ctx, threads);
  KMeansBackend& be = *choice.backend;

  AssignResult res;
  res.rows = n;
  res.dims = d;
  res.device = be.device_name();
  res.labels.resize(static_cast<size_t>(n));
  res.distances.resize(static_cast<size_t>(n));
  ClusterSums sums;
  sums.reset(k, d);
  RowBlocks blocks(rows, context_memory_budget(ctx), kAssignGrain);
  const double t0 = now_s();
  be.set_centroids(c.data(), k, d);
  be.begin_pass(&sums);
  blocks.for_each([&](const Block& b) {
    throw_if_cancelled(ctx);
    be.assign(b, res.labels.data() + b.start, res.distances.data() + b.start, &sums);
    if (progress) progress(b.start + b.rows, n);
  });
  be.end_pass(&sums);
  res.sizes = sums.counts;
  res.inertia = sums.inertia();
  // Squared euclidean distances become the metric's distances: ||x - c||^2 / 2 = 1 - cos on the
  // unit sphere.
  for (auto& v : res.distances) v = cosine ? v / 2 : std::sqrt(std::max(v, 0.0f));
  res.timings = {{"assign", now_s() - t0}, {"total", now_s() - t_start}};
  return res;
}

}  // namespace embcluster
