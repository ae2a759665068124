#pragma once
// Each subcommand lives in its own cmd_*.cpp and registers itself with a static Registration;
// main() adds them to the app in `order` and runs the one chosen.
#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace embcluster::cli {

using Runner = std::function<int()>;
using AddCommand = Runner (*)(CLI::App& app);

struct Command {
  int order;  // position in --help
  std::string name;
  AddCommand add;
};

std::vector<Command>& command_registry();

struct Registration {
  Registration(int order, const std::string& name, AddCommand add) {
    command_registry().push_back({order, name, add});
  }
};

}  // namespace embcluster::cli
