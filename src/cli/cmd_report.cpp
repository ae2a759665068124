// embcluster report DIR: figures (matplotlib) and one self-contained report.html for an output
// directory, drawn by python/embcluster_report.py.
#include <sys/stat.h>

#include <string>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/report_html.h"
#include "embcluster/error.h"

namespace embcluster::cli {

namespace {

int run_report(const std::string& dir) {
  struct stat st;
  require(::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode), dir,
          ": no such output directory");
  write_report_html(dir, globals().quiet);
  return 0;
}

Runner add_report(CLI::App& app) {
  auto dir = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand(
      "report", "Figures and one self-contained report.html for an output directory (matplotlib)");
  cmd->add_option("dir", *dir,
                  "An output directory of kmeans, dbscan, sweep, pca, evaluate, kdist or assign")
      ->required();
  return [dir] { return run_report(*dir); };
}

const Registration registered(60, "report", add_report);
}  // namespace

}  // namespace embcluster::cli
