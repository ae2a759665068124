// embcluster evaluate DATA --labels LABELS: silhouette (exact, sampled or simplified),
// Davies-Bouldin, Calinski-Harabasz, inertia and cluster sizes of a labelling.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "cli/checkpoint_options.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/metrics_report.h"
#include "cuda/device_error.h"
#include "embcluster/error.h"
#include "embcluster/memory.h"
#include "embcluster/metrics.h"

namespace embcluster::cli {

namespace {
nlohmann::json finite_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nullptr; }
}  // namespace

nlohmann::json silhouette_json(const SilhouetteResult& s) {
  nlohmann::json j;
  j["method"] = s.method;
  j["metric"] = to_string(s.metric);
  j["score"] = finite_or_null(s.score);
  j["rows_scored"] = s.rows_scored;
  if (s.method == "sampled") {
    j["std_error"] = s.std_error;
    j["ci95"] = {s.ci_low, s.ci_high};
    j["note"] =
        "rows sampled uniformly, each scored exactly against all rows; 95% interval = "
        "score -/+ 1.96 sd / sqrt(rows_scored)";
  }
  j["streamed"] = s.streamed;
  j["data_passes"] = s.data_passes;
  j["device"] = s.device;
  if (!s.device_note.empty()) j["device_note"] = s.device_note;
  j["seconds"] = s.seconds;
  nlohmann::json clusters = nlohmann::json::array();
  for (size_t c = 0; c < s.cluster_labels.size(); ++c)
    clusters.push_back({{"label", s.cluster_labels[c]},
                        {"size", s.cluster_sizes[c]},
                        {"scored", s.cluster_scored[c]},
                        {"silhouette", finite_or_null(s.cluster_means[c])}});
  j["clusters"] = clusters;
  return j;
}

nlohmann::json cluster_metrics_json(const ClusterMetrics& m) {
  nlohmann::json j;
  j["davies_bouldin"] = m.davies_bouldin;
  j["calinski_harabasz"] = m.calinski_harabasz;
  j["inertia"] = m.inertia;
  j["cluster_labels"] = m.cluster_labels;
  j["cluster_sizes"] = m.cluster_sizes;
  j["noise"] = {{"rows", m.noise_rows}, {"included", m.noise_included}};
  if (m.noise_rows > 0 && !m.noise_included)
    j["noise"]["note"] = "rows labelled -1 are left out of every metric (silhouette NaN)";
  j["seconds"] = m.seconds;
  return j;
}

nlohmann::json clustering_metrics_json(Source& data, const std::vector<int32_t>& labels,
                                       uint64_t seed, int64_t sample, const std::string& why,
                                       const ExecutionContext& ctx, const MetricsCallback& progress,
                                       Metric metric) {
  MetricsParams p;
  p.seed = seed;
  p.metric = metric;
  nlohmann::json j;
  try {
    j = cluster_metrics_json(cluster_metrics(data, labels, p, ctx));
    if (sample <= 0) return j;
    if (data.rows() > kReportExactRows) p.sample_size = std::min(sample, data.rows());
    j["silhouette"] = silhouette_json(silhouette(data, labels, p, ctx, progress));
    if (p.sample_size > 0)
      j["silhouette"]["sampled_because"] = "more than " + std::to_string(kReportExactRows) +
                                           " rows: " + std::to_string(p.sample_size) +
                                           " sampled (seed " + std::to_string(seed) + "; " + why +
                                           ")";
  } catch (const CudaError&) {
    throw;  // a fault on the device is never an entry of the report
  } catch (const Cancelled&) {
    throw;
  } catch (const Error& e) {  // labels the metrics do not accept (one cluster, ...)
    j = {{"error", e.what()}};
  }
  return j;
}

MetricsCallback silhouette_progress(ProgressLine& line) {
  return [&line](const MetricsProgress& pr) {
    if (pr.rows_done == 0) return;  // the start: nothing to show yet
    char buf[160];
    const double frac = pr.rows_total > 0 ? double(pr.rows_done) / pr.rows_total : 1.0;
    const double eta = frac > 0 ? pr.elapsed_s * (1 - frac) / frac : 0;
    std::snprintf(buf, sizeof buf, "silhouette: %lld/%lld rows (%.0f%%)  %s  ETA %s",
                  static_cast<long long>(pr.rows_done), static_cast<long long>(pr.rows_total),
                  100 * frac, human_rate(pr.rows_done / std::max(1e-9, pr.elapsed_s)).c_str(),
                  human_seconds(eta).c_str());
    line.update(buf, pr.rows_done == pr.rows_total);
  };
}

std::string metrics_summary(const nlohmann::json& m) {
  if (m.contains("error")) return "";
  char buf[256];
  std::string out;
  double seconds = m.value("seconds", 0.0);
  if (m.contains("silhouette")) {
    const auto& s = m["silhouette"];
    seconds += s.value("seconds", 0.0);
    if (s["score"].is_number()) {
      if (s.contains("ci95"))
        std::snprintf(buf, sizeof buf, "silhouette %.4f [%.4f, %.4f] (%lld sampled rows), ",
                      s["score"].get<double>(), s["ci95"][0].get<double>(),
                      s["ci95"][1].get<double>(), s["rows_scored"].get<long long>());
      else
        std::snprintf(buf, sizeof buf, "silhouette %.4f, ", s["score"].get<double>());
      out += buf;
    }
  }
  const std::pair<const char*, const char*> scores[] = {{"davies_bouldin", "Davies-Bouldin"},
                                                        {"calinski_harabasz", "Calinski-Harabasz"}};
  for (const auto& [key, name] : scores) {
    if (!m.contains(key) || !m[key].is_number()) continue;
    std::snprintf(buf, sizeof buf, "%s %.6g, ", name, m[key].get<double>());
    out += buf;
  }
  return out + "in " + human_seconds(seconds);
}

namespace {

struct EvaluateOptions {
  std::string data, labels;
  MetricsParams params;
  std::string metric = "euclidean";  // parsed into params when the command runs
  std::string device = "auto";
  bool simplified = false;
  DeviceMemoryOption device_memory;
  DataOptions data_opts;
  OutputOptions out;
  CheckpointOptions ckpt;
};

// --checkpoint DIR / --resume DIR into the params: the exact silhouette only.
void set_checkpoint(EvaluateOptions& o) {
  const CheckpointChoice c = checkpoint_choice(o.ckpt, "silhouette.ckpt", o.data, o.data_opts);
  if (c.dir.empty()) return;
  require(!o.simplified,
          "--checkpoint and --resume save the exact silhouette: not with --simplified");
  require(o.params.sample_size == 0,
          "--checkpoint and --resume save the exact silhouette: not with --sample");
  o.params.checkpoint.dir = c.dir;
  o.params.checkpoint.resume = c.resume;
  o.params.checkpoint.identity = c.identity;
}

void print_scores(const SilhouetteResult& s, const ClusterMetrics& m, const Source& src,
                  const EvaluateOptions& o) {
  summary("evaluate: %lld rows x %lld dims, %zu clusters, %s\n", static_cast<long long>(src.rows()),
          static_cast<long long>(src.cols()), m.cluster_labels.size(), to_string(s.metric).c_str());
  if (m.noise_rows > 0)
    summary("  noise: %lld rows labelled -1 %s\n", static_cast<long long>(m.noise_rows),
            m.noise_included ? "counted as a cluster" : "left out of every metric");
  if (s.method == "sampled")
    summary(
        "  silhouette %.6f +/- %.6f (95%% CI %.6f .. %.6f; %lld rows sampled, each "
        "against all rows)\n",
        s.score, 1.96 * s.std_error, s.ci_low, s.ci_high, static_cast<long long>(s.rows_scored));
  else
    summary("  silhouette %.6f (%s, %lld rows, %s)\n", s.score, s.method.c_str(),
            static_cast<long long>(s.rows_scored), s.device.c_str());
  summary("  Davies-Bouldin %.6f, Calinski-Harabasz %.6g, inertia %.6g\n", m.davies_bouldin,
          m.calinski_harabasz, m.inertia);
  std::string line;
  const size_t shown = std::min<size_t>(s.cluster_labels.size(), 20);
  for (size_t c = 0; c < shown; ++c) {
    char buf[96];
    std::snprintf(buf, sizeof buf, " %lld:%lld/%.3f", static_cast<long long>(s.cluster_labels[c]),
                  static_cast<long long>(s.cluster_sizes[c]), s.cluster_means[c]);
    line += buf;
  }
  if (shown < s.cluster_labels.size()) line += " ...";
  summary("  clusters (label:size/silhouette):%s\n", line.c_str());
  if (!o.out.dir.empty())
    summary("  wrote %s/{%s, report.json}\n", o.out.dir.c_str(),
            array_file(o.out, "silhouette_samples").c_str());
}

int run_evaluate(EvaluateOptions& o) {
  auto& p = o.params;
  p.metric = parse_metric(o.metric);
  const ExecutionContext ctx = command_context(o.device, &o.device_memory);
  auto source = open_data(o.data, o.data_opts);
  const std::vector<int32_t> labels = read_labels(o.labels, source->rows());
  set_checkpoint(o);

  std::unique_ptr<OutputDir> out;
  if (!o.out.dir.empty() && globals().lead()) {  // rank 0 of an MPI launch writes
    out = open_output_dir(o.out);
    out->stage(array_file(o.out, "silhouette_samples"));  // an existing output stops us now
    out->stage("report.json");
  }
  const auto t0 = std::chrono::steady_clock::now();
  SilhouetteResult s;
  std::string announced;  // the device note, once shown
  const ClusterMetrics m = cluster_metrics(*source, labels, p, ctx, o.simplified ? &s : nullptr);
  if (!o.simplified) {
    ProgressLine line;
    const MetricsCallback show = silhouette_progress(line);
    s = silhouette(*source, labels, p, ctx, [&](const MetricsProgress& pr) {
      if (!pr.device_note.empty()) ProgressLine::note(announced = pr.device_note);
      show(pr);
    });
    line.finish();
  }
  if (!s.device_note.empty() && s.device_note != announced) ProgressLine::note(s.device_note);
  if (out) {
    auto report = report_header("evaluate", *source);
    report["labels"] = o.labels;
    report["parameters"] = {{"metric", to_string(p.metric)},
                            {"sample_size", p.sample_size},
                            {"seed", p.seed},
                            {"include_noise", p.include_noise},
                            {"simplified", o.simplified},
                            {"scale", o.data_opts.scale},
                            {"device", to_string(ctx.device)}};
    if (globals().ranks() > 1)
      report["ranks"] = {{"n", globals().ranks()},
                         {"note", "the silhouette's rows scored by the rank that holds them"}};
    report.update(cluster_metrics_json(m));
    if (p.metric == Metric::Cosine)
      report["cosine_note"] =
          "Davies-Bouldin, Calinski-Harabasz and inertia are measured "
          "(euclidean) on the L2-normalised rows";
    report["silhouette"] = silhouette_json(s);
    if (!p.checkpoint.dir.empty())
      report["checkpoint"] = {{"file", p.checkpoint.dir + "/silhouette.ckpt"},
                              {"resumed_rows", s.resumed_rows}};
    write_staged(*out, o.out, "silhouette_samples", ElemType::f32, s.samples.data(), source->rows(),
                 0);
    commit_with_report(*out, o.out, report, t0);
  }
  print_scores(s, m, *source, o);
  return 0;
}

Runner add_evaluate(CLI::App& app) {
  auto o = std::make_shared<EvaluateOptions>();
  auto& p = o->params;
  auto* cmd = app.add_subcommand(
      "evaluate", "Cluster quality of a labelling: silhouette, Davies-Bouldin, Calinski-Harabasz");
  add_data_argument(cmd, o->data);
  cmd->add_option("--labels", o->labels, "Labels, one per row: file.h5:/labels, l.npy, l.csv")
      ->required();
  add_metric_option(cmd, o->metric);
  cmd->add_option("--sample", p.sample_size,
                  "Silhouette of N sampled rows, each against all "
                  "rows, with a 95% interval (0 = exact)")
      ->check(at_least(0, "0 = exact"))
      ->capture_default_str();
  cmd->add_option("--seed,--random-state", p.seed, "Seed of the sample")->capture_default_str();
  cmd->add_flag("--simplified", o->simplified,
                "Simplified silhouette: distances to the centroids, O(n k d)");
  cmd->add_flag("--include-noise", p.include_noise,
                "Count label -1 as a cluster (default: noise rows are left out)");
  add_device_options(cmd, o->device, o->device_memory,
                     "Silhouette on auto, cpu, cuda or cuda:N (auto: a GPU when present)");
  cmd->add_option("--checkpoint", o->ckpt.checkpoint,
                  "Save the exact silhouette's rows in DIR/silhouette.ckpt every "
                  "--checkpoint-every blocks of rows and at the end (kept after the run)")
      ->type_name("DIR");
  o->ckpt.every = cmd->add_option("--checkpoint-every", p.checkpoint.every,
                                  "Blocks of scored rows between checkpoints")
                      ->check(at_least(1))
                      ->capture_default_str();
  cmd->add_option("--resume", o->ckpt.resume,
                  "Continue from DIR/silhouette.ckpt (same data, labels and options; the result is "
                  "identical to an uninterrupted checkpointed run) and keep saving there")
      ->type_name("DIR");
  add_data_options(cmd, o->data_opts);
  add_output_options(cmd, o->out);
  return [o] { return run_evaluate(*o); };
}

const Registration registered(40, "evaluate", add_evaluate);

}  // namespace

}  // namespace embcluster::cli
