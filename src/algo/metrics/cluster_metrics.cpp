// Davies-Bouldin, Calinski-Harabasz, inertia, sizes and the simplified silhouette: one pass for the
// centroids, one for the distances to them; doubles throughout, deterministic for any threads.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "algo/metrics/metric_labels.h"
#include "algo/metrics/silhouette_run.h"
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

// The two passes over the data and what they leave: the centres and the distances to them.
class Passes {
 public:
  Passes(Source& data, const DenseLabels& L, const MetricsParams& p, const ExecutionContext& ctx)
      : L_(L),
        d_(data.cols()),
        k_(L.k),
        threads_(context_threads(ctx)),
        cosine_(p.metric == Metric::Cosine),
        // Blocks of at most 16384 rows: the unit-row copy for cosine stays small.
        blocks_(data, context_memory_budget(ctx), 4096,
                16384) {}

  std::vector<double> centre, mean;  // k x d centroids, d: the mean of the rows that count
  std::vector<double> wcss, intra;   // per cluster: sum of squared / plain distances to the centre
  bool streamed() const { return !blocks_.resident(); }
  int threads() const { return threads_; }

  // Pass 1: the per-cluster sums of the rows, then the centres and the mean.
  void centres() {
    std::vector<double> sums(static_cast<size_t>(k_ * d_), 0.0);
    blocks_.for_each([&](const Block& b) {
      add_cluster_feature_sums(rows_of(b), b.rows, d_, L_.id.data() + b.start, sums.data(),
                               threads_);
    });
    centre.resize(static_cast<size_t>(k_ * d_));
    mean.assign(static_cast<size_t>(d_), 0.0);
    for (int64_t c = 0; c < k_; ++c)
      for (int64_t j = 0; j < d_; ++j) {
        centre[c * d_ + j] = sums[c * d_ + j] / static_cast<double>(L_.sizes[c]);
        mean[j] += sums[c * d_ + j];
      }
    for (auto& v : mean) v /= static_cast<double>(L_.rows_in);
  }

  // Pass 2: squared distance of every row to its own centre (double), summed per cluster in row
  // order; the simplified silhouette (samples, when not null) from the distances to every centre.
  void distances(std::vector<float>* samples);

 private:
  // The rows as measured: unit rows for cosine, as read otherwise.
  const float* rows_of(const Block& b) {
    if (!cosine_) return b.data;
    unit_.resize(static_cast<size_t>(b.rows * d_));
    unit_rows(b.data, b.rows, d_, unit_.data(), threads_);
    return unit_.data();
  }

  // Centroids in float for the simplified silhouette's GEMM tiles (unit length for cosine).
  std::vector<float> float_centres() const {
    std::vector<float> f(static_cast<size_t>(k_ * d_));
    for (int64_t i = 0; i < k_ * d_; ++i) f[i] = static_cast<float>(centre[i]);
    if (cosine_)
      for (int64_t c = 0; c < k_; ++c) unit_row(f.data() + c * d_, d_, f.data() + c * d_);
    return f;
  }

  void simplified_scores(const float* x, const Block& b, const std::vector<float>& centre_f,
                         std::vector<float>& samples);

  const DenseLabels& L_;
  int64_t d_, k_;
  int threads_;
  bool cosine_;
  RowBlocks blocks_;
  std::vector<float> unit_, a_, b_;
};

void Passes::distances(std::vector<float>* samples) {
  wcss.assign(static_cast<size_t>(k_), 0.0);
  intra.assign(static_cast<size_t>(k_), 0.0);
  const std::vector<float> centre_f = samples ? float_centres() : std::vector<float>();
  std::vector<double> sq;
  blocks_.for_each([&](const Block& b) {
    const float* x = rows_of(b);
    sq.assign(static_cast<size_t>(b.rows), 0.0);
#pragma omp parallel for num_threads(threads_) schedule(static)
    for (int64_t i = 0; i < b.rows; ++i) {
      const int32_t c = L_.id[b.start + i];
      if (c < 0) continue;
      const double* m = centre.data() + c * d_;
      double s = 0;
      for (int64_t j = 0; j < d_; ++j) {
        const double t = x[i * d_ + j] - m[j];
        s += t * t;
      }
      sq[i] = s;
    }
    for (int64_t i = 0; i < b.rows; ++i) {
      const int32_t c = L_.id[b.start + i];
      if (c < 0) continue;
      wcss[c] += sq[i];
      intra[c] += std::sqrt(sq[i]);
    }
    if (samples) simplified_scores(x, b, centre_f, *samples);
  });
}

void Passes::simplified_scores(const float* x, const Block& b, const std::vector<float>& centre_f,
                               std::vector<float>& samples) {
  a_.resize(static_cast<size_t>(b.rows));
  b_.resize(static_cast<size_t>(b.rows));
  own_and_nearest_other(x, b.rows, d_, centre_f.data(), k_, L_.id.data() + b.start,
                        cosine_ ? TileMetric::cosine : TileMetric::euclidean, a_.data(), b_.data(),
                        threads_);
  for (int64_t i = 0; i < b.rows; ++i) {
    const int32_t c = L_.id[b.start + i];
    if (c < 0) continue;
    samples[b.start + i] = kern::silhouette_value(a_[i], b_[i], L_.sizes[c] <= 1);
  }
}

// Davies-Bouldin as scikit-learn: mean over clusters of max over others of
// (S_i + S_j) / ||c_i - c_j||, with S the mean distance to the centre; 0 when degenerate.
double davies_bouldin(const Passes& ps, const DenseLabels& L, int64_t d) {
  const int64_t k = L.k;
  const std::vector<double>& centre = ps.centre;
  std::vector<double> s_mean(static_cast<size_t>(k)), cdist(static_cast<size_t>(k * k));
  for (int64_t c = 0; c < k; ++c) s_mean[c] = ps.intra[c] / static_cast<double>(L.sizes[c]);
#pragma omp parallel for num_threads(ps.threads()) schedule(dynamic, 16)
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j < k; ++j) {
      double s = 0;
      for (int64_t t = 0; t < d; ++t) {
        const double v = centre[i * d + t] - centre[j * d + t];
        s += v * v;
      }
      cdist[i * k + j] = std::sqrt(s);
    }
  if (all_near_zero(s_mean) || all_near_zero(cdist)) return 0;
  double total = 0;
  for (int64_t i = 0; i < k; ++i) {
    double worst = 0;
    for (int64_t j = 0; j < k; ++j) {
      const double m = cdist[i * k + j];
      if (j != i && m > 0) worst = std::max(worst, (s_mean[i] + s_mean[j]) / m);
    }
    total += worst;
  }
  return total / static_cast<double>(k);
}

// Inertia and Calinski-Harabasz (the between-cluster dispersion over the within-cluster one).
void dispersion(const Passes& ps, const DenseLabels& L, int64_t d, ClusterMetrics& r) {
  const int64_t k = L.k;
  double extra = 0;
  for (int64_t c = 0; c < k; ++c) {
    r.inertia += ps.wcss[c];
    double s = 0;
    for (int64_t j = 0; j < d; ++j) {
      const double t = ps.centre[c * d + j] - ps.mean[j];
      s += t * t;
    }
    extra += static_cast<double>(L.sizes[c]) * s;
  }
  r.calinski_harabasz =
      r.inertia == 0 ? 1.0 : extra * static_cast<double>(L.rows_in - k) / (r.inertia * (k - 1.0));
}

}  // namespace

ClusterMetrics cluster_metrics(Source& data, const std::vector<int32_t>& labels,
                               const MetricsParams& p, const ExecutionContext& ctx,
                               SilhouetteResult* simplified) {
  const double t_start = now_s();
  check_metrics_params(data, p, false);
  check_context(ctx);
  const ThreadGuard thread_guard(context_threads(ctx), 1);
  const DenseLabels L = dense_labels(labels, data.rows(), data.name(), p.include_noise);
  const int64_t d = data.cols();
  Passes ps(data, L, p, ctx);
  ps.centres();
  if (simplified)
    simplified->samples.assign(static_cast<size_t>(data.rows()),
                               std::numeric_limits<float>::quiet_NaN());
  ps.distances(simplified ? &simplified->samples : nullptr);

  ClusterMetrics r;
  r.cluster_labels = L.values;
  r.cluster_sizes = L.sizes;
  r.noise_rows = L.noise_rows;
  r.noise_included = L.noise_included;
  dispersion(ps, L, d, r);
  r.davies_bouldin = davies_bouldin(ps, L, d);
  r.seconds = now_s() - t_start;
  if (simplified) {
    SilhouetteResult& s = *simplified;
    s.method = "simplified";
    s.metric = p.metric;
    s.device = "cpu";
    summarise_samples(L, s);
    s.streamed = ps.streamed();
    s.data_passes = 2;
    s.seconds = r.seconds;
  }
  return r;
}

}  // namespace embcluster
