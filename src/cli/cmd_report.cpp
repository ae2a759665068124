// embcluster report DIR: figures (matplotlib) and one self-contained report.html for an output
// directory, drawn by python/embcluster_report.py.
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/common.h"
#include "embcluster/error.h"

extern char** environ;

namespace embcluster::cli {

namespace {

bool is_file(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// EMBCLUSTER_REPORT_SCRIPT, else the installed script, else the source tree's.
std::string report_script() {
  if (const char* env = std::getenv("EMBCLUSTER_REPORT_SCRIPT")) return env;
  if (is_file(EMBCLUSTER_REPORT_INSTALLED)) return EMBCLUSTER_REPORT_INSTALLED;
  if (is_file(EMBCLUSTER_REPORT_SOURCE)) return EMBCLUSTER_REPORT_SOURCE;
  throw_error("report: the script embcluster_report.py is not installed (set "
              "EMBCLUSTER_REPORT_SCRIPT)");
}

// EMBCLUSTER_PYTHON, else the system's python3 (where Debian's matplotlib is), else PATH's.
std::string python() {
  if (const char* env = std::getenv("EMBCLUSTER_PYTHON")) return env;
  return is_file("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
}

int run_report(const std::string& dir) {
  struct stat st;
  require(::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode), dir,
          ": no such output directory");
  const std::string py = python(), script = report_script();
  std::vector<std::string> args = {py, script, dir};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, py.c_str(), nullptr, nullptr, argv.data(), environ);
  require(rc == 0, "report: cannot run ", py, " (python3 with numpy and matplotlib is needed)");
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

Runner add_report(CLI::App& app) {
  auto dir = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand(
      "report", "Figures and one self-contained report.html for an output directory (matplotlib)");
  cmd->add_option("dir", *dir, "An output directory of kmeans, sweep, dbscan, evaluate or kdist")
      ->required();
  return [dir] { return run_report(*dir); };
}

const Registration registered(60, "report", add_report);
}  // namespace

}  // namespace embcluster::cli
