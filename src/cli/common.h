#pragma once
// Options and helpers shared by the embcluster subcommands.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "embcluster/communicator.h"
#include "embcluster/context.h"
#include "embcluster/output.h"
#include "embcluster/source.h"

namespace embcluster::cli {

// Options every subcommand accepts (before or after the subcommand name).
struct GlobalOptions {
  bool quiet = false;
  int threads = 0;
  std::string memory;  // "256M"; empty = default share of RAM
  int64_t budget() const;
  // The ranks of an MPI launch (`mpirun -np N embcluster ...`); null in a plain run.
  std::shared_ptr<Communicator> comm;
  // Rank 0 of an MPI launch, or a plain run: the process that writes outputs and prints.
  bool lead() const { return !comm || comm->rank() == 0; }
  int ranks() const { return comm ? comm->size() : 1; }
};
GlobalOptions& globals();

// A validator for a whole-number option: "must be a whole number >= min", plus what that means when
// given ("0 = all cores"), instead of a range of 309 digits.
CLI::Validator at_least(long long min, const std::string& meaning = "");

// How the input data is read and prepared.
struct DataOptions {
  std::vector<std::string> columns;
  std::string impute = "none";
  std::string scale = "none";
  int64_t pca = 0;  // > 0: rows projected on this many principal components (after --scale)
};
void add_data_options(CLI::App* cmd, DataOptions& opts);
std::unique_ptr<Source> open_data(const std::string& spec, const DataOptions& opts);
// The rows as stored (columns and imputation applied, no --scale): for figures in the data's units.
std::unique_ptr<Source> open_raw_data(const std::string& spec, const DataOptions& opts);

// --device-memory SIZE: the GPU memory budget, kept as text until the command runs.
struct DeviceMemoryOption {
  std::string text;
  int64_t bytes() const;  // 0 (85% of the free device memory) when not given
};
void add_device_memory_option(CLI::App* cmd, DeviceMemoryOption& opt);
// --device (auto, cpu, cuda, cuda:N; help says where it applies) and --device-memory.
void add_device_options(CLI::App* cmd, std::string& device, DeviceMemoryOption& memory,
                        const std::string& help);
// --metric euclidean|cosine.
void add_metric_option(CLI::App* cmd, std::string& metric);
// --oversampling-factor and --init-rounds of --init 'k-means||'.
void add_kmeans_parallel_options(CLI::App* cmd, double& oversampling_factor, int& init_rounds);
// --precision fp32|tf32|bf16 (the GPU GEMM's).
void add_precision_option(CLI::App* cmd, std::string& precision);
// The input data spec, the command's one positional argument.
void add_data_argument(CLI::App* cmd, std::string& data);
// " 40030 39991 ..." : up to 20 sizes, largest first, for a summary line.
std::string largest_first(std::vector<int64_t> sizes);

// SIGINT and SIGTERM stop the command at its next check (every block, iteration or write): it
// removes its temporaries, keeps the previous outputs and exits 130. A second signal ends it at
// once. interrupted(): whether one came.
// sigterm false: SIGTERM keeps its default action (a rank of an MPI job: mpirun ends the job's
// other ranks with SIGTERM when one fails, and they go without a line of their own).
void stop_on_interrupt(bool sigterm = true);
bool interrupted();

// The execution context of a command: --threads and --memory, the command's --device text
// ("auto", "cpu", "cuda", "cuda:N") and --device-memory (none: 0). Throws Error for a bad
// --memory, --device or --device-memory.
ExecutionContext command_context(const std::string& device = "auto",
                                 const DeviceMemoryOption* device_memory = nullptr);

// The report's "ranks" section of a distributed run: N, and every rank's rows, device, time and
// communication.
nlohmann::json ranks_json(const std::vector<RankReport>& ranks);

// Where results go.
struct OutputOptions {
  std::string dir;
  bool force = false;
  std::string format = "h5";
  bool report = false;  // --report: report.html written once the outputs are in place
};
// -o/--out, --force, --format and --report.
void add_output_options(CLI::App* cmd, OutputOptions& opts);
// The output directory of opts.dir, after the checks --report needs (before any work).
std::unique_ptr<OutputDir> open_output_dir(const OutputOptions& opts);
// "labels.h5", "labels.npy" or "labels.csv" for base "labels".
std::string array_file(const OutputOptions& opts, const std::string& base);
// Writes a staged array file named array_file(opts, base); HDF5 gets dataset "/<base>".
void write_staged(OutputDir& out, const OutputOptions& opts, const std::string& base, ElemType type,
                  const void* data, int64_t rows, int64_t cols);

// Fields every report.json carries: command, version, input, threads, device list, peak memory.
nlohmann::json report_header(const std::string& command, const Source& input);
// Adds the peak memory and the wall time since t0 to report, writes it as report.json and
// commits the output directory; a previous run's report.html goes with its manifest. With
// --report, then writes report.html: its failure is an Error that leaves the outputs in place.
void commit_with_report(OutputDir& out, const OutputOptions& opts, nlohmann::json& report,
                        std::chrono::steady_clock::time_point t0,
                        const std::string& name = "report.json");

// A status line on stderr: rewritten in place on a terminal, one line per update otherwise,
// nothing with --quiet.
class ProgressLine {
 public:
  ProgressLine();
  ~ProgressLine();
  void update(const std::string& text, bool force = false);
  void finish();
  static void note(const std::string& text);  // a line for the user (not with --quiet)

 private:
  bool live_;
  bool open_ = false;
  double last_ = 0;
};

// The command's summary on stdout (printf format); nothing with --quiet, whose runs speak only
// through their output files, exit code and errors.
void summary(const char* format, ...) __attribute__((format(printf, 1, 2)));

std::string human_rate(double rows_per_s);
std::string human_seconds(double s);

}  // namespace embcluster::cli
