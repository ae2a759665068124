// --checkpoint / --resume: see checkpoint_options.h.
#include "cli/checkpoint_options.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "embcluster/error.h"

namespace embcluster::cli {
namespace {

// The file part of a data spec: "x.h5:/data" -> "x.h5" (the whole spec when that is a file).
std::string data_file(const std::string& spec) {
  struct stat st;
  if (::stat(spec.c_str(), &st) == 0) return spec;
  const size_t colon = spec.rfind(':');
  return colon == std::string::npos ? spec : spec.substr(0, colon);
}

}  // namespace

CheckpointChoice checkpoint_choice(const CheckpointOptions& o, const std::string& file_name,
                                   const std::string& data, const DataOptions& data_opts) {
  CheckpointChoice c;
  require(o.resume.empty() || o.checkpoint.empty() || o.resume == o.checkpoint, "--resume ",
          o.resume, " and --checkpoint ", o.checkpoint,
          " name different directories (--resume DIR alone continues and keeps saving in DIR)");
  c.dir = o.resume.empty() ? o.checkpoint : o.resume;
  c.resume = !o.resume.empty();
  require(!c.dir.empty() || o.every->count() == 0, "--checkpoint-every needs --checkpoint DIR");
  if (c.dir.empty()) return c;
  const std::string saved = c.dir + "/" + file_name;
  struct stat st;
  require(c.resume || ::stat(saved.c_str(), &st) != 0, "checkpoint ", saved, " exists: --resume ",
          c.dir, " continues it; remove it to start again");
  const std::string file = data_file(data);
  require(::stat(file.c_str(), &st) == 0, file, ": cannot read: ", std::strerror(errno));
  std::string columns;
  for (const auto& col : data_opts.columns) columns += (columns.empty() ? "" : ",") + col;
  c.identity = {{"file_size", std::to_string(st.st_size)},
                {"file_mtime_ns",
                 std::to_string(int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec)},
                {"columns", columns},
                {"impute", data_opts.impute},
                {"scale", data_opts.scale}};
  return c;
}

}  // namespace embcluster::cli
