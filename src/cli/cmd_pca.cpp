// embcluster pca DATA --n-components C: principal components of the rows (streamed), their
// explained variance, and the rows projected on them.
#include <chrono>
#include <cstdio>

#include "cli/commands.h"
#include "cli/common.h"
#include "embcluster/error.h"
#include "embcluster/pca.h"

namespace embcluster::cli {

namespace {

struct PcaOptions {
  std::string data;
  int64_t n_components = 2;
  bool no_projection = false;
  std::string device = "auto";
  DeviceMemoryOption device_memory;
  DataOptions data_opts;
  OutputOptions out;
};

int run_pca(PcaOptions& o) {
  const ExecutionContext ctx = command_context(o.device, &o.device_memory);
  require(o.data_opts.pca == 0,
          "--pca is a preparation step of the other commands; here use "
          "--n-components");
  auto source = open_data(o.data, o.data_opts);
  std::unique_ptr<OutputDir> out;
  if (!o.out.dir.empty()) {
    out = open_output_dir(o.out);
    out->stage(array_file(o.out, "components"));
    out->stage(array_file(o.out, "mean"));
    if (!o.no_projection) out->stage(array_file(o.out, "projected"));
    out->stage("report.json");
  }
  const auto t0 = std::chrono::steady_clock::now();
  ProgressLine::note("pca: mean and covariance of " + std::to_string(source->rows()) + " rows");
  const PCAModel m = fit_pca(*source, o.n_components, ctx);
  if (!m.device_note.empty()) ProgressLine::note(m.device_note);
  double kept = 0;
  for (double r : m.explained_variance_ratio) kept += r;
  if (out) {
    auto report = report_header("pca", *source);
    report["parameters"] = {{"n_components", o.n_components}};
    report["explained_variance"] = m.explained_variance;
    report["explained_variance_ratio"] = m.explained_variance_ratio;
    report["total_variance"] = m.total_variance;
    report["seconds"] = m.seconds;
    report["device"] = m.device;
    if (!m.device_note.empty()) report["notes"]["device_note"] = m.device_note;
    write_staged(*out, o.out, "components", ElemType::f32, m.components.data(), m.n_components,
                 m.dims);
    const std::vector<float> mean(m.mean.begin(), m.mean.end());
    write_staged(*out, o.out, "mean", ElemType::f32, mean.data(), m.dims, 0);
    if (!o.no_projection) {
      auto projected = project_source(std::move(source), m);
      const std::vector<float> y = read_all(*projected);
      write_staged(*out, o.out, "projected", ElemType::f32, y.data(), m.rows, m.n_components);
      source = std::move(projected);
    }
    commit_with_report(*out, o.out, report, t0);
  }
  summary("pca: %lld rows x %lld dims, %lld components, %.2f%% of the variance, on %s\n",
          static_cast<long long>(m.rows), static_cast<long long>(m.dims),
          static_cast<long long>(m.n_components), 100 * kept, m.device.c_str());
  summary("  explained variance ratio:");
  for (size_t i = 0; i < m.explained_variance_ratio.size() && i < 10; ++i)
    summary(" %.4f", m.explained_variance_ratio[i]);
  summary("%s\n", m.explained_variance_ratio.size() > 10 ? " ..." : "");
  if (out) summary("  wrote %s\n", o.out.dir.c_str());
  return 0;
}

Runner add_pca(CLI::App& app) {
  auto o = std::make_shared<PcaOptions>();
  auto* cmd = app.add_subcommand(
      "pca", "Principal components (streamed), explained variance and the projected rows");
  add_data_argument(cmd, o->data);
  cmd->add_option("-n,--n-components", o->n_components, "Number of components")
      ->check(at_least(1))
      ->capture_default_str();
  cmd->add_flag("--no-projection", o->no_projection,
                "Write the components and the mean only (not the n x C projected rows)");
  add_device_options(cmd, o->device, o->device_memory,
                     "auto, cpu, cuda or cuda:N (covariance by cuBLAS, eigenpairs by cuSOLVER)");
  add_data_options(cmd, o->data_opts);
  add_output_options(cmd, o->out);
  return [o] { return run_pca(*o); };
}

const Registration registered(45, "pca", add_pca);
}  // namespace

}  // namespace embcluster::cli
