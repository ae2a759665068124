// embcluster assign DATA --centroids C: every row to its nearest centre (as K-means assigns it),
// with the distance to it, streamed.
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "cli/commands.h"
#include "cli/common.h"
#include "embcluster/assign.h"
#include "embcluster/error.h"

namespace embcluster::cli {

namespace {

struct AssignOptions {
  std::string data, centroids;
  std::string metric = "euclidean";
  int64_t top = 1;
  std::string precision = "fp32";
  std::string device = "auto";
  DeviceMemoryOption device_memory;
  DataOptions data_opts;
  OutputOptions out;
};

// "DIR/centroids.h5" without a dataset: its /centroids (as kmeans writes it).
std::string centroids_spec(const std::string& spec) {
  const bool h5 = spec.size() > 3 && spec.compare(spec.size() - 3, 3, ".h5") == 0;
  return h5 ? spec + ":/centroids" : spec;
}

nlohmann::json to_json(const AssignResult& r, const AssignOptions& o, int64_t k) {
  nlohmann::json j;
  j["parameters"] = {{"centroids", o.centroids}, {"n_clusters", k}, {"metric", o.metric},
                     {"precision", o.precision}, {"top", o.top},    {"device", o.device}};
  j["device"] = r.device;
  j["cluster_sizes"] = r.sizes;
  j["inertia"] = r.inertia;
  nlohmann::json t;
  for (const auto& [name, s] : r.timings) t[name] = s;
  j["timings_s"] = t;
  if (!r.ranks.empty()) j["ranks"] = ranks_json(r.ranks);
  return j;
}

int run_assign(AssignOptions& o) {
  AssignParams p;
  p.metric = parse_metric(o.metric);
  p.precision = parse_precision(o.precision);
  p.top = o.top;
  const ExecutionContext ctx = command_context(o.device, &o.device_memory);
  auto source = open_data(o.data, o.data_opts);
  auto csrc = open_source(centroids_spec(o.centroids));
  require(csrc->cols() == source->cols(), "centroids ", csrc->name(), " have ", csrc->cols(),
          " columns; the data has ", source->cols());
  const std::vector<float> centres = read_all(*csrc);
  const int64_t k = csrc->rows();

  std::unique_ptr<OutputDir> out;
  if (!o.out.dir.empty() && globals().lead()) {  // rank 0 of an MPI launch writes
    out = open_output_dir(o.out);
    out->stage(array_file(o.out, "labels"));
    out->stage(array_file(o.out, "distances"));
    if (o.top > 1) {
      out->stage(array_file(o.out, "top_labels"));
      out->stage(array_file(o.out, "top_distances"));
    }
    out->stage("report.json");
  }
  ProgressLine line;
  const auto t0 = std::chrono::steady_clock::now();
  const AssignResult r = assign(*source, centres, k, p, ctx, [&](int64_t done, int64_t total) {
    char buf[128];
    std::snprintf(buf, sizeof buf, "assign: %5.1f%% of %lld rows", 100.0 * done / total,
                  static_cast<long long>(total));
    line.update(buf);
  });
  line.finish();
  if (out) {
    auto report = report_header("assign", *source);
    report.update(to_json(r, o, k));
    write_staged(*out, o.out, "labels", ElemType::i32, r.labels.data(), r.rows, 0);
    write_staged(*out, o.out, "distances", ElemType::f32, r.distances.data(), r.rows, 0);
    if (o.top > 1) {
      write_staged(*out, o.out, "top_labels", ElemType::i32, r.top_labels.data(), r.rows, o.top);
      write_staged(*out, o.out, "top_distances", ElemType::f32, r.top_distances.data(), r.rows,
                   o.top);
    }
    commit_with_report(*out, o.out, report, t0);
  }
  summary("assign: %lld rows x %lld dims to %lld centres (%s) on %s, inertia %.6g\n",
          static_cast<long long>(r.rows), static_cast<long long>(r.dims), static_cast<long long>(k),
          o.metric.c_str(), r.device.c_str(), r.inertia);
  summary("  cluster sizes (largest first):%s\n", largest_first(r.sizes).c_str());
  if (out)
    summary("  wrote %s/{%s, %s, report.json}\n", o.out.dir.c_str(),
            array_file(o.out, "labels").c_str(), array_file(o.out, "distances").c_str());
  return 0;
}

Runner add_assign(CLI::App& app) {
  auto o = std::make_shared<AssignOptions>();
  auto* cmd = app.add_subcommand(
      "assign", "Assign rows to the nearest of given centres (the labels K-means gives them)");
  add_data_argument(cmd, o->data);
  cmd->add_option("--centroids", o->centroids,
                  "Centres, n_clusters x d: DIR/centroids.h5 of a kmeans run, c.npy, ...")
      ->required();
  cmd->add_option("--top", o->top,
                  "Also the M nearest centres of every row and the distances to them "
                  "(top_labels, top_distances: rows x M, nearest first)")
      ->type_name("M")
      ->check(at_least(1))
      ->capture_default_str();
  add_metric_option(cmd, o->metric);
  add_device_options(cmd, o->device, o->device_memory, "auto, cpu, cuda or cuda:N");
  add_precision_option(cmd, o->precision);
  add_data_options(cmd, o->data_opts);
  add_output_options(cmd, o->out);
  return [o] { return run_assign(*o); };
}

const Registration registered(25, "assign", add_assign);
}  // namespace

}  // namespace embcluster::cli
