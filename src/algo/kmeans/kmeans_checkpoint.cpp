// The checkpoint file: a magic line, a JSON header (identity and integers), the float and double
// arrays as raw bytes (exact), and an FNV-1a checksum of everything before it, so that a torn or
// damaged file is refused instead of resumed.
#include "algo/kmeans/kmeans_checkpoint.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "embcluster/error.h"
#include "io/safe_file.h"

namespace embcluster {
namespace fs = std::filesystem;
namespace {

const char kMagic[] = "embcluster kmeans checkpoint 1\n";
const char kTmpPrefix[] = ".kmeans.ckpt.tmp-";

uint64_t fnv1a(const void* data, size_t bytes, uint64_t h = 14695981039346656037ull) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < bytes; ++i) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

std::string exact(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// Appends a length-prefixed array of raw bytes.
template <typename T>
void put(std::string& out, const std::vector<T>& v) {
  const uint64_t bytes = v.size() * sizeof(T);
  out.append(reinterpret_cast<const char*>(&bytes), sizeof bytes);
  out.append(reinterpret_cast<const char*>(v.data()), bytes);
}

std::vector<double> flatten(const std::vector<KMeansIteration>& h) {
  std::vector<double> v;
  for (const auto& i : h) v.insert(v.end(), {i.inertia, i.centre_shift});
  return v;
}

std::vector<KMeansIteration> unflatten(const std::vector<double>& v) {
  std::vector<KMeansIteration> h;
  for (size_t i = 0; i + 1 < v.size(); i += 2) h.push_back({v[i], v[i + 1]});
  return h;
}

// Reads what put() wrote, refusing anything that runs past the end.
class Reader {
 public:
  Reader(const std::string& path, const std::string& s, size_t pos)
      : path_(path), s_(s), pos_(pos) {}
  template <typename T>
  std::vector<T> get() {
    uint64_t bytes = 0;
    need(sizeof bytes);
    std::memcpy(&bytes, s_.data() + pos_, sizeof bytes);
    pos_ += sizeof bytes;
    require(bytes % sizeof(T) == 0, "checkpoint ", path_, ": corrupt (bad array size)");
    need(bytes);
    std::vector<T> v(bytes / sizeof(T));
    std::memcpy(v.data(), s_.data() + pos_, bytes);
    pos_ += bytes;
    return v;
  }
  size_t pos() const { return pos_; }

 private:
  void need(uint64_t bytes) const {
    require(bytes <= s_.size() - pos_, "checkpoint ", path_, ": corrupt (truncated)");
  }
  const std::string& path_;
  const std::string& s_;
  size_t pos_;
};

void check_identity(const std::string& path, const nlohmann::json& stored,
                    const CheckpointIdentity& id) {
  require(stored.is_array(), "checkpoint ", path, ": corrupt (no identity)");
  std::vector<std::pair<std::string, std::string>> made;
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

std::string encode(const CheckpointIdentity& id, const KMeansState& s) {
  nlohmann::json h;
  h["identity"] = nlohmann::json::array();
  for (const auto& [k, v] : id) h["identity"].push_back({k, v});
  h["run"] = s.run;
  h["iteration"] = s.lloyd.iteration;
  h["relocations"] = s.lloyd.relocations;
  h["has_best"] = s.has_best;
  h["best_run"] = s.best_run;
  h["best_iterations"] = s.best.iterations;
  h["best_converged"] = s.best.converged;
  h["best_relocations"] = s.best.relocations;
  const std::string header = h.dump();
  std::string out = kMagic;
  put(out, std::vector<char>(header.begin(), header.end()));
  put(out, std::vector<double>{s.mean_var, s.best.inertia});
  put(out, s.run_inertia);
  put(out, s.lloyd.centres);
  put(out, s.lloyd.prev_centres);
  put(out, flatten(s.lloyd.history));
  put(out, s.best.centroids);
  put(out, flatten(s.best.history));
  const uint64_t sum = fnv1a(out.data(), out.size());
  out.append(reinterpret_cast<const char*>(&sum), sizeof sum);
  return out;
}

KMeansState decode(const std::string& path, const std::string& s, const CheckpointIdentity& id) {
  const size_t magic = sizeof kMagic - 1;
  require(s.compare(0, magic, kMagic) == 0, "checkpoint ", path,
          ": not a K-means checkpoint of this version");
  require(s.size() >= magic + 8, "checkpoint ", path, ": corrupt (truncated)");
  uint64_t sum = 0;
  std::memcpy(&sum, s.data() + s.size() - 8, 8);
  require(sum == fnv1a(s.data(), s.size() - 8), "checkpoint ", path,
          ": corrupt (checksum mismatch)");
  const std::string body = s.substr(0, s.size() - 8);
  Reader r(path, body, magic);
  const std::vector<char> header = r.get<char>();
  nlohmann::json h;
  try {
    h = nlohmann::json::parse(header.begin(), header.end());
  } catch (const std::exception&) {
    throw_error("checkpoint ", path, ": corrupt (unreadable header)");
  }
  check_identity(path, h.value("identity", nlohmann::json()), id);
  KMeansState st;
  try {
    st.run = h.at("run");
    st.lloyd.iteration = h.at("iteration");
    st.lloyd.relocations = h.at("relocations");
    st.has_best = h.at("has_best");
    st.best_run = h.at("best_run");
    st.best.iterations = h.at("best_iterations");
    st.best.converged = h.at("best_converged");
    st.best.relocations = h.at("best_relocations");
  } catch (const std::exception&) {
    throw_error("checkpoint ", path, ": corrupt (incomplete header)");
  }
  const std::vector<double> scalars = r.get<double>();
  require(scalars.size() == 2, "checkpoint ", path, ": corrupt (scalars)");
  st.mean_var = scalars[0];
  st.best.inertia = scalars[1];
  st.run_inertia = r.get<double>();
  st.lloyd.centres = r.get<float>();
  st.lloyd.prev_centres = r.get<float>();
  st.lloyd.history = unflatten(r.get<double>());
  st.best.centroids = r.get<float>();
  st.best.history = unflatten(r.get<double>());
  require(r.pos() == body.size(), "checkpoint ", path, ": corrupt (trailing bytes)");
  return st;
}

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

}  // namespace

CheckpointIdentity checkpoint_identity(Source& src, const KMeansParams& p, int n_init,
                                       const std::string& backend) {
  const int64_t n = src.rows(), d = src.cols();
  const int64_t samples = std::min<int64_t>(n, 64);
  std::vector<float> row(static_cast<size_t>(d));
  uint64_t h = fnv1a(nullptr, 0);
  for (int64_t j = 0; j < samples; ++j) {
    const int64_t i = samples > 1 ? j * (n - 1) / (samples - 1) : 0;
    src.read(i, 1, row.data());
    h = fnv1a(row.data(), row.size() * sizeof(float), h);
  }
  char hash[17];
  std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(h));
  CheckpointIdentity id = {{"data", src.name()},
                           {"rows", std::to_string(n)},
                           {"cols", std::to_string(d)},
                           {"dtype", src.dtype()},
                           {"sampled_rows_hash", hash}};
  for (const auto& e : p.checkpoint.identity) id.push_back(e);
  const std::vector<std::pair<std::string, std::string>> params = {
      {"n_clusters", std::to_string(p.n_clusters)},
      {"init", to_string(p.init)},
      {"init_file", p.init == InitMethod::File ? p.init_file : ""},
      {"n_init", std::to_string(n_init)},
      {"max_iter", std::to_string(p.max_iter)},
      {"tol", exact(p.tol)},
      {"seed", std::to_string(p.seed)},
      {"init_sample", std::to_string(p.init_sample)},
      {"precision", to_string(p.precision)},
      {"metric", to_string(p.metric)},
      {"backend", backend}};
  id.insert(id.end(), params.begin(), params.end());
  return id;
}

std::string checkpoint_file(const std::string& dir) { return dir + "/kmeans.ckpt"; }

void prepare_checkpoint_dir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  require(!ec && fs::is_directory(dir), "checkpoint directory ", dir,
          ": cannot create: ", ec ? ec.message() : "exists and is not a directory");
  // ".kmeans.ckpt.tmp-<pid>-<random>" of a process that no longer exists: a writer killed before
  // its rename.
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(kTmpPrefix, 0) != 0) continue;
    const long pid = std::strtol(name.c_str() + sizeof kTmpPrefix - 1, nullptr, 10);
    if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH)
      fs::remove(e.path(), ec);
  }
}

void save_checkpoint(const std::string& path, const CheckpointIdentity& id, const KMeansState& s) {
  const std::string data = encode(id, s);
  const fs::path p(path);
  const std::string dir = p.parent_path().empty() ? "." : p.parent_path().string();
  const std::string tmp =
      dir + "/" + kTmpPrefix + std::to_string(::getpid()) + "-" + random_suffix();
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

KMeansState load_checkpoint(const std::string& path, const CheckpointIdentity& id) {
  std::error_code ec;
  require(fs::exists(path, ec), "checkpoint ", path, ": not found (nothing to resume)");
  std::ifstream in(path, std::ios::binary);
  require(in.good(), "checkpoint ", path, ": cannot read: ", std::strerror(errno));
  const std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  require(!in.bad(), "checkpoint ", path, ": cannot read");
  return decode(path, s, id);
}

}  // namespace embcluster
