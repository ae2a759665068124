// The checkpoint file shared by K-means and the silhouette: see checkpoint_file.h.
#include "core/checkpoint_file.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "io/safe_file.h"

namespace embcluster {
namespace fs = std::filesystem;
namespace {

// ".<file>.tmp-<pid>-<random>": the temporary of a writer.
std::string tmp_prefix(const std::string& file_name) { return "." + file_name + ".tmp-"; }

void write_all(int fd, const std::string& data, const std::string& tmp, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t w = ::write(fd, data.data() + done, data.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      const std::string why = std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      throw_error("checkpoint ", path, ": write failed: ", why);
    }
    done += static_cast<size_t>(w);
  }
}

void check_identity(const std::string& path, const nlohmann::json& stored,
                    const CheckpointIdentity& id) {
  require(stored.is_array(), "checkpoint ", path, ": corrupt (no identity)");
  CheckpointIdentity made;
  for (const auto& e : stored)
    made.emplace_back(e.at(0).get<std::string>(), e.at(1).get<std::string>());
  for (const auto& [key, value] : id) {
    const std::string* was = nullptr;
    for (const auto& m : made)
      if (m.first == key) was = &m.second;
    require(was != nullptr, "checkpoint ", path, ": made without ", key, ", this run has ", key,
            "=", value);
    require(*was == value, "checkpoint ", path, ": made for ", key, "=", *was, ", this run has ",
            key, "=", value);
  }
  for (const auto& m : made) {
    bool known = false;
    for (const auto& e : id) known = known || e.first == m.first;
    require(known, "checkpoint ", path, ": made for ", m.first, "=", m.second, ", this run has no ",
            m.first);
  }
}

}  // namespace

uint64_t fnv1a(const void* data, size_t bytes, uint64_t h) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < bytes; ++i) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

std::string hex64(uint64_t h) {
  char hash[17];
  std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(h));
  return hash;
}

CheckpointIdentity source_identity(Source& src) {
  const int64_t n = src.rows(), d = src.cols();
  const int64_t samples = std::min<int64_t>(n, 64);
  std::vector<float> row(static_cast<size_t>(d));
  uint64_t h = fnv1a(nullptr, 0);
  for (int64_t j = 0; j < samples; ++j) {
    const int64_t i = samples > 1 ? j * (n - 1) / (samples - 1) : 0;
    src.read(i, 1, row.data());
    h = fnv1a(row.data(), row.size() * sizeof(float), h);
  }
  return {{"data", src.name()},
          {"rows", std::to_string(n)},
          {"cols", std::to_string(d)},
          {"dtype", src.dtype()},
          {"sampled_rows_hash", hex64(h)}};
}

void prepare_checkpoint_dir(const std::string& dir, const std::string& file_name) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  require(!ec && fs::is_directory(dir), "checkpoint directory ", dir,
          ": cannot create: ", ec ? ec.message() : "exists and is not a directory");
  // The temporary of a process that no longer exists: a writer killed before its rename.
  const std::string prefix = tmp_prefix(file_name);
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    const long pid = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
    if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH)
      fs::remove(e.path(), ec);
  }
}

std::string checkpoint_begin(const char* magic, const CheckpointIdentity& id,
                             nlohmann::json fields) {
  fields["identity"] = nlohmann::json::array();
  for (const auto& [k, v] : id) fields["identity"].push_back({k, v});
  const std::string header = fields.dump();
  std::string out = magic;
  checkpoint_put(out, std::vector<char>(header.begin(), header.end()));
  return out;
}

void write_checkpoint_file(const std::string& path, std::string data) {
  const uint64_t sum = fnv1a(data.data(), data.size());
  data.append(reinterpret_cast<const char*>(&sum), sizeof sum);
  const fs::path p(path);
  const std::string dir = p.parent_path().empty() ? "." : p.parent_path().string();
  const std::string tmp = dir + "/" + tmp_prefix(p.filename().string()) +
                          std::to_string(::getpid()) + "-" + random_suffix();
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) throw_error("checkpoint ", path, ": cannot create ", tmp, ": ", std::strerror(errno));
  write_all(fd, data, tmp, path);
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    throw_error("checkpoint ", path, ": write failed: ", why);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    throw_error("checkpoint ", path, ": cannot move into place: ", why);
  }
  // The rename itself reaches the disk only with the directory.
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

void CheckpointReader::finish() const {
  require(pos_ == s_.size(), "checkpoint ", path_, ": corrupt (trailing bytes)");
}

CheckpointFile read_checkpoint_file(const std::string& path, const char* magic, const char* what,
                                    const CheckpointIdentity& id) {
  std::error_code ec;
  require(fs::exists(path, ec), "checkpoint ", path, ": not found (nothing to resume)");
  std::ifstream in(path, std::ios::binary);
  require(in.good(), "checkpoint ", path, ": cannot read: ", std::strerror(errno));
  const std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  require(!in.bad(), "checkpoint ", path, ": cannot read");
  const size_t magic_size = std::strlen(magic);
  require(s.compare(0, magic_size, magic) == 0, "checkpoint ", path, ": not a ", what,
          " checkpoint of this version");
  require(s.size() >= magic_size + 8, "checkpoint ", path, ": corrupt (truncated)");
  uint64_t sum = 0;
  std::memcpy(&sum, s.data() + s.size() - 8, 8);
  require(sum == fnv1a(s.data(), s.size() - 8), "checkpoint ", path,
          ": corrupt (checksum mismatch)");
  CheckpointFile f;
  f.body = s.substr(0, s.size() - 8);
  CheckpointReader r(path, f.body, magic_size);
  const std::vector<char> header = r.get<char>();
  try {
    f.header = nlohmann::json::parse(header.begin(), header.end());
  } catch (const std::exception&) {
    throw_error("checkpoint ", path, ": corrupt (unreadable header)");
  }
  check_identity(path, f.header.value("identity", nlohmann::json()), id);
  f.arrays = magic_size + 8 + header.size();
  return f;
}

}  // namespace embcluster
