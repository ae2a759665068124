// The embcluster command: one line on stderr and a non-zero exit for every error.
#include <algorithm>
#include <cstdio>
#include <map>
#include <string>

#include "cli/commands.h"
#include "cli/common.h"
#include "embcluster/context.h"
#include "embcluster/error.h"
#ifdef EMBCLUSTER_HAVE_MPI
#include "mpi/mpi_communicator.h"
#endif

namespace embcluster::cli {
std::vector<Command>& command_registry() {
  static std::vector<Command> registry;
  return registry;
}

namespace {
// The commands that spread over the ranks of an MPI launch; the others run as one process.
bool distributed_command(const std::string& name) {
  return name == "kmeans" || name == "assign" || name == "kdist" || name == "evaluate";
}

// One line on stderr and the exit code; in a launch of several ranks the line names the rank and
// the whole job ends (the other ranks may wait in a collective call: never a hang).
int fail(int code, const std::string& line) {
  const auto& g = globals();
  if (g.ranks() > 1) {
#ifdef EMBCLUSTER_HAVE_MPI
    const std::string where = "rank " + std::to_string(g.comm->rank()) + ": ";
    const std::string head = "embcluster: ";
    embcluster::mpi_abort(
        line.rfind(head, 0) == 0 ? head + where + line.substr(head.size()) : where + line, code);
#endif
  }
  std::fprintf(stderr, "%s\n", line.c_str());
  return code;
}
}  // namespace
}  // namespace embcluster::cli

int main(int argc, char** argv) {
  using namespace embcluster::cli;
#ifdef EMBCLUSTER_HAVE_MPI
  try {
    globals().comm = embcluster::mpi_world(&argc, &argv);
  } catch (const embcluster::Error& e) {
    std::fprintf(stderr, "embcluster: error: %s\n", e.what());
    return 1;
  }
#endif
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
    if (g.lead()) std::fprintf(stderr, "embcluster: error: %s (see embcluster --help)\n", e.what());
    return 2;
  }
  if (g.threads > embcluster::max_threads()) {  // thousands of threads crash the OpenMP runtime
    ProgressLine::note("--threads " + std::to_string(g.threads) + " is more than 4 x the " +
                       std::to_string(embcluster::max_threads() / 4) + " cores: using " +
                       std::to_string(embcluster::max_threads()));
    g.threads = embcluster::max_threads();
  }
  stop_on_interrupt(g.ranks() == 1);
  if (g.ranks() > 1) {
    const std::string name = app.get_subcommands().front()->get_name();
    if (!distributed_command(name)) {
      if (g.lead())
        std::fprintf(stderr,
                     "embcluster: error: %s runs as one process, not on %d MPI ranks (kmeans, "
                     "assign, kdist and evaluate spread over ranks): start it without mpirun\n",
                     name.c_str(), g.ranks());
      return 2;
    }
    if (!g.lead()) g.quiet = true;  // rank 0 prints and writes
  }
  try {
    for (auto* sub : app.get_subcommands()) return runners.at(sub->get_name())();
  } catch (const embcluster::Cancelled&) {
    return fail(130, "embcluster: interrupted: no output written, previous outputs kept");
  } catch (const embcluster::Error& e) {
    return fail(1, std::string("embcluster: error: ") + e.what());
  } catch (const embcluster::InternalError& e) {  // a broken invariant: a bug to report
    return fail(3, std::string("embcluster: internal error: ") + e.what());
  } catch (const std::bad_alloc&) {
    return fail(1, "embcluster: error: out of memory (lower --memory or the problem size)");
  } catch (const std::exception& e) {
    return fail(3, std::string("embcluster: internal error: ") + e.what());
  }
  return 0;
}
