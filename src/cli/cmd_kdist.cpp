// embcluster kdist DATA --k M: the sorted k-distance curve of a sample of rows (against every row),
// its quantiles, and an eps for DBSCAN at its knee.
#include <chrono>
#include <cstdio>

#include "cli/commands.h"
#include "cli/common.h"
#include "embcluster/dbscan.h"
#include "embcluster/error.h"
#include "embcluster/memory.h"

namespace embcluster::cli {

namespace {

// The quantiles of KDistResult, in order.
const char* const kNames[] = {"min", "10%", "50%", "90%", "99%", "max"};

struct KDistOptions {
  std::string data;
  KDistParams params;
  std::string metric = "euclidean";  // parsed into params when the command runs
  DataOptions data_opts;
  OutputOptions out;
};

int run_kdist(KDistOptions& o) {
  auto& p = o.params;
  p.metric = parse_metric(o.metric);
  const ExecutionContext ctx = command_context();
  require(p.k >= 1, "k=", p.k, " must be at least 1");
  require(p.sample >= 0, "sample=", p.sample, " must be >= 0 (0 = every row)");
  auto source = open_data(o.data, o.data_opts);
  require(p.k <= source->rows(), "k=", p.k, " must be at most the number of rows (", source->rows(),
          ")");

  std::unique_ptr<OutputDir> out;
  if (!o.out.dir.empty() && globals().lead()) {  // rank 0 of an MPI launch writes
    out = open_output_dir(o.out);
    out->stage(array_file(o.out, "kdist"));
    out->stage("report.json");
  }

  ProgressLine line;
  const auto t0 = std::chrono::steady_clock::now();
  KDistResult r = kdist(*source, p, ctx, [&](const DBSCANProgress& pr) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "kdist: %5.1f%% of the rows  elapsed %s", 100.0 * pr.fraction,
                  human_seconds(pr.elapsed_s).c_str());
    line.update(buf);
  });
  line.finish();

  const int64_t m = static_cast<int64_t>(r.kdist.size());
  if (out) {
    auto report = report_header("kdist", *source);
    report["parameters"] = {{"k", p.k}, {"sample", m}, {"seed", p.seed},
                            {"metric", to_string(p.metric)}};
    report["k_counts_the_row_itself"] = true;
    nlohmann::json q;
    for (size_t i = 0; i < r.quantiles.size(); ++i) q[kNames[i]] = r.quantiles[i].second;
    report["quantiles"] = q;
    report["knee_index"] = r.knee;
    report["suggested_eps"] = r.suggested_eps;
    nlohmann::json t;
    for (const auto& [name, s] : r.timings) t[name] = s;
    report["timings_s"] = t;
    if (!r.ranks.empty()) report["ranks"] = ranks_json(r.ranks);
    write_staged(*out, o.out, "kdist", ElemType::f32, r.kdist.data(), m, 0);
    commit_with_report(*out, o.out, report, t0);
  }

  summary(
      "kdist: distance to the %lld-th nearest row (the row itself counts as the first, as "
      "DBSCAN's min_samples), %lld of %lld rows, %s\n",
      static_cast<long long>(p.k), static_cast<long long>(m), static_cast<long long>(r.rows_total),
      to_string(p.metric).c_str());
  summary("  quantiles:");
  for (size_t i = 0; i < r.quantiles.size(); ++i)
    summary("  %s %.6g", kNames[i], r.quantiles[i].second);
  if (r.suggested_eps <= 0) {
    summary(
        "\n  no eps to suggest: every sampled row has %lld identical rows "
        "(counting itself), so any eps > 0 joins them; DBSCAN needs eps > 0\n",
        static_cast<long long>(p.k));
  } else {
    summary("\n  suggested eps (knee of the sorted curve, %.1f%% of the rows below it): %.6g\n",
            m > 1 ? 100.0 * r.knee / (m - 1) : 100.0, r.suggested_eps);
    summary("  then: embcluster dbscan %s --eps %.6g --min-samples %lld%s\n", o.data.c_str(),
            r.suggested_eps, static_cast<long long>(p.k),
            p.metric == Metric::Cosine ? " --metric cosine" : "");
  }
  if (out)
    summary("  wrote %s/{%s, report.json}\n", o.out.dir.c_str(),
            array_file(o.out, "kdist").c_str());
  return 0;
}

Runner add_kdist(CLI::App& app) {
  auto o = std::make_shared<KDistOptions>();
  auto& p = o->params;
  auto* cmd = app.add_subcommand("kdist",
                                 "k-distance curve of a sample of rows, its quantiles and "
                                 "an eps for DBSCAN at its knee");
  add_data_argument(cmd, o->data);
  cmd->add_option("--k,--min-samples", p.k,
                  "Neighbour rank, the row itself counting as the "
                  "first (use DBSCAN's min-samples)")
      ->required();
  cmd->add_option("--sample", p.sample, "Rows whose k-distance is computed (0 = every row)")
      ->capture_default_str();
  cmd->add_option("--seed", p.seed, "Seed of the sample")->capture_default_str();
  add_metric_option(cmd, o->metric);
  add_data_options(cmd, o->data_opts);
  add_output_options(cmd, o->out);
  return [o] { return run_kdist(*o); };
}

const Registration registered(35, "kdist", add_kdist);
}  // namespace

}  // namespace embcluster::cli
