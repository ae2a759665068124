// K-means and the assignment of rows to centres (fit, predict, transform) for Python.
#include "embcluster/kmeans.h"

#include <optional>
#include <string>

#include "bindings.h"
#include "embcluster/assign.h"
#include "embcluster/enums.h"
#include "embcluster/error.h"

namespace embcluster::py {
namespace {

using namespace nb::literals;

nb::dict progress_dict(const KMeansProgress& p) {
  nb::dict d;
  d["phase"] = p.phase;
  d["rows_done"] = p.rows_done;
  d["rows_total"] = p.rows_total;
  d["run"] = p.run;
  d["n_init"] = p.n_init;
  d["iteration"] = p.iteration;
  d["max_iter"] = p.max_iter;
  d["inertia"] = p.inertia;
  d["shift"] = p.shift;
  d["elapsed_s"] = p.elapsed_s;
  d["device"] = p.device;
  d["device_note"] = p.device_note;
  return d;
}

nb::dict fit(const nb::handle& data, int64_t n_clusters, const std::string& init, int n_init,
             int max_iter, double tol, uint64_t seed, const std::string& metric,
             int64_t init_sample, const std::string& precision, int threads, int64_t memory,
             const std::string& device, int64_t device_memory, const nb::object& progress,
             const std::optional<WeightVector>& sample_weight, const std::string& algorithm,
             double oversampling_factor, int init_rounds) {
  Run run(threads, memory, device, device_memory);
  auto source = make_source(data);
  KMeansParams p;
  p.n_clusters = n_clusters;
  p.init = parse_init(init);
  if (p.init == InitMethod::File) p.init_file = init;
  p.n_init = n_init;
  p.max_iter = max_iter;
  p.tol = tol;
  p.seed = seed;
  p.metric = parse_metric(metric);
  p.init_sample = init_sample;
  p.oversampling_factor = oversampling_factor;
  p.init_rounds = init_rounds;
  p.precision = parse_precision(precision);
  p.algorithm = parse_kmeans_algorithm(algorithm);
  if (sample_weight)
    p.sample_weight.assign(sample_weight->data(), sample_weight->data() + sample_weight->shape(0));
  KMeansCallback cb;
  if (!progress.is_none()) {
    cb = [&](const KMeansProgress& pr) {
      nb::gil_scoped_acquire gil;
      run.report(progress, progress_dict(pr));
    };
  }
  KMeansResult r = without_gil(run, [&] { return kmeans(*source, p, run.ctx(), cb); });
  const auto k = static_cast<size_t>(p.n_clusters), d = static_cast<size_t>(r.dims);
  const auto n = static_cast<size_t>(r.rows);
  nb::dict out;
  out["cluster_centers"] = to_numpy(std::move(r.centroids), {k, d});
  out["labels"] = to_numpy(std::move(r.labels), {n});
  out["inertia"] = r.inertia;
  out["n_iter"] = r.iterations;
  out["converged"] = r.converged;
  out["run_inertia"] = to_numpy(std::move(r.run_inertia), {r.run_inertia.size()});
  out["device"] = r.device;
  out["streamed"] = r.streamed;
  out["block_rows"] = r.block_rows;
  return out;
}

// The nearest centre of every row; with all_distances, also the distance to every centre (the
// library ranks them; they are put back in centre order here).
nb::dict assign_rows(const nb::handle& data, const FloatMatrix& centres, const std::string& metric,
                     bool all_distances, int threads, int64_t memory, const std::string& device,
                     int64_t device_memory) {
  Run run(threads, memory, device, device_memory);
  auto source = make_source(data);
  const auto k = static_cast<int64_t>(centres.shape(0));
  require(static_cast<int64_t>(centres.shape(1)) == source->cols(), "X has ", source->cols(),
          " features, but the centres have ", centres.shape(1));
  std::vector<float> c(centres.data(), centres.data() + k * centres.shape(1));
  AssignParams p;
  p.metric = parse_metric(metric);
  p.top = all_distances ? k : 1;
  AssignResult r = without_gil(run, [&] { return assign(*source, c, k, p, run.ctx()); });
  const auto n = static_cast<size_t>(r.rows);
  nb::dict out;
  out["inertia"] = r.inertia;
  if (all_distances && k > 1) {
    std::vector<float> dist(n * static_cast<size_t>(k));
    for (size_t i = 0; i < n * static_cast<size_t>(k); ++i) {
      const size_t row = i / static_cast<size_t>(k);
      dist[row * static_cast<size_t>(k) + static_cast<size_t>(r.top_labels[i])] =
          r.top_distances[i];
    }
    out["distances"] = to_numpy(std::move(dist), {n, static_cast<size_t>(k)});
  } else if (all_distances) {
    out["distances"] = to_numpy(std::move(r.distances), {n, size_t(1)});
  } else {
    out["distances"] = to_numpy(std::move(r.distances), {n});
  }
  out["labels"] = to_numpy(std::move(r.labels), {n});
  return out;
}

}  // namespace

void bind_kmeans(nb::module_& m) {
  m.def("kmeans", &fit, "data"_a, "n_clusters"_a, "init"_a, "n_init"_a, "max_iter"_a, "tol"_a,
        "seed"_a, "metric"_a, "init_sample"_a, "precision"_a, "threads"_a, "memory"_a, "device"_a,
        "device_memory"_a, "progress"_a.none(), "sample_weight"_a.none() = nb::none(),
        "algorithm"_a = "auto", "oversampling_factor"_a = 0.5, "init_rounds"_a = 5);
  m.def("assign", &assign_rows, "data"_a, "centres"_a, "metric"_a, "all_distances"_a, "threads"_a,
        "memory"_a, "device"_a, "device_memory"_a);
}

}  // namespace embcluster::py
