// The embcluster command: one line on stderr and a non-zero exit for every error.
#include <algorithm>
#include <cstdio>
#include <map>
#include <string>

#include "cli/commands.h"
#include "cli/common.h"
#include "embcluster/context.h"
#include "embcluster/error.h"

namespace embcluster::cli {
std::vector<Command>& command_registry() {
  static std::vector<Command> registry;
  return registry;
}
}  // namespace embcluster::cli

int main(int argc, char** argv) {
  using namespace embcluster::cli;
  CLI::App app{
      "embcluster: clustering of embedding vectors (K-means, DBSCAN, silhouette) on CPU "
      "and GPU, streamed from HDF5, .npy, .fvecs and CSV"};
  app.require_subcommand(1);
  app.fallthrough();
  auto& g = globals();
  app.add_flag("-q,--quiet", g.quiet,
               "Only errors: no progress, notes or summary (results go to --out)");
  app.add_option("--threads", g.threads, "CPU threads (0 = all cores; at most 4 x the cores)")
      ->check(at_least(0, "0 = all cores"));
  app.add_option("--memory", g.memory,
                 "Memory budget for data blocks, e.g. 256M or 4G "
                 "(default: half of the available memory)");
  app.set_version_flag("--version", std::string("embcluster ") + EMBCLUSTER_VERSION_STRING);

  auto commands = command_registry();
  std::sort(commands.begin(), commands.end(),
            [](const Command& a, const Command& b) { return a.order < b.order; });
  std::map<std::string, Runner> runners;
  for (const auto& c : commands) runners[c.name] = c.add(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "embcluster: error: %s (see embcluster --help)\n", e.what());
    return 2;
  }
  if (g.threads > embcluster::max_threads()) {  // thousands of threads crash the OpenMP runtime
    ProgressLine::note("--threads " + std::to_string(g.threads) + " is more than 4 x the " +
                       std::to_string(embcluster::max_threads() / 4) + " cores: using " +
                       std::to_string(embcluster::max_threads()));
    g.threads = embcluster::max_threads();
  }
  stop_on_interrupt();
  try {
    for (auto* sub : app.get_subcommands()) return runners.at(sub->get_name())();
  } catch (const embcluster::Cancelled&) {
    std::fprintf(stderr, "embcluster: interrupted: no output written, previous outputs kept\n");
    return 130;
  } catch (const embcluster::Error& e) {
    std::fprintf(stderr, "embcluster: error: %s\n", e.what());
    return 1;
  } catch (const embcluster::InternalError& e) {  // a broken invariant: a bug to report
    std::fprintf(stderr, "embcluster: internal error: %s\n", e.what());
    return 3;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "embcluster: error: out of memory (lower --memory or the problem size)\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "embcluster: internal error: %s\n", e.what());
    return 3;
  }
  return 0;
}
