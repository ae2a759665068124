#include "cli/report_html.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <regex>
#include <vector>

#include "cli/common.h"
#include "embcluster/error.h"

extern char** environ;

namespace embcluster::cli {

namespace {
namespace fs = std::filesystem;

bool is_file(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// EMBCLUSTER_REPORT_SCRIPT, else the installed script, else the source tree's.
std::string report_script() {
  if (const char* env = std::getenv("EMBCLUSTER_REPORT_SCRIPT")) return env;
  if (is_file(EMBCLUSTER_REPORT_INSTALLED)) return EMBCLUSTER_REPORT_INSTALLED;
  if (is_file(EMBCLUSTER_REPORT_SOURCE)) return EMBCLUSTER_REPORT_SOURCE;
  throw_error(
      "report: the script embcluster_report.py is not installed (set "
      "EMBCLUSTER_REPORT_SCRIPT)");
}

// EMBCLUSTER_PYTHON, else the system's python3 (where Debian's matplotlib is), else PATH's.
std::string python() {
  if (const char* env = std::getenv("EMBCLUSTER_PYTHON")) return env;
  return is_file("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
}

struct ScriptRun {
  bool ok = false;
  std::string reason;  // why not: the script's last line on stderr, or how it ended
  std::string err;     // all it wrote on stderr
};

// Runs `python script args...` with its stderr captured (stdout shared with ours unless
// mute_stdout) and waits for it.
ScriptRun run_script(const std::vector<std::string>& script_args, bool mute_stdout) {
  const std::string py = python();
  std::vector<std::string> args = {py, report_script()};
  args.insert(args.end(), script_args.begin(), script_args.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int fds[2];
  require(::pipe2(fds, O_CLOEXEC) == 0, "report: cannot create a pipe: ", std::strerror(errno));
  posix_spawn_file_actions_t acts;
  posix_spawn_file_actions_init(&acts);
  posix_spawn_file_actions_adddup2(&acts, fds[1], STDERR_FILENO);
  if (mute_stdout) posix_spawn_file_actions_addopen(&acts, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, py.c_str(), &acts, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&acts);
  ::close(fds[1]);
  ScriptRun run;
  if (rc != 0) {
    ::close(fds[0]);
    run.reason =
        "cannot run " + py + " (python3 with numpy and matplotlib is needed): " + std::strerror(rc);
    return run;
  }
  char buf[4096];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) != 0;) {
    if (n > 0)
      run.err.append(buf, static_cast<size_t>(n));
    else if (errno != EINTR)
      break;
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  run.ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  // The script says why in one line, "embcluster report: error: WHY"; a crash ends in one too.
  std::string line = run.err;
  while (!line.empty() && (line.back() == '\n' || line.back() == ' ')) line.pop_back();
  line = line.substr(line.find_last_of('\n') + 1);
  const std::string prefix = "embcluster report: error: ";
  if (line.compare(0, prefix.size(), prefix) == 0) line.erase(0, prefix.size());
  if (line.empty())
    line = WIFSIGNALED(status)
               ? "the script was killed by signal " + std::to_string(WTERMSIG(status))
               : "the script exited with status " + std::to_string(WEXITSTATUS(status));
  if (!run.ok) run.reason = line;
  return run;
}

}  // namespace

void check_report_ready(const std::string& dir, bool force) {
  const std::string page = dir + "/report.html";
  std::error_code ec;
  require(force || !fs::exists(fs::symlink_status(page, ec)), page,
          " exists (use --force to overwrite)");
  const ScriptRun run = run_script({"--check"}, true);
  require(run.ok, "--report: ", run.reason);
}

void write_report_html(const std::string& dir, bool quiet) {
  std::vector<std::string> args = {dir};
  if (quiet) args.push_back("--quiet");
  const ScriptRun run = run_script(args, false);
  require(run.ok, run.reason);
  if (!quiet && !run.err.empty()) std::fputs(run.err.c_str(), stderr);  // warnings, if any
}

void remove_report_view(const std::string& dir) {
  // The script's figure names: "01-cluster-sizes.png".
  static const std::regex figure(R"([0-9]{2}-[a-z0-9-]+\.png)");
  std::error_code ec;
  const fs::path page = fs::path(dir) / "report.html";
  if (!fs::is_directory(fs::symlink_status(page, ec))) fs::remove(page, ec);
  const fs::path figs = fs::path(dir) / "figures";
  if (!fs::is_directory(fs::symlink_status(figs, ec))) return;  // a link is never followed
  for (fs::directory_iterator it(figs, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code rm;
    if (std::regex_match(it->path().filename().string(), figure) && !it->is_directory(rm))
      fs::remove(it->path(), rm);
  }
  if (fs::is_empty(figs, ec) && !ec) fs::remove(figs, ec);
}

}  // namespace embcluster::cli
