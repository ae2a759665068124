#pragma once
// What every checkpoint file shares (K-means, the exact silhouette): a magic line, a JSON header
// holding the identity of the data and parameters, arrays as raw bytes (exact), and an FNV-1a
// checksum of everything before it, so that a torn or damaged file is refused instead of resumed.
// Files are written atomically: an exclusively created temporary beside the file, flushed to
// disk, renamed over it, the directory flushed.
#include <cstdint>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "embcluster/error.h"
#include "embcluster/source.h"

namespace embcluster {

using CheckpointIdentity = std::vector<std::pair<std::string, std::string>>;

uint64_t fnv1a(const void* data, size_t bytes, uint64_t h = 14695981039346656037ull);

// 16 hex digits.
std::string hex64(uint64_t h);

// The source's name, shape, type and a hash of up to 64 of its rows (read through the source, so
// it covers the data's preparation).
CheckpointIdentity source_identity(Source& src);

// Creates dir if needed and removes temporaries of `file_name` left there by checkpoint writers
// that died.
void prepare_checkpoint_dir(const std::string& dir, const std::string& file_name);

// Starts a file's contents: the magic line and the header (identity and fields).
std::string checkpoint_begin(const char* magic, const CheckpointIdentity& id,
                             nlohmann::json fields);

// Appends a length-prefixed array of raw bytes.
template <typename T>
void checkpoint_put(std::string& out, const std::vector<T>& v) {
  const uint64_t bytes = v.size() * sizeof(T);
  out.append(reinterpret_cast<const char*>(&bytes), sizeof bytes);
  if (bytes > 0) out.append(reinterpret_cast<const char*>(v.data()), bytes);  // data() may be null
}

// Appends the checksum and writes `data` atomically to path. Throws Error naming path.
void write_checkpoint_file(const std::string& path, std::string data);

// Reads what checkpoint_put() wrote, refusing anything that runs past the end.
class CheckpointReader {
 public:
  CheckpointReader(const std::string& path, const std::string& s, size_t pos)
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
    if (bytes > 0) std::memcpy(v.data(), s_.data() + pos_, bytes);  // empty: data() may be null
    pos_ += bytes;
    return v;
  }
  // Throws unless every byte was read.
  void finish() const;

 private:
  void need(uint64_t bytes) const {
    require(bytes <= s_.size() - pos_, "checkpoint ", path_, ": corrupt (truncated)");
  }
  const std::string& path_;
  const std::string& s_;
  size_t pos_;
};

// A checkpoint file read back: its contents without the checksum, and its header.
struct CheckpointFile {
  std::string body;
  nlohmann::json header;
  size_t arrays = 0;  // where the arrays start in body
};

// Reads path, checks its magic line ("not a <what> checkpoint of this version"), checksum and
// identity. Throws Error naming the file when it is missing, unreadable or corrupt, and, for one
// made for other data or parameters, naming what differs ("made for n_clusters=10, this run has
// n_clusters=12").
CheckpointFile read_checkpoint_file(const std::string& path, const char* magic, const char* what,
                                    const CheckpointIdentity& id);

}  // namespace embcluster
