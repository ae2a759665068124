#pragma once
// Shared helpers for the test suites: scratch directories, small data files, the CLI, ARI.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "embcluster/context.h"

namespace testutil {

// A context on the CPU with `threads` threads.
embcluster::ExecutionContext cpu_context(int threads = 2);

// A fresh directory under the system temp dir, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Writes a float32 rows x cols HDF5 dataset (creating the file if needed).
void write_h5_f32(const std::string& file, const std::string& dataset, const std::vector<float>& v,
                  int64_t rows, int64_t cols);
// Writes an int32 1-D HDF5 dataset.
void write_h5_i32(const std::string& file, const std::string& dataset,
                  const std::vector<int32_t>& v);
// Reads an HDF5 dataset of any numeric type as doubles (shape ignored).
std::vector<double> read_h5(const std::string& file, const std::string& dataset);

// Separated Gaussian blobs: k centres far apart, points with unit spread, labels alongside.
struct Blobs {
  std::vector<float> x;
  std::vector<int32_t> labels;
  int64_t n = 0;
  int64_t d = 0;
};
Blobs make_blobs(int64_t n, int64_t d, int k, uint64_t seed, float spread = 1.0f,
                 float box = 50.0f);

// Adjusted Rand index of two labelings (noise labels compared as ordinary labels).
double adjusted_rand_index(const std::vector<int32_t>& a, const std::vector<int32_t>& b);

// Runs the embcluster command with arguments; returns the exit code, output in out (stdout and
// stderr together).
int run_cli(const std::string& args, std::string* out = nullptr);

bool file_exists(const std::string& path);
std::string read_text(const std::string& path);

// The message of the embcluster::Error that f throws, or "(no error)".
std::string error_of(const std::function<void()>& f);

}  // namespace testutil

// Expects stmt to throw embcluster::Error whose message contains every needle.
#define EXPECT_ERROR(stmt, ...)                                               \
  do {                                                                        \
    const std::string msg_ = testutil::error_of([&] { stmt; });               \
    for (const char* needle : {__VA_ARGS__})                                  \
      EXPECT_NE(msg_.find(needle), std::string::npos) << "message: " << msg_; \
  } while (0)
