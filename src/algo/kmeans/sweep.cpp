// The k sweep: the data read once when it fits the memory budget (every k's passes then run from
// memory), one K-means per k, and the quality of each from the same seeded silhouette sample.
#include "embcluster/sweep.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <sstream>

#include "algo/kmeans/sweep_silhouette.h"
#include "algo/metrics/metric_labels.h"
#include "embcluster/error.h"
#include "embcluster/metrics.h"
#include "io/row_blocks.h"

namespace embcluster {
namespace {

double now_s() {
  using clock = std::chrono::steady_clock;
  return std::chrono::duration<double>(clock::now().time_since_epoch()).count();
}

int64_t parse_k(const std::string& s, const std::string& text) {
  size_t used = 0;
  long long v = -1;
  try {
    v = std::stoll(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  require(used == s.size() && used > 0 && v >= 1, "--k '", text, "': '", s,
          "' is not a whole number >= 1 (use first:last[:step] or a list k1,k2,...)");
  return v;
}

}  // namespace

std::vector<int64_t> parse_k_list(const std::string& text) {
  std::vector<int64_t> ks;
  if (text.find(':') != std::string::npos) {
    std::vector<std::string> parts;
    std::stringstream ss(text);
    for (std::string p; std::getline(ss, p, ':');) parts.push_back(p);
    require(parts.size() == 2 || parts.size() == 3, "--k '", text,
            "' must be first:last or first:last:step");
    const int64_t first = parse_k(parts[0], text), last = parse_k(parts[1], text);
    const int64_t step = parts.size() == 3 ? parse_k(parts[2], text) : 1;
    require(first <= last, "--k '", text, "': first ", first, " is above last ", last);
    require((last - first) / step < 10000, "--k '", text, "' names more than 10000 values");
    for (int64_t k = first; k <= last; k += step) ks.push_back(k);
  } else {
    std::stringstream ss(text);
    for (std::string p; std::getline(ss, p, ',');) ks.push_back(parse_k(p, text));
  }
  std::sort(ks.begin(), ks.end());
  ks.erase(std::unique(ks.begin(), ks.end()), ks.end());
  require(!ks.empty(), "--k '", text, "' names no k");
  return ks;
}

int64_t kneedle_elbow(const std::vector<SweepPoint>& pts) {
  const size_t m = pts.size();
  if (m < 3) return 0;
  const double x0 = pts.front().k, x1 = pts.back().k;
  const double y0 = pts.front().inertia, y1 = pts.back().inertia;
  if (!(y0 > y1)) return 0;  // a curve that does not fall has no elbow
  // Decreasing convex curve: the elbow is where the normalised curve lies farthest below the
  // chord from its first to its last point.
  double best = 0;
  int64_t elbow = 0;
  for (const auto& p : pts) {
    const double x = (p.k - x0) / (x1 - x0), y = (p.inertia - y1) / (y0 - y1);
    const double gap = (1 - x) - y;
    if (gap > best) best = gap, elbow = p.k;
  }
  return elbow;
}

SweepResult sweep(Source& data, const SweepParams& params, const ExecutionContext& ctx,
                  const SweepCallback& progress) {
  check_context(ctx);
  require(!params.ks.empty(), "sweep: no k to run");
  const int64_t n = data.rows(), d = data.cols();
  for (int64_t k : params.ks)
    require(k >= 2 && k < n, "k=", k, " must be between 2 and rows - 1 (", n - 1,
            ") for the silhouette");
  require(params.silhouette_sample >= 0, "silhouette sample=", params.silhouette_sample,
          " must be >= 0 (0 = exact)");
  const double t0 = now_s();
  SweepResult res;
  // Read once when the rows fit the budget: every k's passes then run from memory.
  std::vector<float> rows;
  std::unique_ptr<Source> resident;
  if (n * d * int64_t(sizeof(float)) <= context_memory_budget(ctx) / 2) {
    rows = read_all(data);
    resident = memory_source(rows.data(), n, d, data.name());
    res.data_in_memory = true;
  }
  Source& src = resident ? *resident : data;
  MetricsParams mp;
  mp.metric = params.kmeans.metric;
  mp.seed = params.kmeans.seed;
  mp.sample_size = params.silhouette_sample >= n ? 0 : params.silhouette_sample;
  // The silhouettes of every k from one computation of the sample's distances (CPU, data in
  // memory, sampled, every k's labels within a quarter of the budget); else one per k.
  const int64_t T = static_cast<int64_t>(params.ks.size());
  const bool shared = resident && mp.sample_size > 0 &&
                      T * n * int64_t(sizeof(int32_t)) <= context_memory_budget(ctx) / 4;
  std::vector<std::vector<int32_t>> labelings;
  for (size_t i = 0; i < params.ks.size(); ++i) {
    throw_if_cancelled(ctx);
    const int64_t k = params.ks[i];
    if (progress) progress(k, i, params.ks.size());
    const double tk = now_s();
    KMeansParams kp = params.kmeans;
    kp.n_clusters = k;
    kp.checkpoint = KMeansCheckpoint{};
    KMeansResult r = kmeans(src, kp, ctx);
    res.device = r.device;
    SweepPoint p;
    p.k = k;
    p.inertia = r.inertia;
    p.iterations = r.iterations;
    p.converged = r.converged;
    p.sizes = r.sizes;
    const bool here = !shared || r.device.rfind("cpu", 0) != 0;
    if (here) {
      const SilhouetteResult sil = silhouette(src, r.labels, mp, ctx);
      p.silhouette = sil.score;
      p.silhouette_low = sil.ci_low;
      p.silhouette_high = sil.ci_high;
    }
    MetricsParams cm;  // Davies-Bouldin and Calinski-Harabasz: euclidean, as scikit-learn
    const ClusterMetrics c = cluster_metrics(src, r.labels, cm, ctx);
    p.davies_bouldin = c.davies_bouldin;
    p.calinski_harabasz = c.calinski_harabasz;
    p.seconds = now_s() - tk;
    res.points.push_back(p);
    labelings.push_back(here ? std::vector<int32_t>() : std::move(r.labels));
  }
  if (shared && !labelings.back().empty()) {
    const double ts = now_s();
    const DenseLabels L = dense_labels(labelings.back(), n, data.name(), false);
    const std::vector<int64_t> sample = silhouette_sample_rows(L, mp, n);
    const auto scores =
        shared_silhouettes(rows, n, d, mp.metric, labelings, params.ks, sample, ctx);
    for (int64_t t = 0; t < T; ++t) {
      res.points[t].silhouette = scores[t].score;
      res.points[t].silhouette_low = scores[t].ci_low;
      res.points[t].silhouette_high = scores[t].ci_high;
    }
    res.shared_silhouette_s = now_s() - ts;
  }
  res.elbow_k = kneedle_elbow(res.points);
  const auto best = std::max_element(
      res.points.begin(), res.points.end(),
      [](const SweepPoint& a, const SweepPoint& b) { return a.silhouette < b.silhouette; });
  res.best_silhouette_k = best->k;
  res.suggested_k = best->k;
  res.seconds = now_s() - t0;
  return res;
}

}  // namespace embcluster
