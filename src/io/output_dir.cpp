// An output directory whose files appear together: written under temporary names, renamed on
// commit(), removed (with the directory, if it was created here) otherwise.
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <regex>

#include "embcluster/error.h"
#include "embcluster/output.h"
#include "io/safe_file.h"

namespace embcluster {
namespace fs = std::filesystem;

namespace {

bool plain_name(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos;
}

// Removes the files a dead run left under the names stage() and the write probe make
// (".labels.tmp-<pid>-<16 hex>.h5", ".write-probe-<16 hex>"). Called with the directory's lock
// held, so no live run of this directory is writing; a pid still alive keeps its files anyway. A
// planted link of such a name is removed itself, never followed.
void remove_stale_temporaries(const std::string& dir) {
  static const std::regex staged(R"(\..+\.tmp-([0-9]+)-[0-9a-f]{16}(\.[A-Za-z0-9]+)?)");
  static const std::regex probe(R"(\.write-probe-[0-9a-f]{16})");
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::smatch m;
    bool stale = false;
    if (std::regex_match(name, m, staged)) {
      const long pid = std::strtol(m[1].str().c_str(), nullptr, 10);
      stale = pid != ::getpid() && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
    } else {
      stale = std::regex_match(name, probe);
    }
    std::error_code rm;
    if (stale && !it->is_directory(rm)) fs::remove(it->path(), rm);
  }
}

}  // namespace

OutputDir::OutputDir(const std::string& dir, bool force) : dir_(dir), force_(force) {
  require(!dir_.empty(), "cannot write to output directory '': no directory given");
  std::error_code ec;
  if (!fs::exists(dir_, ec)) {
    created_ = fs::create_directories(dir_, ec);
    require(!ec, "cannot write to output directory ", dir_, ": ", ec.message());
  }
  require(fs::is_directory(dir_, ec), "cannot write to output directory ", dir_,
          ": exists and is not a directory");
  // Creating a file is the only reliable test (read-only mounts, ACLs, root squash). The name is
  // unpredictable and the create exclusive: a link planted there is never followed.
  const std::string probe = dir_ + "/.write-probe-" + random_suffix();
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    const std::string why = std::strerror(errno);
    if (created_) fs::remove(dir_, ec);
    throw_error("cannot write to output directory ", dir_, ": ", why);
  }
  ::close(fd);
  fs::remove(probe, ec);
  lock_fd_ = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (lock_fd_ >= 0 && ::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(lock_fd_);
    lock_fd_ = -1;
    if (err == EWOULDBLOCK)
      throw_error("output directory ", dir_,
                  " is in use by another run (it holds the directory's lock): wait for it to "
                  "finish or choose another --out");
  }
  if (lock_fd_ >= 0) remove_stale_temporaries(dir_);
}

OutputDir::~OutputDir() {
  if (!committed_) {
    std::error_code ec;
    for (const auto& staged : staged_) fs::remove(staged.first, ec);
    if (created_ && fs::is_empty(dir_, ec) && !ec) fs::remove(dir_, ec);
  }
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the lock
}

std::string OutputDir::stage(const std::string& name) {
  require(plain_name(name), dir_, ": '", name, "' is not a plain file name");
  const std::string final_path = dir_ + "/" + name;
  for (const auto& staged : staged_)
    if (staged.second == final_path) return staged.first;
  std::error_code ec;
  const auto st = fs::status(final_path, ec);
  require(!fs::is_directory(st), final_path, " exists and is a directory");
  require(force_ || !fs::exists(st), final_path, " exists (use --force to overwrite)");
  // Hidden, unpredictable, and keeping the extension, which selects the writer: "labels.h5" is
  // staged as ".labels.tmp-<pid>-<16 random hex digits>.h5". The writers create it without
  // following a link (HDF5 exclusively, the others with O_NOFOLLOW).
  const fs::path p(name);
  const std::string tmp = dir_ + "/." + p.stem().string() + ".tmp-" + std::to_string(::getpid()) +
                          "-" + random_suffix() + p.extension().string();
  staged_.emplace_back(tmp, final_path);
  committed_ = false;
  return tmp;
}

void OutputDir::write_text(const std::string& name, const std::string& content) {
  const std::string tmp = stage(name);
  FILE* f = open_for_writing_nofollow(tmp);
  const bool written = std::fwrite(content.data(), 1, content.size(), f) == content.size();
  const bool closed = std::fclose(f) == 0;
  require(written && closed, dir_ + "/" + name, ": write failed (disk full?)");
}

void OutputDir::retire(const std::string& name) {
  if (plain_name(name)) retired_.push_back(dir_ + "/" + name);
}

std::vector<std::string> OutputDir::files() const {
  std::vector<std::string> names;
  for (const auto& staged : staged_) names.push_back(fs::path(staged.second).filename().string());
  return names;
}

void OutputDir::commit() {
  for (const auto& [tmp, final_path] : staged_) {
    std::error_code ec;
    if (!fs::exists(tmp, ec)) continue;  // reserved but never written
    fs::rename(tmp, final_path, ec);
    require(!ec, final_path, ": cannot move the finished file into place: ", ec.message());
  }
  // The previous run's other outputs go once this run's are in place (a symlink is removed itself,
  // never followed; a directory is left alone).
  for (const auto& old : retired_) {
    const bool replaced = std::any_of(staged_.begin(), staged_.end(),
                                      [&](const auto& st) { return st.second == old; });
    std::error_code ec;
    if (!replaced && !fs::is_directory(fs::symlink_status(old, ec))) fs::remove(old, ec);
  }
  staged_.clear();
  retired_.clear();
  committed_ = true;
}

}  // namespace embcluster
