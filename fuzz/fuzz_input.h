#pragma once
// Shared by the reader fuzz targets: the readers open paths, so each input is written to one
// in-memory file per process (memfd) and opened through /proc/self/fd; every opened source is
// then read whole in small blocks, as the drivers read it.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "embcluster/error.h"
#include "embcluster/source.h"

namespace embcluster::fuzz {

// The path of an in-memory file that holds exactly `data`.
inline std::string write_input(const uint8_t* data, size_t size) {
  static const int fd = ::memfd_create("embcluster-fuzz", 0);
  if (fd < 0) {
    std::perror("memfd_create");
    std::abort();
  }
  if (::ftruncate(fd, 0) != 0) std::abort();
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pwrite(fd, data + done, size - done, static_cast<off_t>(done));
    if (n <= 0) std::abort();
    done += static_cast<size_t>(n);
  }
  return "/proc/self/fd/" + std::to_string(fd);
}

// Reads every row in blocks of a few rows; a bad file may throw Error, nothing else.
inline void read_whole(Source& source) {
  const int64_t block = 7;
  std::vector<float> buf(static_cast<size_t>(block * source.cols()));
  for (int64_t start = 0; start < source.rows(); start += block) {
    source.read(start, std::min(block, source.rows() - start), buf.data());
  }
}

// Opens with `open` and reads the source whole; Error (a clear message) is the only allowed way to
// refuse the input.
template <typename Open>
void open_and_read(Open open) {
  try {
    std::unique_ptr<Source> source = open();
    if (source->rows() <= 0 || source->cols() <= 0) std::abort();  // readers promise a shape
    read_whole(*source);
  } catch (const Error&) {
  }
}

// A number in [0, n) fixed by the input's bytes, to pick a reader's options: each input runs once
// (a run costs one open, not one per option set) and is replayed the same way.
inline unsigned pick(const uint8_t* data, size_t size, unsigned n) {
  uint32_t h = 2166136261u;  // FNV-1a
  for (size_t i = 0; i < size; ++i) h = (h ^ data[i]) * 16777619u;
  return h % n;
}

// The defaults (which == 0) or the permissive options: 1-D arrays, NaN and Inf kept, empty CSV
// cells imputed.
inline SourceOptions options_for(unsigned which) {
  SourceOptions options;
  if (which != 0) {
    options.allow_1d = true;
    options.check_finite = false;
    options.impute = "mean";
  }
  return options;
}

}  // namespace embcluster::fuzz
