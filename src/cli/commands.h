#pragma once
// Each subcommand registers itself on the app and returns the function that runs it.
#include <CLI/CLI.hpp>

#include <functional>

namespace embcluster::cli {

using Runner = std::function<int()>;

Runner add_info(CLI::App& app);
Runner add_generate(CLI::App& app);
Runner add_kmeans(CLI::App& app);

}  // namespace embcluster::cli
