#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "embcluster/error.h"
#include "embcluster/output.h"

namespace embcluster {
namespace fs = std::filesystem;

OutputDir::OutputDir(const std::string& dir, bool force) : dir_(dir), force_(force) {
  std::error_code ec;
  if (!fs::exists(dir_, ec)) {
    created_ = fs::create_directories(dir_, ec);
    require(!ec, "cannot write to output directory ", dir_, ": ", ec.message());
  }
  require(fs::is_directory(dir_, ec), "cannot write to output directory ", dir_,
          ": not a directory");
  const std::string probe = dir_ + "/.write-probe-" + std::to_string(getpid());
  {
    std::ofstream out(probe);
    require(out.good(), "cannot write to output directory ", dir_, ": permission denied");
  }
  fs::remove(probe, ec);
}

OutputDir::~OutputDir() {
  if (committed_) return;
  std::error_code ec;
  for (const auto& [tmp, final_name] : staged_) fs::remove(tmp, ec);
  if (created_ && fs::is_empty(dir_, ec)) fs::remove(dir_, ec);
}

std::string OutputDir::stage(const std::string& name) {
  const std::string final_path = dir_ + "/" + name;
  for (const auto& [tmp, fin] : staged_)
    if (fin == final_path) return tmp;
  require(force_ || !fs::exists(final_path), final_path, " exists (use --force to overwrite)");
  // The temporary name keeps the extension, which selects the writer.
  const std::string tmp = dir_ + "/.tmp-" + std::to_string(getpid()) + "-" + name;
  std::error_code ec;
  fs::remove(tmp, ec);
  staged_.emplace_back(tmp, final_path);
  return tmp;
}

void OutputDir::write_text(const std::string& name, const std::string& content) {
  const std::string tmp = stage(name);
  std::ofstream out(tmp);
  out << content;
  out.close();
  require(out.good(), tmp, ": write failed (disk full?)");
}

void OutputDir::commit() {
  for (const auto& [tmp, final_path] : staged_) {
    std::error_code ec;
    if (!fs::exists(tmp)) continue;  // reserved but not written
    fs::rename(tmp, final_path, ec);
    require(!ec, final_path, ": cannot move the finished file into place: ", ec.message());
  }
  committed_ = true;
}

}  // namespace embcluster
