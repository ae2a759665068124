#pragma once
// The format readers behind open_source(), and small helpers they share with the writers.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "embcluster/error.h"
#include "embcluster/source.h"

namespace embcluster {

// `dataset` is "/group/name", or empty to pick the file's only 2-D dataset (else /data).
std::unique_ptr<Source> open_hdf5(const std::string& file, const std::string& dataset,
                                  const SourceOptions& options);
std::vector<DatasetInfo> list_hdf5(const std::string& file);
std::unique_ptr<Source> open_npy(const std::string& file, const SourceOptions& options);
// ext is ".fvecs", ".bvecs" or ".ivecs".
std::unique_ptr<Source> open_vecs(const std::string& file, const std::string& ext,
                                  const SourceOptions& options);
std::unique_ptr<Source> open_csv(const std::string& file, const SourceOptions& options);

// Splits a data spec "file.h5:/group/name" into the file and the dataset ("" when none). Only a
// colon after an HDF5 file name counts, so other names may contain colons.
void split_data_spec(const std::string& spec, std::string* file, std::string* dataset);

// IEEE binary16 to float (subnormals, infinities and NaN included).
float half_to_float(uint16_t h);

// The extension of a path in lower case, with its dot: ".h5", ".npy", "" when none.
std::string lower_extension(const std::string& path);
bool is_hdf5_extension(const std::string& ext);

// A read-only file read at explicit offsets (pread), so a source keeps no stream position.
class PositionalFile {
 public:
  explicit PositionalFile(const std::string& path) : fd_(::open(path.c_str(), O_RDONLY)) {
    if (fd_ < 0) throw Error(path + ": cannot open: " + std::strerror(errno));
  }
  ~PositionalFile() { ::close(fd_); }
  PositionalFile(const PositionalFile&) = delete;
  PositionalFile& operator=(const PositionalFile&) = delete;

  int64_t size() const {
    struct stat st;
    return ::fstat(fd_, &st) == 0 ? static_cast<int64_t>(st.st_size) : 0;
  }
  // Reads up to `bytes` at `offset`; returns the bytes read (fewer only at the end of the file).
  int64_t read_at(int64_t offset, void* buf, int64_t bytes) const {
    int64_t done = 0;
    while (done < bytes) {
      const ssize_t got = ::pread(fd_, static_cast<char*>(buf) + done,
                                  static_cast<size_t>(bytes - done), offset + done);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) break;
      done += got;
    }
    return done;
  }

 private:
  int fd_;
};

}  // namespace embcluster
