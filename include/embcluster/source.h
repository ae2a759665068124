#pragma once
// Sources of embedding rows: HDF5, .npy, .fvecs/.bvecs/.ivecs, CSV and memory.
// Every source is read in row blocks converted to float32; nothing loads a file whole.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace embcluster {

// How a source is opened.
struct SourceOptions {
  // CSV: names (or 0-based indices) of the columns to read; empty = every numeric column.
  std::vector<std::string> columns;
  // CSV: what to do with an empty cell. "none" makes it an error; "mean" uses the column mean.
  std::string impute = "none";
  // Accept a one-dimensional dataset as a single column (used for label files).
  bool allow_1d = false;
  // Reject NaN and Inf values (the error names the row). Label readers keep this on too.
  bool check_finite = true;
};

class Source {
 public:
  virtual ~Source() = default;

  int64_t rows() const { return rows_; }
  int64_t cols() const { return cols_; }
  // "file.h5:/group/name", "x.npy", ... as shown in messages and reports.
  const std::string& name() const { return name_; }
  // Stored element type: "float32", "uint8", ...
  const std::string& dtype() const { return dtype_; }
  // The names of the columns read, in order, where the format names them (CSV); else empty.
  const std::vector<std::string>& column_names() const { return column_names_; }
  // How the input was read, for the report and the summary: e.g. the CSV columns left out of an
  // automatic choice and why. Empty when there is nothing to say.
  const std::vector<std::string>& notes() const { return notes_; }

  // Reads rows [start, start + count) into out (count * cols() floats, row-major).
  // Throws Error naming the source and row for I/O failures and non-finite values.
  void read(int64_t start, int64_t count, float* out);
  // The same rows as double: exact for every stored value of the formats' integer types up to 2^53
  // and every float (labels are read this way, never through float32's 24 bits).
  void read(int64_t start, int64_t count, double* out);
  // Rows [start, start + count) where the source already holds them in memory as float32
  // row-major (a memory source: the caller's array), checked as read() checks them; nullptr for
  // sources that read files. Drivers use these rows where they are instead of copying them.
  const float* view(int64_t start, int64_t count);

 protected:
  Source(std::string name, int64_t rows, int64_t cols, std::string dtype, bool check_finite);
  virtual void read_rows(int64_t start, int64_t count, float* out) = 0;
  // Readers whose stored type is wider than float32's 24-bit integers override this; the default
  // widens read_rows' floats.
  virtual void read_rows_f64(int64_t start, int64_t count, double* out);
  // The first row when every row is in memory as float32 row-major; nullptr (default) otherwise.
  virtual const float* memory_rows() const { return nullptr; }
  void set_column_names(std::vector<std::string> names) { column_names_ = std::move(names); }
  void add_note(std::string note) { notes_.push_back(std::move(note)); }

 private:
  std::string name_;
  int64_t rows_;
  int64_t cols_;
  std::string dtype_;
  bool check_finite_;
  std::vector<std::string> column_names_;
  std::vector<std::string> notes_;
};

// Opens "file.h5:/dataset", "file.h5" (its only 2-D dataset, or /data), "x.npy", "x.fvecs",
// "x.bvecs", "x.ivecs" or "x.csv". Throws Error naming the file and the problem.
std::unique_ptr<Source> open_source(const std::string& spec, const SourceOptions& options = {});

// Wraps rows already in memory (row-major, rows * cols floats). The data must outlive the source.
std::unique_ptr<Source> memory_source(const float* data, int64_t rows, int64_t cols,
                                      std::string name = "memory");

// Reads a whole source into memory (for small inputs: centroids, labels, test data).
std::vector<float> read_all(Source& source);

// Description of one dataset in a file, for `embcluster info FILE`.
struct DatasetInfo {
  std::string path;   // "/group/name" in HDF5, the file name otherwise
  std::vector<int64_t> shape;
  std::string dtype;  // "float32", "uint8", ... or the HDF5 class for other types
};
std::vector<DatasetInfo> list_datasets(const std::string& file);

}  // namespace embcluster
