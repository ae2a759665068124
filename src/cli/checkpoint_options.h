#pragma once
// --checkpoint DIR, --checkpoint-every N and --resume DIR, shared by the commands that save their
// progress (kmeans, evaluate).
#include <CLI/CLI.hpp>
#include <string>
#include <utility>
#include <vector>

#include "cli/common.h"

namespace embcluster::cli {

struct CheckpointOptions {
  std::string checkpoint, resume;  // directories of --checkpoint and --resume
  const CLI::Option* every = nullptr;
};

// What the library gets: the directory (empty: none), whether to resume, and what identifies the
// input file beyond its rows (size, modification time, how the rows are prepared).
struct CheckpointChoice {
  std::string dir;
  bool resume = false;
  std::vector<std::pair<std::string, std::string>> identity;
};

// Refuses --resume and --checkpoint naming different directories, --checkpoint-every without a
// directory, and --checkpoint on a directory that already holds `file_name` (a night's work is
// never replaced by a command that forgot --resume).
CheckpointChoice checkpoint_choice(const CheckpointOptions& o, const std::string& file_name,
                                   const std::string& data, const DataOptions& data_opts);

}  // namespace embcluster::cli
