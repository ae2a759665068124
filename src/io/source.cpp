// The Source base, memory sources and the dispatch from a file name to its reader.
#include "embcluster/source.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>

#include "embcluster/error.h"
#include "io/readers.h"

namespace embcluster {
namespace fs = std::filesystem;

Source::Source(std::string name, int64_t rows, int64_t cols, std::string dtype, bool check_finite)
    : name_(std::move(name)),
      rows_(rows),
      cols_(cols),
      dtype_(std::move(dtype)),
      check_finite_(check_finite) {}

namespace {
void check_rows(const std::string& name, int64_t rows, int64_t start, int64_t count) {
  require(start >= 0 && start <= rows - count, name, ": rows ", start, "..", start + count - 1,
          " are out of range (", rows, " rows)");
}

template <typename T>
void check_finite(const std::string& name, int64_t start, int64_t count, int64_t cols,
                  const T* out) {
  const int64_t total = count * cols;
  for (int64_t i = 0; i < total; ++i) {
    if (!std::isfinite(out[i])) {
      throw_error(name, ": row ", start + i / cols, " contains ",
                  std::isnan(out[i]) ? "NaN" : "Inf", " (column ", i % cols, ")");
    }
  }
}
}  // namespace

void Source::read(int64_t start, int64_t count, float* out) {
  if (count <= 0) return;
  check_rows(name_, rows_, start, count);
  read_rows(start, count, out);
  if (check_finite_) check_finite(name_, start, count, cols_, out);
}

void Source::read(int64_t start, int64_t count, double* out) {
  if (count <= 0) return;
  check_rows(name_, rows_, start, count);
  read_rows_f64(start, count, out);
  if (check_finite_) check_finite(name_, start, count, cols_, out);
}

const float* Source::view(int64_t start, int64_t count) {
  const float* base = memory_rows();
  if (base == nullptr) return nullptr;
  const float* rows = base + start * cols_;
  if (count <= 0) return rows;
  check_rows(name_, rows_, start, count);
  if (check_finite_) check_finite(name_, start, count, cols_, rows);
  return rows;
}

void Source::read_rows_f64(int64_t start, int64_t count, double* out) {
  std::vector<float> buf(static_cast<size_t>(count * cols_));
  read_rows(start, count, buf.data());
  std::copy(buf.begin(), buf.end(), out);
}

std::vector<float> read_all(Source& source) {
  std::vector<float> out(static_cast<size_t>(source.rows() * source.cols()));
  source.read(0, source.rows(), out.data());
  return out;
}

std::string lower_extension(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

bool is_hdf5_extension(const std::string& ext) {
  return ext == ".h5" || ext == ".hdf5" || ext == ".he5";
}

namespace {

class MemorySource final : public Source {
 public:
  MemorySource(const float* data, int64_t rows, int64_t cols, std::string name)
      : Source(std::move(name), rows, cols, "float32", true), data_(data) {}

 protected:
  void read_rows(int64_t start, int64_t count, float* out) override {
    std::copy(data_ + start * cols(), data_ + (start + count) * cols(), out);
  }
  const float* memory_rows() const override { return data_; }

 private:
  const float* data_;
};

void check_file(const std::string& file) {
  std::error_code ec;
  const auto st = fs::status(file, ec);
  require(fs::exists(st), file, ": no such file");
  require(!fs::is_directory(st), file, ": is a directory, not a data file");
}

}  // namespace

void split_data_spec(const std::string& spec, std::string* file, std::string* dataset) {
  for (size_t pos = spec.find(':'); pos != std::string::npos; pos = spec.find(':', pos + 1)) {
    if (is_hdf5_extension(lower_extension(spec.substr(0, pos)))) {
      *file = spec.substr(0, pos);
      *dataset = spec.substr(pos + 1);
      return;
    }
  }
  *file = spec;
  dataset->clear();
}

std::unique_ptr<Source> memory_source(const float* data, int64_t rows, int64_t cols,
                                      std::string name) {
  require(rows >= 0 && cols > 0, name, ": a memory source needs rows >= 0 and cols > 0 (got ", rows,
          " x ", cols, ")");
  return std::make_unique<MemorySource>(data, rows, cols, std::move(name));
}

std::unique_ptr<Source> open_source(const std::string& spec, const SourceOptions& options) {
  std::string file, dataset;
  split_data_spec(spec, &file, &dataset);
  check_file(file);
  const std::string ext = lower_extension(file);
  // Column choice and imputation are CSV's: elsewhere they would be ignored in silence.
  require(ext == ".csv" || options.columns.empty(), file,
          ": --columns applies to CSV input only (this file's rows are read whole)");
  require(ext == ".csv" || options.impute == "none", file,
          ": --impute applies to CSV input only (other formats have no empty cells)");
  if (is_hdf5_extension(ext)) return open_hdf5(file, dataset, options);
  if (ext == ".npy") return open_npy(file, options);
  if (ext == ".fvecs" || ext == ".bvecs" || ext == ".ivecs") return open_vecs(file, ext, options);
  if (ext == ".csv") return open_csv(file, options);
  throw_error(file, ": unknown format (expected .h5, .npy, .fvecs, .bvecs, .ivecs or .csv)");
}

std::vector<DatasetInfo> list_datasets(const std::string& file) {
  check_file(file);
  if (is_hdf5_extension(lower_extension(file))) return list_hdf5(file);
  SourceOptions options;
  options.allow_1d = true;
  options.check_finite = false;
  auto src = open_source(file, options);
  return {
      DatasetInfo{fs::path(file).filename().string(), {src->rows(), src->cols()}, src->dtype()}};
}

}  // namespace embcluster
