// Silhouette, Davies-Bouldin and Calinski-Harabasz for Python.
#include "embcluster/metrics.h"

#include <string>
#include <vector>

#include "bindings.h"
#include "embcluster/enums.h"

namespace embcluster::py {
namespace {

using namespace nb::literals;
using Labels = nb::ndarray<const int32_t, nb::ndim<1>, nb::c_contig, nb::device::cpu>;

MetricsParams params(const std::string& metric, int64_t sample_size, uint64_t seed,
                     bool include_noise) {
  MetricsParams p;
  p.metric = parse_metric(metric);
  p.sample_size = sample_size;
  p.seed = seed;
  p.include_noise = include_noise;
  return p;
}

nb::dict silhouette_of(const nb::handle& data, const Labels& labels, const std::string& metric,
                       int64_t sample_size, uint64_t seed, bool include_noise, int threads,
                       int64_t memory, const std::string& device, int64_t device_memory,
                       const nb::object& progress) {
  Run run(threads, memory, device, device_memory);
  auto source = make_source(data);
  std::vector<int32_t> l(labels.data(), labels.data() + labels.shape(0));
  MetricsParams p = params(metric, sample_size, seed, include_noise);
  MetricsCallback cb;
  if (!progress.is_none()) {
    cb = [&](const MetricsProgress& pr) {
      nb::gil_scoped_acquire gil;
      nb::dict d;
      d["rows_done"] = pr.rows_done;
      d["rows_total"] = pr.rows_total;
      d["elapsed_s"] = pr.elapsed_s;
      d["device_note"] = pr.device_note;
      run.report(progress, d);
    };
  }
  SilhouetteResult r = without_gil(run, [&] { return silhouette(*source, l, p, run.ctx(), cb); });
  nb::dict out;
  out["score"] = r.score;
  out["samples"] = to_numpy(std::move(r.samples), {r.samples.size()});
  out["rows_scored"] = r.rows_scored;
  out["std_error"] = r.std_error;
  out["ci_low"] = r.ci_low;
  out["ci_high"] = r.ci_high;
  out["method"] = r.method;
  out["device"] = r.device;
  return out;
}

nb::dict metrics_of(const nb::handle& data, const Labels& labels, const std::string& metric,
                    bool include_noise, int threads, int64_t memory) {
  Run run(threads, memory, "cpu", 0);
  auto source = make_source(data);
  std::vector<int32_t> l(labels.data(), labels.data() + labels.shape(0));
  MetricsParams p = params(metric, 0, 0, include_noise);
  ClusterMetrics r = without_gil(run, [&] { return cluster_metrics(*source, l, p, run.ctx()); });
  nb::dict out;
  out["davies_bouldin"] = r.davies_bouldin;
  out["calinski_harabasz"] = r.calinski_harabasz;
  out["inertia"] = r.inertia;
  return out;
}

}  // namespace

void bind_metrics(nb::module_& m) {
  m.def("silhouette", &silhouette_of, "data"_a, "labels"_a, "metric"_a, "sample_size"_a, "seed"_a,
        "include_noise"_a, "threads"_a, "memory"_a, "device"_a, "device_memory"_a,
        "progress"_a.none());
  m.def("cluster_metrics", &metrics_of, "data"_a, "labels"_a, "metric"_a, "include_noise"_a,
        "threads"_a, "memory"_a);
}

}  // namespace embcluster::py
