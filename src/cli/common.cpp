#include "cli/common.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "backend/cuda_loader.h"
#include "cli/report_html.h"
#include "embcluster/device.h"
#include "embcluster/error.h"
#include "embcluster/memory.h"
#include "embcluster/pca.h"
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
  cmd->add_option("--pca", o.pca,
                  "Project rows on C principal components (fitted in one streamed pass, after "
                  "--scale)")
      ->type_name("C")
      ->check(at_least(1));
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

void add_kmeans_parallel_options(CLI::App* cmd, double& oversampling_factor, int& init_rounds) {
  cmd->add_option("--oversampling-factor", oversampling_factor,
                  "k-means||: about this many times k candidates drawn per round")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--init-rounds", init_rounds, "k-means||: rounds of candidate draws")
      ->check(at_least(1))
      ->capture_default_str();
}

void add_precision_option(CLI::App* cmd, std::string& precision) {
  cmd->add_option("--precision", precision, "GPU GEMM precision: fp32, tf32 or bf16")
      ->check(CLI::IsMember({"fp32", "tf32", "bf16"}))
      ->capture_default_str();
}

void add_data_argument(CLI::App* cmd, std::string& data) {
  cmd->add_option("data", data, "Input: file.h5:/dataset, x.npy, x.fvecs, x.bvecs or x.csv")
      ->required();
}

std::string largest_first(std::vector<int64_t> sizes) {
  std::sort(sizes.rbegin(), sizes.rend());
  std::string line;
  for (size_t i = 0; i < sizes.size() && i < 20; ++i) line += " " + std::to_string(sizes[i]);
  if (sizes.size() > 20) line += " ... (smallest " + std::to_string(sizes.back()) + ")";
  return line;
}

CLI::Validator at_least(long long min, const std::string& meaning) {
  const std::string rule = "must be a whole number >= " + std::to_string(min) +
                           (meaning.empty() ? "" : " (" + meaning + ")");
  return CLI::Validator(
      [min, rule](const std::string& v) {
        size_t used = 0;
        long long x = 0;
        try {
          x = std::stoll(v, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        return used == v.size() && used > 0 && x >= min ? std::string() : v + " " + rule;
      },
      ">= " + std::to_string(min));
}

namespace {
// The outputs the previous run in dir listed in its report.json or sweep.json (none when there is
// no readable one: a plain file, not a link, parsed as JSON); found: whether there was one.
std::vector<std::string> previous_outputs(const std::string& dir, bool& found) {
  std::vector<std::string> names;
  found = false;
  for (const char* manifest : {"report.json", "sweep.json"}) {
    const std::string path = dir + "/" + manifest;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(std::filesystem::symlink_status(path, ec))) continue;
    std::ifstream in(path);
    const nlohmann::json old = nlohmann::json::parse(in, nullptr, false);
    found = found || old.is_object();
    if (old.is_object() && old.contains("outputs") && old["outputs"].is_array())
      for (const auto& n : old["outputs"])
        if (n.is_string()) names.push_back(n.get<std::string>());
  }
  return names;
}
}  // namespace

void commit_with_report(OutputDir& out, const OutputOptions& opts, nlohmann::json& report,
                        std::chrono::steady_clock::time_point t0, const std::string& name) {
  report["peak_rss_bytes"] = peak_rss_bytes();
  report["wall_s"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // The manifest: with --force, a previous run's outputs that this run does not write (another
  // --format, another command) go when this run's are in place.
  bool replacing = false;
  for (const auto& old : previous_outputs(out.dir(), replacing)) out.retire(old);
  std::vector<std::string> files = out.files();
  if (std::find(files.begin(), files.end(), name) == files.end()) files.push_back(name);
  report["outputs"] = files;
  out.write_text(name, report.dump(2) + "\n");
  // Interrupted while writing: the previous outputs stay, the temporaries go.
  if (interrupted()) throw Cancelled();
  out.commit();
  // The previous page showed the replaced results; the new one is drawn from this run's.
  if (replacing) remove_report_view(out.dir());
  if (!opts.report) return;
  try {
    write_report_html(out.dir(), globals().quiet);
  } catch (const Error& e) {
    throw Error("--report: " + out.dir() +
                "/report.html not written (the run's outputs are in "
                "place): " +
                e.what());
  }
}

namespace {
// Set by SIGINT / SIGTERM (a lock-free atomic: safe in a signal handler).
std::atomic<bool> g_interrupted{false};
extern "C" void on_interrupt(int) { g_interrupted.store(true); }
}  // namespace

void stop_on_interrupt(bool sigterm) {
  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND;  // a second Ctrl-C ends the process at once
  for (int sig : {SIGINT, SIGTERM}) {
    if (sig == SIGTERM && !sigterm) continue;
    struct sigaction old {};
    sigaction(sig, nullptr, &old);
    if (old.sa_handler != SIG_IGN) sigaction(sig, &sa, nullptr);  // an ignored signal stays so
  }
}

bool interrupted() { return g_interrupted.load(); }

ExecutionContext command_context(const std::string& device,
                                 const DeviceMemoryOption* device_memory) {
  ExecutionContext ctx;
  ctx.cancelled = [] { return g_interrupted.load(); };
  ctx.threads = globals().threads;
  ctx.memory_budget = globals().budget();
  if (device_memory) ctx.device_memory_budget = device_memory->bytes();
  ctx.device = parse_device(device);
  ctx.comm = globals().comm;
  return ctx;
}

nlohmann::json ranks_json(const std::vector<RankReport>& ranks) {
  nlohmann::json all = nlohmann::json::array();
  for (const auto& r : ranks)
    all.push_back({{"rank", r.rank},
                   {"first_row", r.first_row},
                   {"rows", r.rows},
                   {"device", r.device},
                   {"seconds", r.seconds},
                   {"comm_seconds", r.comm_seconds},
                   {"comm_bytes", r.comm_bytes}});
  return {{"n", ranks.size()}, {"per_rank", all}};
}

std::unique_ptr<Source> open_raw_data(const std::string& spec, const DataOptions& o) {
  SourceOptions so;
  so.columns = o.columns;
  so.impute = o.impute;
  return open_source(spec, so);
}

std::unique_ptr<Source> open_data(const std::string& spec, const DataOptions& o) {
  auto src = open_raw_data(spec, o);
  // Columns left out of an automatic choice are said before the work starts (and in the report).
  if (!src->notes().empty()) {
    std::string line = src->name() + ": ";
    if (!src->column_names().empty()) {
      line += "columns";
      for (const auto& c : src->column_names())
        line += (&c == &src->column_names()[0] ? " " : ", ") + c;
      line += " read; ";
    }
    for (const auto& n : src->notes()) line += (&n == &src->notes()[0] ? "" : "; ") + n;
    ProgressLine::note(line);
  }
  auto prepared = prepare_source(std::move(src), o.scale, command_context());
  if (o.pca <= 0) return prepared;
  const PCAModel model = fit_pca(*prepared, o.pca, command_context());
  double kept = 0;
  for (double r : model.explained_variance_ratio) kept += r;
  char line[160];
  std::snprintf(line, sizeof line,
                "%s: projected on %lld principal components (%.1f%% of the "
                "variance)",
                prepared->name().c_str(), static_cast<long long>(o.pca), 100 * kept);
  ProgressLine::note(line);
  return project_source(std::move(prepared), model);
}

void add_output_options(CLI::App* cmd, OutputOptions& o) {
  auto* out = cmd->add_option("-o,--out", o.dir, "Output directory (created if needed)");
  cmd->add_flag("--force", o.force, "Overwrite existing output files");
  cmd->add_option("--format", o.format, "Array files: h5, npy or csv")
      ->check(CLI::IsMember({"h5", "npy", "csv"}))
      ->capture_default_str();
  cmd->add_flag("--report", o.report,
                "Also write report.html (figures and tables, self-contained) in the output "
                "directory, as `embcluster report DIR` does")
      ->needs(out);
}

std::unique_ptr<OutputDir> open_output_dir(const OutputOptions& o) {
  auto out = std::make_unique<OutputDir>(o.dir, o.force);
  if (o.report) check_report_ready(o.dir, o.force);
  return out;
}

std::string array_file(const OutputOptions& o, const std::string& base) {
  return base + "." + o.format;
}

void write_staged(OutputDir& out, const OutputOptions& o, const std::string& base, ElemType type,
                  const void* data, int64_t rows, int64_t cols) {
  const std::string file = array_file(o, base), tmp = out.stage(file);
  try {
    write_array(tmp, "/" + base, type, data, rows, cols);
  } catch (const Error& e) {
    // Named as the user knows it: the file it becomes, not its temporary name.
    std::string msg = e.what();
    const size_t at = msg.find(tmp);
    if (at != std::string::npos) msg.replace(at, tmp.size(), out.dir() + "/" + file);
    throw Error(msg);
  }
}

nlohmann::json report_header(const std::string& command, const Source& input) {
  nlohmann::json j;
  j["command"] = command;
  j["version"] = EMBCLUSTER_VERSION_STRING;
  j["input"] = {{"name", input.name()},
                {"rows", input.rows()},
                {"cols", input.cols()},
                {"dtype", input.dtype()}};
  if (!input.column_names().empty()) j["input"]["columns"] = input.column_names();
  if (!input.notes().empty()) j["input"]["notes"] = input.notes();
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

void summary(const char* format, ...) {
  if (globals().quiet) return;
  va_list args;
  va_start(args, format);
  std::vfprintf(stdout, format, args);
  va_end(args);
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
