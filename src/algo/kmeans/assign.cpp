// Assignment to given centres through the K-means backend's pass, so that the labels are the ones
// a K-means run computes for the same centres (same kernel, same tie rule).
#include "embcluster/assign.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <utility>

#include "algo/kmeans/kmeans_common.h"
#include "backend/device_select.h"
#include "backend/kmeans_backend.h"
#include "core/distributed.h"
#include "core/thread_guard.h"
#include "cpu/nearest_centres.h"
#include "embcluster/error.h"
#include "embcluster/prepare.h"
#include "io/nonzero_rows.h"
#include "io/row_blocks.h"
#include "kernels/distance.cuh"

namespace embcluster {
namespace {

double now_s() {
  using clock = std::chrono::steady_clock;
  return std::chrono::duration<double>(clock::now().time_since_epoch()).count();
}

// Cosine: the centres on the unit sphere (norm in double, as the rows are normalised).
std::vector<float> unit_centres(const std::vector<float>& c, int64_t k, int64_t d) {
  for (int64_t i = 0; i < k; ++i)
    require(std::any_of(c.begin() + i * d, c.begin() + (i + 1) * d, [](float v) { return v != 0; }),
            "centre ", i, " is all zeros: the cosine metric has no direction for it");
  std::vector<float> out(c);
  normalise_centres(out, d);  // as spherical K-means normalises its centres
  return out;
}

// The `top` nearest centres of the block's rows: the label first, then the other candidates of
// the GEMM ranking (top + 1 of them, so that the label's absence never leaves a hole) by exact
// squared distance, ties to the lower index.
void top_centres(const Block& b, const std::vector<float>& c, int64_t k, int64_t top, int threads,
                 const int32_t* labels, int32_t* top_labels, float* top_sq) {
  const int64_t d = b.cols, p = std::min(top + 1, k);
  std::vector<int64_t> cand(static_cast<size_t>(b.rows * p));
  nearest_centres(b.data, b.rows, c.data(), k, d, p, threads, cand.data());
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t i = 0; i < b.rows; ++i) {
    const float* x = b.data + i * d;
    std::vector<std::pair<float, int64_t>> ranked;
    for (int64_t j = 0; j < p; ++j) {
      const int64_t id = cand[i * p + j];
      if (id >= 0 && id != labels[i]) ranked.emplace_back(kern::sq_l2(x, c.data() + id * d, d), id);
    }
    std::sort(ranked.begin(), ranked.end());
    int32_t* tl = top_labels + i * top;
    float* td = top_sq + i * top;
    tl[0] = labels[i];
    td[0] = kern::sq_l2(x, c.data() + labels[i] * d, d);
    for (int64_t j = 1; j < top; ++j) {
      const bool have = j - 1 < static_cast<int64_t>(ranked.size());
      tl[j] = have ? static_cast<int32_t>(ranked[j - 1].second) : -1;
      td[j] = have ? ranked[j - 1].first : std::numeric_limits<float>::quiet_NaN();
    }
  }
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

  // A distributed run: this rank's slab of the rows, the sums combined across ranks.
  Communicator* comm = ranks_of(ctx);
  const RowSlab slab = slab_of(n, comm);
  const RankClock rank_clock(comm, slab);
  const int64_t m = slab.rows();

  AssignResult res;
  res.rows = n;
  res.dims = d;
  res.device = be.device_name();
  res.labels.resize(static_cast<size_t>(m));
  res.distances.resize(static_cast<size_t>(m));
  const int64_t top = params.top;
  require(top >= 1, "top=", top, " must be at least 1");
  if (top > 1) {
    res.top_labels.resize(static_cast<size_t>(m * top));
    res.top_distances.resize(static_cast<size_t>(m * top));
  }
  ClusterSums sums;
  sums.reset(k, d);
  RowBlocks blocks(rows, context_memory_budget(ctx), kAssignGrain, int64_t(1) << 18, slab.first,
                   slab.last);
  const double t0 = now_s();
  be.set_centroids(c.data(), k, d);
  be.begin_pass(&sums);
  blocks.for_each([&](const Block& b) {
    throw_if_cancelled(ctx);
    const int64_t at = b.start - slab.first;
    be.assign(b, res.labels.data() + at, res.distances.data() + at, &sums);
    if (top > 1)
      top_centres(b, c, k, top, threads, res.labels.data() + at, res.top_labels.data() + at * top,
                  res.top_distances.data() + at * top);
    if (progress) progress(b.start + b.rows, n);
  });
  be.end_pass(&sums);
  sums.finish(comm);
  res.sizes = sums.counts;
  res.inertia = sums.inertia();
  // Squared euclidean distances become the metric's distances: ||x - c||^2 / 2 = 1 - cos on the
  // unit sphere.
  const auto to_metric = [cosine](float& v) { v = cosine ? v / 2 : std::sqrt(std::max(v, 0.0f)); };
  for (auto& v : res.distances) to_metric(v);
  for (auto& v : res.top_distances) to_metric(v);
  if (comm) {
    // Every row's arrays in row order on rank 0.
    res.labels = gather_values(res.labels, *comm);
    res.distances = gather_values(res.distances, *comm);
    res.top_labels = gather_values(res.top_labels, *comm);
    res.top_distances = gather_values(res.top_distances, *comm);
    res.ranks = rank_clock.gather(res.device);
  }
  res.timings = {{"assign", now_s() - t0}, {"total", now_s() - t_start}};
  return res;
}

}  // namespace embcluster
