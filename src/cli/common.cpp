#include "cli/common.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "backend/cuda_loader.h"
#include "embcluster/device.h"
#include "embcluster/memory.h"
#include "embcluster/prepare.h"

namespace embcluster::cli {

GlobalOptions& globals() {
  static GlobalOptions g;
  return g;
}

int64_t GlobalOptions::budget() const {
  return memory.empty() ? default_memory_budget() : parse_bytes(memory, "--memory");
}

void add_data_options(CLI::App* cmd, DataOptions& o) {
  cmd->add_option("--columns", o.columns, "CSV columns to read (names or 0-based indices)")
      ->delimiter(',');
  cmd->add_option("--impute", o.impute, "Empty CSV cells: none (an error) or mean")
      ->check(CLI::IsMember({"none", "mean"}))
      ->capture_default_str();
  cmd->add_option("--scale", o.scale,
                  "Prepare rows: none, standard (zero mean, unit variance) or l2 (unit length)")
      ->check(CLI::IsMember({"none", "standard", "l2"}))
      ->capture_default_str();
}

int64_t DeviceMemoryOption::bytes() const {
  return text.empty() ? 0 : parse_bytes(text, "--device-memory");
}

void add_device_memory_option(CLI::App* cmd, DeviceMemoryOption& opt) {
  cmd->add_option("--device-memory", opt.text,
                  "GPU memory budget, e.g. 4G (default: 85% of the free memory)");
}

void add_device_options(CLI::App* cmd, std::string& device, DeviceMemoryOption& memory,
                        const std::string& help) {
  cmd->add_option("--device", device, help)->capture_default_str();
  add_device_memory_option(cmd, memory);
}

void add_metric_option(CLI::App* cmd, std::string& metric) {
  cmd->add_option("--metric", metric, "euclidean or cosine")
      ->check(CLI::IsMember({"euclidean", "cosine"}))
      ->capture_default_str();
}

void commit_with_report(OutputDir& out, nlohmann::json& report,
                        std::chrono::steady_clock::time_point t0) {
  report["peak_rss_bytes"] = peak_rss_bytes();
  report["wall_s"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  out.write_text("report.json", report.dump(2) + "\n");
  out.commit();
}

ExecutionContext command_context(const std::string& device,
                                 const DeviceMemoryOption* device_memory) {
  ExecutionContext ctx;
  ctx.threads = globals().threads;
  ctx.memory_budget = globals().budget();
  if (device_memory) ctx.device_memory_budget = device_memory->bytes();
  ctx.device = parse_device(device);
  return ctx;
}

std::unique_ptr<Source> open_data(const std::string& spec, const DataOptions& o) {
  SourceOptions so;
  so.columns = o.columns;
  so.impute = o.impute;
  return prepare_source(open_source(spec, so), o.scale, command_context());
}

void add_output_options(CLI::App* cmd, OutputOptions& o) {
  cmd->add_option("-o,--out", o.dir, "Output directory (created if needed)");
  cmd->add_flag("--force", o.force, "Overwrite existing output files");
  cmd->add_option("--format", o.format, "Array files: h5, npy or csv")
      ->check(CLI::IsMember({"h5", "npy", "csv"}))
      ->capture_default_str();
}

std::string array_file(const OutputOptions& o, const std::string& base) {
  return base + "." + o.format;
}

void write_staged(OutputDir& out, const OutputOptions& o, const std::string& base, ElemType type,
                  const void* data, int64_t rows, int64_t cols) {
  write_array(out.stage(array_file(o, base)), "/" + base, type, data, rows, cols);
}

nlohmann::json report_header(const std::string& command, const Source& input) {
  nlohmann::json j;
  j["command"] = command;
  j["version"] = EMBCLUSTER_VERSION_STRING;
  j["input"] = {{"name", input.name()},
                {"rows", input.rows()},
                {"cols", input.cols()},
                {"dtype", input.dtype()}};
  j["threads"] = context_threads(command_context());
  // The devices as the run's device choice saw them; a run that never asked (--device cpu) does
  // not open the CUDA module for the report.
  nlohmann::json devs = nlohmann::json::array();
  if (cuda_module_looked_up())
    for (const auto& d : cuda_devices())
      devs.push_back({{"index", d.index}, {"name", d.name}, {"memory_bytes", d.total_bytes}});
  j["cuda_devices"] = devs;
  return j;
}

namespace {
double now_s() {
  using clock = std::chrono::steady_clock;
  return std::chrono::duration<double>(clock::now().time_since_epoch()).count();
}
}  // namespace

ProgressLine::ProgressLine() : live_(isatty(STDERR_FILENO) == 1) {}
ProgressLine::~ProgressLine() { finish(); }

void ProgressLine::update(const std::string& text, bool force) {
  if (globals().quiet) return;
  const double t = now_s();
  if (live_) {
    if (!force && t - last_ < 0.1) return;
    std::fprintf(stderr, "\r\033[K%s", text.c_str());
    open_ = true;
  } else {
    if (!force && t - last_ < 1.0) return;  // plain logs: at most a line a second
    std::fprintf(stderr, "%s\n", text.c_str());
  }
  std::fflush(stderr);
  last_ = t;
}

void ProgressLine::finish() {
  if (open_) std::fprintf(stderr, "\n");
  open_ = false;
}

void ProgressLine::note(const std::string& text) {
  if (!globals().quiet) std::fprintf(stderr, "%s\n", text.c_str());
}

std::string human_rate(double r) {
  char buf[32];
  if (r >= 1e6)
    std::snprintf(buf, sizeof buf, "%.2f M rows/s", r / 1e6);
  else if (r >= 1e3)
    std::snprintf(buf, sizeof buf, "%.1f k rows/s", r / 1e3);
  else
    std::snprintf(buf, sizeof buf, "%.0f rows/s", r);
  return buf;
}

std::string human_seconds(double s) {
  char buf[32];
  if (s < 60)
    std::snprintf(buf, sizeof buf, "%.2f s", s);
  else if (s < 3600)
    std::snprintf(buf, sizeof buf, "%dm%02ds", int(s) / 60, int(s) % 60);
  else
    std::snprintf(buf, sizeof buf, "%dh%02dm", int(s) / 3600, (int(s) % 3600) / 60);
  return buf;
}

}  // namespace embcluster::cli
