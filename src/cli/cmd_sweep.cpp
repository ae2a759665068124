// embcluster sweep DATA --k 2:30: K-means for each k with inertia (the elbow), sampled silhouette,
// Davies-Bouldin and Calinski-Harabasz, and a suggested k.
#include <chrono>
#include <cmath>
#include <cstdio>

#include "cli/commands.h"
#include "cli/common.h"
#include "embcluster/error.h"
#include "embcluster/sweep.h"

namespace embcluster::cli {

namespace {

struct SweepOptions {
  std::string data, k;
  SweepParams params;
  std::string init = "k-means++", device = "auto", precision = "fp32", metric = "euclidean";
  DeviceMemoryOption device_memory;
  DataOptions data_opts;
  OutputOptions out;
};

nlohmann::json to_json(const SweepResult& r, const SweepOptions& o) {
  const auto& kp = o.params.kmeans;
  nlohmann::json j;
  j["parameters"] = {{"k", r.points.empty() ? nlohmann::json() : nlohmann::json(o.params.ks)},
                     {"init", o.init},
                     {"n_init", kp.n_init},
                     {"max_iter", kp.max_iter},
                     {"tol", kp.tol},
                     {"seed", kp.seed},
                     {"metric", o.metric},
                     {"silhouette_sample", o.params.silhouette_sample}};
  nlohmann::json pts = nlohmann::json::array();
  for (const auto& p : r.points)
    pts.push_back({{"k", p.k},
                   {"inertia", p.inertia},
                   {"iterations", p.iterations},
                   {"converged", p.converged},
                   {"silhouette", p.silhouette},
                   {"silhouette_ci95", {p.silhouette_low, p.silhouette_high}},
                   {"davies_bouldin", p.davies_bouldin},
                   {"calinski_harabasz", p.calinski_harabasz},
                   {"cluster_sizes", p.sizes},
                   {"seconds", p.seconds}});
  j["points"] = pts;
  j["elbow_k"] = r.elbow_k;
  j["elbow_method"] = "Kneedle on the inertia curve (both axes scaled to [0, 1])";
  j["best_silhouette_k"] = r.best_silhouette_k;
  j["suggested_k"] = r.suggested_k;
  j["suggested_because"] = "highest silhouette";
  j["data_in_memory"] = r.data_in_memory;
  j["device"] = r.device;
  j["seconds"] = r.seconds;
  if (r.shared_silhouette_s > 0) j["shared_silhouette_s"] = r.shared_silhouette_s;
  return j;
}

void print_summary(const SweepResult& r, const SweepOptions& o) {
  summary("sweep: %zu values of k on %s%s\n", r.points.size(), r.device.c_str(),
          r.data_in_memory ? " (data read once, kept in memory)" : " (streamed)");
  summary("  %6s %14s %10s %21s %10s %12s %8s\n", "k", "inertia", "silhouette", "95% interval",
          "DB", "CH", "seconds");
  for (const auto& p : r.points)
    summary("  %6lld %14.6g %10.4f [%8.4f, %8.4f] %10.4f %12.6g %8.2f\n",
            static_cast<long long>(p.k), p.inertia, p.silhouette, p.silhouette_low,
            p.silhouette_high, p.davies_bouldin, p.calinski_harabasz, p.seconds);
  summary("  elbow (Kneedle on the inertia): k = %lld; highest silhouette: k = %lld\n",
          static_cast<long long>(r.elbow_k), static_cast<long long>(r.best_silhouette_k));
  summary("  suggested k: %lld (then: embcluster kmeans %s -k %lld)\n",
          static_cast<long long>(r.suggested_k), o.data.c_str(),
          static_cast<long long>(r.suggested_k));
  if (!o.out.dir.empty()) summary("  wrote %s/sweep.json\n", o.out.dir.c_str());
}

int run_sweep(SweepOptions& o) {
  auto& p = o.params;
  p.ks = parse_k_list(o.k);
  p.kmeans.init = parse_init(o.init);
  if (p.kmeans.init == InitMethod::File)
    throw_error("--init '", o.init,
                "': a sweep takes k-means++, k-means|| or random (a file fixes k)");
  p.kmeans.precision = parse_precision(o.precision);
  p.kmeans.metric = parse_metric(o.metric);
  const ExecutionContext ctx = command_context(o.device, &o.device_memory);
  auto source = open_data(o.data, o.data_opts);

  std::unique_ptr<OutputDir> out;
  if (!o.out.dir.empty()) {
    out = open_output_dir(o.out);
    out->stage("sweep.json");
  }
  ProgressLine line;
  const auto t0 = std::chrono::steady_clock::now();
  const SweepResult r = sweep(*source, p, ctx, [&](int64_t k, size_t i, size_t count) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "sweep: k = %lld (%zu of %zu)", static_cast<long long>(k), i + 1,
                  count);
    line.update(buf, true);
  });
  line.finish();
  if (out) {
    auto report = report_header("sweep", *source);
    report.update(to_json(r, o));
    commit_with_report(*out, o.out, report, t0, "sweep.json");
  }
  print_summary(r, o);
  return 0;
}

Runner add_sweep(CLI::App& app) {
  auto o = std::make_shared<SweepOptions>();
  auto& kp = o->params.kmeans;
  auto* cmd =
      app.add_subcommand("sweep",
                         "K-means for several k: inertia (elbow), silhouette, Davies-Bouldin, "
                         "Calinski-Harabasz, and a suggested k");
  add_data_argument(cmd, o->data);
  cmd->add_option("--k", o->k, "The k values: first:last[:step] (e.g. 2:30) or a list 5,10,20")
      ->required();
  cmd->add_option("--init", o->init, "k-means++, k-means|| (quote it in a shell) or random")
      ->capture_default_str();
  add_kmeans_parallel_options(cmd, kp.oversampling_factor, kp.init_rounds);
  cmd->add_option("--n-init", kp.n_init,
                  "Runs per k (default: 1 for k-means++ and k-means||, 10 for random)");
  cmd->add_option("--max-iter", kp.max_iter, "Maximum iterations per run")->capture_default_str();
  cmd->add_option("--tol", kp.tol, "Tolerance on the centre shift")->capture_default_str();
  cmd->add_option("--seed,--random-state", kp.seed, "Random seed")->capture_default_str();
  cmd->add_option("--silhouette-sample", o->params.silhouette_sample,
                  "Rows of each k's silhouette, the same rows for every k (0 = exact)")
      ->check(at_least(0, "0 = exact"))
      ->capture_default_str();
  add_metric_option(cmd, o->metric);
  add_device_options(cmd, o->device, o->device_memory, "auto, cpu, cuda or cuda:N");
  add_precision_option(cmd, o->precision);
  add_data_options(cmd, o->data_opts);
  add_output_options(cmd, o->out);
  return [o] { return run_sweep(*o); };
}

const Registration registered(22, "sweep", add_sweep);
}  // namespace

}  // namespace embcluster::cli
