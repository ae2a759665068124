// embcluster kmeans DATA --n-clusters K: Lloyd K-means on the CPU or a GPU, streamed under
// --memory.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <utility>

#include "cli/checkpoint_options.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/metrics_report.h"
#include "embcluster/error.h"
#include "embcluster/kmeans.h"
#include "embcluster/memory.h"
#include "embcluster/metrics.h"

namespace embcluster::cli {

namespace {

struct KMeansOptions {
  std::string data;
  KMeansParams params;
  // Parsed into params and the context when the command runs.
  std::string init = "k-means++", device = "auto", precision = "fp32", metric = "euclidean";
  std::string algorithm = "auto";
  std::string weights;  // --weights FILE
  DataOptions data_opts;
  OutputOptions out;
  DeviceMemoryOption device_memory;
  int64_t metrics_sample = -1;  // -1: chosen from the clustering's work
  bool no_metrics = false;
  CheckpointOptions ckpt;
};

// --checkpoint DIR / --resume DIR into the params.
void set_checkpoint(KMeansOptions& o) {
  const CheckpointChoice c = checkpoint_choice(o.ckpt, "kmeans.ckpt", o.data, o.data_opts);
  o.params.checkpoint.dir = c.dir;
  o.params.checkpoint.resume = c.resume;
  o.params.checkpoint.identity = c.identity;
}

// Rows of the report's sampled silhouette, and why: --metrics-sample, or by default
// min(10000, max(1000, k x iterations)), so that scoring each of them against all rows costs no
// more than the Lloyd iterations did.
std::pair<int64_t, std::string> report_sample(const KMeansOptions& o, const KMeansResult& r) {
  if (o.metrics_sample >= 0) return {o.metrics_sample, "--metrics-sample"};
  const int64_t work = o.params.n_clusters * std::max(1, r.iterations);
  return {std::clamp<int64_t>(work, 1000, kReportExactRows),
          "default min(10000, max(1000, k x iterations)); --metrics-sample to change"};
}

nlohmann::json to_json(const KMeansResult& r, const KMeansOptions& o, const ExecutionContext& ctx) {
  const KMeansParams& p = o.params;
  nlohmann::json j;
  j["parameters"] = {{"n_clusters", p.n_clusters},
                     {"init", p.init == InitMethod::File ? p.init_file : to_string(p.init)},
                     {"n_init", r.run_inertia.size()},
                     {"max_iter", p.max_iter},
                     {"algorithm", to_string(p.algorithm)},
                     {"tol", p.tol},
                     {"seed", p.seed},
                     {"device", to_string(ctx.device)},
                     {"precision", to_string(p.precision)},
                     {"metric", to_string(p.metric)},
                     {"init_sample", r.init_sample_rows}};
  if (p.init == InitMethod::KMeansParallel) {
    j["parameters"]["oversampling_factor"] = p.oversampling_factor;
    j["parameters"]["init_rounds"] = p.init_rounds;
  }
  if (!p.sample_weight.empty()) {
    double total = 0;
    for (double w : p.sample_weight) total += w;
    j["parameters"]["sample_weight"] = o.weights;
    j["total_weight"] = total;
  }
  j["device"] = r.device;
  j["iterations"] = r.iterations;
  j["converged"] = r.converged;
  j["inertia"] = r.inertia;
  j["tol_abs"] = r.tol_abs;
  j["run_inertia"] = r.run_inertia;
  j["best_run"] = r.best_run;
  nlohmann::json hist = nlohmann::json::array();
  for (size_t i = 0; i < r.history.size(); ++i)
    hist.push_back({{"iteration", i + 1},
                    {"inertia", r.history[i].inertia},
                    {"centre_shift", r.history[i].centre_shift}});
  j["history"] = hist;
  j["cluster_sizes"] = r.sizes;
  j["empty_cluster_relocations"] = r.empty_cluster_relocations;
  j["streamed"] = r.streamed;
  j["block_rows"] = r.block_rows;
  if (!r.ranks.empty()) j["ranks"] = ranks_json(r.ranks);
  nlohmann::json t;
  double assign_s = 0;
  for (const auto& [name, s] : r.timings) {
    t[name] = s;
    if (name == "assign") assign_s = s;
  }
  j["timings_s"] = t;
  // Every Lloyd iteration plus the final assignment reads all rows once.
  const double passes = r.run_inertia.size() > 1 ? 0 : r.iterations + 1;
  if (assign_s > 0 && passes > 0) j["rows_per_s"] = r.rows * passes / assign_s;
  for (const auto& [k, v] : r.notes) j["notes"][k] = v;
  return j;
}

// Tabular data: the mean of every named column per cluster against the overall mean, in the
// data's units (read again without --scale).
nlohmann::json profiles_json(const KMeansOptions& o, const KMeansResult& r,
                             const ExecutionContext& ctx) {
  auto raw = open_raw_data(o.data, o.data_opts);
  const ClusterProfiles p = cluster_profiles(*raw, r.labels, o.params.n_clusters, ctx);
  nlohmann::json clusters = nlohmann::json::array();
  for (int64_t c = 0; c < p.k; ++c) {
    nlohmann::json mean = nlohmann::json::array(), diff = nlohmann::json::array();
    for (int64_t j = 0; j < p.d; ++j) {
      const double m = p.means[c * p.d + j];
      mean.push_back(std::isfinite(m) ? nlohmann::json(m) : nlohmann::json());
      diff.push_back(std::isfinite(m) ? nlohmann::json(m - p.overall[j]) : nlohmann::json());
    }
    clusters.push_back(
        {{"label", c}, {"size", p.sizes[c]}, {"mean", mean}, {"minus_overall", diff}});
  }
  return {{"columns", raw->column_names()}, {"overall_mean", p.overall}, {"clusters", clusters}};
}

void print_summary(const KMeansResult& r, const KMeansOptions& o, const nlohmann::json& metrics) {
  double total = 0;
  for (const auto& [name, s] : r.timings)
    if (name == "total") total = s;
  summary("kmeans: %lld rows x %lld dims, %lld clusters%s on %s%s\n",
          static_cast<long long>(r.rows), static_cast<long long>(r.dims),
          static_cast<long long>(o.params.n_clusters),
          o.params.metric == Metric::Cosine ? " (spherical, cosine)" : "", r.device.c_str(),
          r.streamed ? " (streamed)" : "");
  summary("  iterations %d (%s), inertia %.6g, time %s\n", r.iterations,
          r.converged ? "converged" : "max_iter reached", r.inertia, human_seconds(total).c_str());
  summary("  cluster sizes (largest first):%s\n", largest_first(r.sizes).c_str());
  for (const auto& [k, v] : r.notes)
    if (k == "distinct_clusters") summary("  note: %s\n", v.c_str());
  const std::string scores = metrics.is_object() ? metrics_summary(metrics) : "";
  if (!scores.empty()) summary("  %s\n", scores.c_str());
  if (!o.out.dir.empty())
    summary("  wrote %s/{%s, %s, report.json}\n", o.out.dir.c_str(),
            array_file(o.out, "labels").c_str(), array_file(o.out, "centroids").c_str());
}

int run_kmeans(KMeansOptions& o) {
  auto& p = o.params;
  p.init = parse_init(o.init);
  if (p.init == InitMethod::File) p.init_file = o.init;
  p.precision = parse_precision(o.precision);
  p.metric = parse_metric(o.metric);
  p.algorithm = parse_kmeans_algorithm(o.algorithm);
  const ExecutionContext ctx = command_context(o.device, &o.device_memory);
  auto source = open_data(o.data, o.data_opts);
  if (!o.weights.empty()) {
    p.sample_weight = read_sample_weight(o.weights, source->rows());
    const auto positive = std::count_if(p.sample_weight.begin(), p.sample_weight.end(),
                                        [](double w) { return w > 0; });
    require(positive >= p.n_clusters, "weights ", o.weights, ": only ", positive,
            " rows have a weight > 0, fewer than --n-clusters=", p.n_clusters);
  }
  set_checkpoint(o);

  std::unique_ptr<OutputDir> out;
  if (!o.out.dir.empty() && globals().lead()) {  // rank 0 of an MPI launch writes
    out = open_output_dir(o.out);
    // Reserve every name now: an existing output stops the run before any work.
    out->stage(array_file(o.out, "labels"));
    out->stage(array_file(o.out, "centroids"));
    out->stage("report.json");
  }

  ProgressLine line;
  const auto t0 = std::chrono::steady_clock::now();
  KMeansResult r = kmeans(*source, p, ctx, [&](const KMeansProgress& pr) {
    char buf[256];
    const std::string run =
        pr.n_init > 1 ? " run " + std::to_string(pr.run + 1) + "/" + std::to_string(pr.n_init) : "";
    if (pr.phase == "device") {
      if (!pr.device_note.empty()) ProgressLine::note(pr.device_note);
      return;
    }
    if (pr.phase == "read") {
      const double left = static_cast<double>(pr.rows_total - pr.rows_done);
      std::snprintf(buf, sizeof buf, "kmeans: reading %.1f%% of %lld rows  %s  ETA %s",
                    100.0 * pr.rows_done / pr.rows_total, static_cast<long long>(pr.rows_total),
                    human_rate(pr.rows_per_s).c_str(),
                    human_seconds(left / std::max(1.0, pr.rows_per_s)).c_str());
      line.update(buf);
      return;
    }
    if (pr.phase == "init") {
      std::snprintf(buf, sizeof buf, "kmeans%s: initialising (%s)", run.c_str(), o.init.c_str());
      line.update(buf, true);
      return;
    }
    const double per_iter = pr.elapsed_s / pr.iteration;
    std::snprintf(buf, sizeof buf,
                  "kmeans%s: iteration %d/%d  inertia %.6g  shift %.3g  %s  ETA %s", run.c_str(),
                  pr.iteration, pr.max_iter, pr.inertia, pr.shift,
                  human_rate(pr.rows_per_s).c_str(),
                  human_seconds(per_iter * (pr.max_iter - pr.iteration)).c_str());
    line.update(buf, pr.iteration == 1);
  });
  line.finish();

  nlohmann::json metrics;
  if (out && !o.no_metrics) {
    const auto [sample, why] = report_sample(o, r);
    ProgressLine mline;
    ExecutionContext here = ctx;  // on rank 0 alone, which holds every label
    here.comm = nullptr;
    metrics = clustering_metrics_json(*source, r.labels, p.seed, sample, why, here,
                                      silhouette_progress(mline), p.metric);
    mline.finish();
  }
  if (out) {
    auto report = report_header("kmeans", *source);
    report.update(to_json(r, o, ctx));
    if (!o.no_metrics) report["metrics"] = metrics;
    if (!source->column_names().empty()) report["profiles"] = profiles_json(o, r, ctx);
    write_staged(*out, o.out, "labels", ElemType::i32, r.labels.data(), r.rows, 0);
    write_staged(*out, o.out, "centroids", ElemType::f32, r.centroids.data(), p.n_clusters, r.dims);
    commit_with_report(*out, o.out, report, t0);
  }
  print_summary(r, o, metrics);
  return 0;
}

}  // namespace

namespace {
Runner add_kmeans(CLI::App& app) {
  auto o = std::make_shared<KMeansOptions>();
  auto& p = o->params;
  auto* cmd = app.add_subcommand("kmeans", "K-means (Lloyd) clustering");
  add_data_argument(cmd, o->data);
  cmd->add_option("-k,--n-clusters", p.n_clusters, "Number of clusters")->required();
  cmd->add_option("--init", o->init,
                  "k-means++ (greedy, as scikit-learn), k-means|| (scalable k-means++: a few "
                  "rounds drawing many candidates at once, then k-means++ over them; quote it in "
                  "a shell), random, or a file of initial centres")
      ->capture_default_str();
  add_kmeans_parallel_options(cmd, p.oversampling_factor, p.init_rounds);
  cmd->add_option("--n-init", p.n_init,
                  "Runs from different seeds; the best inertia wins "
                  "(default: 1 for k-means++ and k-means||, 10 for random)");
  cmd->add_option("--max-iter", p.max_iter, "Maximum iterations per run")->capture_default_str();
  cmd->add_option("--tol", p.tol,
                  "Tolerance on the centre shift, relative to the mean feature "
                  "variance")
      ->capture_default_str();
  cmd->add_option("--algorithm", o->algorithm,
                  "lloyd: every row against every centre each pass; elkan, hamerly, yinyang: "
                  "bounds on each row's distances (per centre, one, k/10 groups) skip most of them "
                  "after the first iterations, the same labels as lloyd; auto: yinyang's groups as "
                  "the memory budget allows")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "lloyd", "elkan", "hamerly", "yinyang"}));
  cmd->add_option("--seed,--random-state", p.seed, "Random seed")->capture_default_str();
  cmd->add_option("--init-sample", p.init_sample,
                  "Rows sampled for the initialisation "
                  "(default: max(100000, 100 k))");
  cmd->add_option("--weights,--sample-weight", o->weights,
                  "Weight of every row (one value per row: HDF5 /weights or its only dataset, "
                  ".npy, CSV column with a header): weighted k-means++, centres and inertia, as "
                  "scikit-learn's sample_weight; the report's quality metrics stay unweighted")
      ->type_name("FILE");
  add_metric_option(cmd, o->metric);
  add_device_options(cmd, o->device, o->device_memory, "auto, cpu, cuda or cuda:N");
  add_precision_option(cmd, o->precision);
  cmd->add_option("--metrics-sample", o->metrics_sample,
                  "Rows of the report's silhouette when there are more than 10000, each scored "
                  "against all rows; 0 leaves it out (default: min(10000, max(1000, k x "
                  "iterations)))")
      ->check(at_least(0, "0 = none"));
  cmd->add_flag("--no-metrics", o->no_metrics,
                "Leave the quality metrics (silhouette, Davies-Bouldin, Calinski-Harabasz) out of "
                "the report");
  cmd->add_option("--checkpoint", o->ckpt.checkpoint,
                  "Save the run's state in DIR/kmeans.ckpt every --checkpoint-every iterations "
                  "and at the end of every run (kept after the run)")
      ->type_name("DIR");
  o->ckpt.every =
      cmd->add_option("--checkpoint-every", p.checkpoint.every, "Iterations between checkpoints")
          ->check(at_least(1))
          ->capture_default_str();
  cmd->add_option("--resume", o->ckpt.resume,
                  "Continue from DIR/kmeans.ckpt (same data and parameters; the result is "
                  "identical to an uninterrupted run) and keep saving there")
      ->type_name("DIR");
  add_data_options(cmd, o->data_opts);
  add_output_options(cmd, o->out);
  return [o] { return run_kmeans(*o); };
}

const Registration registered(20, "kmeans", add_kmeans);
}  // namespace

}  // namespace embcluster::cli
