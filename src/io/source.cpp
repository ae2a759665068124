#include <cmath>
#include <filesystem>

#include "embcluster/error.h"
#include "embcluster/source.h"
#include "io/readers.h"

namespace embcluster {

Source::Source(std::string name, int64_t rows, int64_t cols, std::string dtype, bool check_finite)
    : name_(std::move(name)), rows_(rows), cols_(cols), dtype_(std::move(dtype)),
      check_finite_(check_finite) {}

void Source::read(int64_t start, int64_t count, float* out) {
  if (count <= 0) return;
  require(start >= 0 && start + count <= rows_, name_, ": rows ", start, "..", start + count,
          " are out of range (", rows_, " rows)");
  read_rows(start, count, out);
  if (!check_finite_) return;
  const int64_t total = count * cols_;
  for (int64_t i = 0; i < total; ++i) {
    if (!std::isfinite(out[i])) {
      const int64_t row = start + i / cols_;
      throw_error(name_, ": row ", row, " contains ", std::isnan(out[i]) ? "NaN" : "Inf",
                  " (column ", i % cols_, ")");
    }
  }
}

std::vector<float> read_all(Source& s) {
  std::vector<float> out(static_cast<size_t>(s.rows() * s.cols()));
  s.read(0, s.rows(), out.data());
  return out;
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

 private:
  const float* data_;
};

std::string extension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

bool is_hdf5_ext(const std::string& ext) { return ext == ".h5" || ext == ".hdf5" || ext == ".he5"; }

// Splits "file.h5:/dataset" into file and dataset (empty when none).
void split_spec(const std::string& spec, std::string* file, std::string* dataset) {
  const auto pos = spec.find(":/");
  if (pos != std::string::npos && is_hdf5_ext(extension(spec.substr(0, pos)))) {
    *file = spec.substr(0, pos);
    *dataset = spec.substr(pos + 1);
  } else {
    *file = spec;
    dataset->clear();
  }
}
}  // namespace

std::unique_ptr<Source> memory_source(const float* data, int64_t rows, int64_t cols,
                                      std::string name) {
  return std::make_unique<MemorySource>(data, rows, cols, std::move(name));
}

std::unique_ptr<Source> open_source(const std::string& spec, const SourceOptions& options) {
  std::string file, dataset;
  split_spec(spec, &file, &dataset);
  require(std::filesystem::exists(file), file, ": no such file");
  require(!std::filesystem::is_directory(file), file, ": is a directory, not a data file");
  const std::string ext = extension(file);
  if (is_hdf5_ext(ext)) return open_hdf5(file, dataset, options);
  if (ext == ".npy") return open_npy(file, options);
  if (ext == ".fvecs" || ext == ".bvecs" || ext == ".ivecs") return open_vecs(file, ext, options);
  if (ext == ".csv") return open_csv(file, options);
  throw_error(file, ": unknown format (expected .h5, .npy, .fvecs, .bvecs, .ivecs or .csv)");
}

std::vector<DatasetInfo> list_datasets(const std::string& file) {
  require(std::filesystem::exists(file), file, ": no such file");
  const std::string ext = extension(file);
  if (is_hdf5_ext(ext)) return list_hdf5(file);
  auto src = open_source(file, SourceOptions{{}, "none", true, false});
  return {DatasetInfo{std::filesystem::path(file).filename().string(), {src->rows(), src->cols()},
                      src->dtype()}};
}

}  // namespace embcluster
