// The silhouette entry point: the parameters, the sample, the device (a CUDA GPU or the CPU, the
// same driver either way: silhouette_run.h), the fall-back to the CPU, and the summary.
#include <omp.h>

#include <chrono>
#include <cmath>
#include <limits>

#include "algo/kmeans/kmeans_init.h"
#include "algo/metrics/metric_labels.h"
#include "algo/metrics/silhouette_run.h"
#include "backend/device_select.h"
#include "core/distributed.h"
#include "core/rng.h"
#include "core/thread_guard.h"
#include "cuda/cuda_metrics.h"
#include "embcluster/error.h"
#include "embcluster/metrics.h"

namespace embcluster {
namespace {

double now_s() {
  using clock = std::chrono::steady_clock;
  return std::chrono::duration<double>(clock::now().time_since_epoch()).count();
}

// The scores on the chosen device, or on the CPU when auto's device fails (noted in r).
SilhouetteScores scores_on(Source& data, const DenseLabels& L, const MetricsParams& p,
                           const ExecutionContext& ctx, int device,
                           const std::vector<int64_t>& sample, const RowsDone& done,
                           SilhouetteCheckpoint& ckpt, SilhouetteResult& r) {
  const TileMetric metric = p.metric == Metric::Cosine ? TileMetric::cosine : TileMetric::euclidean;
  if (device >= 0) {
    try {
      auto sums =
          make_cuda_cluster_sums(device, metric, L.k, data.cols(), ctx.device_memory_budget);
      r.device = sums->device_name();
      return silhouette_scores(data, L, p, ctx, *sums, sample, done, &ckpt);
    } catch (const Error& e) {
      r.device_note = auto_fallback_note(ctx.device, e, "silhouette on the CPU");
    }
  }
  r.device = "cpu";
  if (p.metric == Metric::Cosine && p.cosine_cluster_sums && !ranks_of(ctx))
    return cosine_silhouette_from_cluster_sums(data, L, p, ctx, sample, done, &ckpt);
  auto sums = make_cpu_cluster_sums(metric, L.k, data.cols(), context_threads(ctx));
  return silhouette_scores(data, L, p, ctx, *sums, sample, done, &ckpt);
}

}  // namespace

// N of the rows that count, uniformly, as source row indices (ascending); empty when every row
// that counts is scored.
std::vector<int64_t> silhouette_sample_rows(const DenseLabels& L, const MetricsParams& p,
                                            int64_t rows) {
  std::vector<int64_t> sample;
  if (!(p.sample_size > 0 && p.sample_size < L.rows_in)) return sample;
  Rng rng(p.seed, 0x51a0);
  const std::vector<int64_t> picks = sample_rows(L.rows_in, p.sample_size, rng);
  sample.reserve(picks.size());
  int64_t counted = 0;
  size_t next = 0;
  for (int64_t i = 0; i < rows && next < picks.size(); ++i) {
    if (L.id[i] < 0) continue;
    if (counted++ == picks[next]) sample.push_back(i), ++next;
  }
  return sample;
}

void summarise_samples(const DenseLabels& L, SilhouetteResult& r) {
  r.cluster_labels = L.values;
  r.cluster_sizes = L.sizes;
  r.cluster_scored.assign(static_cast<size_t>(L.k), 0);
  r.cluster_means.clear();
  r.rows_scored = 0;
  std::vector<double> csum(static_cast<size_t>(L.k), 0.0);
  double sum = 0;
  for (size_t i = 0; i < r.samples.size(); ++i) {
    const float v = r.samples[i];
    if (std::isnan(v)) continue;
    sum += v;
    csum[L.id[i]] += v;
    ++r.cluster_scored[L.id[i]];
    ++r.rows_scored;
  }
  r.score = sum / static_cast<double>(r.rows_scored);
  for (int64_t c = 0; c < L.k; ++c)
    r.cluster_means.push_back(r.cluster_scored[c] > 0 ? csum[c] / r.cluster_scored[c]
                                                      : std::numeric_limits<double>::quiet_NaN());
  r.ci_low = r.ci_high = r.score;
  r.noise_rows = L.noise_rows;
  r.noise_included = L.noise_included;
}

SilhouetteResult silhouette(Source& data, const std::vector<int32_t>& labels,
                            const MetricsParams& p, const ExecutionContext& ctx,
                            const MetricsCallback& progress) {
  const double t0 = now_s();
  check_metrics_params(data, p, true);
  check_context(ctx);
  const ThreadGuard thread_guard(context_threads(ctx), 1);
  const DenseLabels L = dense_labels(labels, data.rows(), data.name(), p.include_noise);
  const std::vector<int64_t> sample = silhouette_sample_rows(L, p, data.rows());
  SilhouetteCheckpoint ckpt(data, labels, p);
  require(!ranks_of(ctx) || !ckpt.on(),
          "checkpoints are not supported in a run of several MPI ranks");
  const bool sampled = !sample.empty();
  // The device: a GPU for the tiles when asked for (or, with auto, when present); the cosine
  // cluster sums are O(rows * clusters * d) and stay on the CPU.
  SilhouetteResult r;
  int device = choose_cuda_device(ctx.device, "silhouette on the CPU", &r.device_note);
  if (device >= 0 && p.metric == Metric::Cosine && p.cosine_cluster_sums && !ranks_of(ctx)) {
    if (ctx.device.kind != DeviceKind::Auto)
      r.device_note = "cosine silhouette from per-cluster sums of the unit rows: on the CPU";
    device = -1;
  }
  const int64_t total = sampled ? static_cast<int64_t>(sample.size()) : L.rows_in;
  if (progress) {
    MetricsProgress start;
    start.rows_total = total;
    start.device_note = r.device_note;
    progress(start);
  }
  const double t_run = now_s();
  RowsDone done;
  if (progress)
    done = [&](int64_t rows) {
      MetricsProgress pr;
      pr.rows_done = rows;
      pr.rows_total = total;
      pr.elapsed_s = now_s() - t_run;
      progress(pr);
    };
  throw_if_cancelled(ctx);
  SilhouetteScores s = scores_on(data, L, p, ctx, device, sample, done, ckpt, r);
  r.resumed_rows = ckpt.resumed_rows();
  r.samples = std::move(s.samples);
  r.streamed = s.streamed;
  r.data_passes = s.passes;
  r.method = sampled ? "sampled" : "exact";
  r.metric = p.metric;
  summarise_samples(L, r);
  if (sampled && r.rows_scored > 1) {
    const MeanInterval mi = mean_interval(r.samples);
    r.std_error = mi.std_error;
    r.ci_low = mi.low;
    r.ci_high = mi.high;
  }
  r.seconds = now_s() - t0;
  return r;
}

}  // namespace embcluster
