// DBSCAN and the k-distance curve for Python.
#include "embcluster/dbscan.h"

#include <string>

#include "bindings.h"
#include "embcluster/enums.h"

namespace embcluster::py {
namespace {

using namespace nb::literals;

DBSCANCallback callback(Run& run, const nb::object& progress) {
  if (progress.is_none()) return nullptr;
  return [&run, progress](const DBSCANProgress& pr) {
    nb::gil_scoped_acquire gil;
    nb::dict d;
    d["phase"] = pr.phase;
    d["fraction"] = pr.fraction;
    d["elapsed_s"] = pr.elapsed_s;
    d["note"] = pr.note;
    run.report(progress, d);
  };
}

nb::dict fit(const nb::handle& data, double eps, int64_t min_samples, const std::string& metric,
             const std::string& index, int64_t nlist, int64_t nprobe, int hnsw_m,
             int ef_construction, int ef_search, int64_t hnsw_k, int64_t check_sample,
             uint64_t seed, int threads, int64_t memory, const std::string& device,
             int64_t device_memory, const nb::object& progress) {
  Run run(threads, memory, device, device_memory);
  auto source = make_source(data);
  DBSCANParams p;
  p.eps = eps;
  p.min_samples = min_samples;
  p.metric = parse_metric(metric);
  p.index = parse_index(index);
  p.nlist = nlist;
  p.nprobe = nprobe;
  p.hnsw_m = hnsw_m;
  p.ef_construction = ef_construction;
  p.ef_search = ef_search;
  p.hnsw_k = hnsw_k;
  p.check_sample = check_sample;
  p.seed = seed;
  DBSCANCallback cb = callback(run, progress);
  DBSCANResult r = without_gil(run, [&] { return dbscan(*source, p, run.ctx(), cb); });
  const auto n = static_cast<size_t>(r.rows);
  nb::dict out;
  out["labels"] = to_numpy(std::move(r.labels), {n});
  out["core"] = to_numpy(std::move(r.core), {n});
  out["n_clusters"] = r.n_clusters;
  out["device"] = r.device;
  out["streamed"] = r.streamed;
  if (r.checked) {
    out["core_recall"] = r.check.core_recall;
    out["core_precision"] = r.check.core_precision;
  }
  return out;
}

nb::dict kdist_curve(const nb::handle& data, int64_t k, int64_t sample, uint64_t seed,
                     const std::string& metric, int threads, int64_t memory,
                     const nb::object& progress) {
  Run run(threads, memory, "cpu", 0);
  auto source = make_source(data);
  KDistParams p;
  p.k = k;
  p.sample = sample;
  p.seed = seed;
  p.metric = parse_metric(metric);
  DBSCANCallback cb = callback(run, progress);
  KDistResult r = without_gil(run, [&] { return kdist(*source, p, run.ctx(), cb); });
  const size_t m = r.kdist.size();
  nb::dict quantiles;
  for (const auto& [q, v] : r.quantiles) quantiles[nb::float_(q)] = v;
  nb::dict out;
  out["kdist"] = to_numpy(std::move(r.kdist), {m});
  out["rows"] = to_numpy(std::move(r.rows), {m});
  out["knee"] = r.knee;
  out["suggested_eps"] = r.suggested_eps;
  out["quantiles"] = quantiles;
  return out;
}

}  // namespace

void bind_dbscan(nb::module_& m) {
  m.def("dbscan", &fit, "data"_a, "eps"_a, "min_samples"_a, "metric"_a, "index"_a, "nlist"_a,
        "nprobe"_a, "hnsw_m"_a, "ef_construction"_a, "ef_search"_a, "hnsw_k"_a, "check_sample"_a,
        "seed"_a, "threads"_a, "memory"_a, "device"_a, "device_memory"_a, "progress"_a.none());
  m.def("kdist", &kdist_curve, "data"_a, "k"_a, "sample"_a, "seed"_a, "metric"_a, "threads"_a,
        "memory"_a, "progress"_a.none());
}

}  // namespace embcluster::py
