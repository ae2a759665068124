#include "algo/metrics/metric_labels.h"

#include <omp.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <limits>
#include <string>

#include "embcluster/error.h"
#include "embcluster/metrics.h"
#include "embcluster/source.h"

namespace embcluster {

DenseLabels dense_labels(const std::vector<int32_t>& labels, int64_t data_rows,
                         const std::string& data_name, bool include_noise) {
  const int64_t n = static_cast<int64_t>(labels.size());
  require(n == data_rows, "labels have ", n, " rows; the data ", data_name, " has ", data_rows);
  DenseLabels out;
  out.noise_included = include_noise;
  std::vector<int32_t> values(labels);
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  for (int32_t l : labels) out.noise_rows += l == -1;
  if (!include_noise) values.erase(std::remove(values.begin(), values.end(), -1), values.end());
  out.values.assign(values.begin(), values.end());
  out.k = static_cast<int64_t>(values.size());
  out.rows_in = include_noise ? n : n - out.noise_rows;
  if (!(out.k >= 2 && out.k <= out.rows_in - 1)) {
    // scikit-learn's message, with what was counted.
    throw_error("Number of labels is ", out.k, ". Valid values are 2 to n_samples - 1 (inclusive)",
                " (n_samples = ", out.rows_in,
                out.noise_rows > 0 && !include_noise
                    ? ", " + std::to_string(out.noise_rows) +
                          " noise rows labelled -1 left out; see include_noise"
                    : std::string(),
                ")");
  }
  // Dense ids: a table over the label range when it is small, binary search otherwise.
  out.id.resize(static_cast<size_t>(n));
  out.sizes.assign(static_cast<size_t>(out.k), 0);
  const int64_t lo = values.front(), hi = values.back();
  if (hi - lo < (int64_t(1) << 24)) {
    std::vector<int32_t> table(static_cast<size_t>(hi - lo + 1), -1);
    for (int64_t c = 0; c < out.k; ++c) table[values[c] - lo] = static_cast<int32_t>(c);
    for (int64_t i = 0; i < n; ++i) {
      const int64_t l = labels[i];
      out.id[i] = l < lo || l > hi ? -1 : table[l - lo];
    }
  } else {
    for (int64_t i = 0; i < n; ++i) {
      auto it = std::lower_bound(values.begin(), values.end(), labels[i]);
      out.id[i] =
          it != values.end() && *it == labels[i] ? static_cast<int32_t>(it - values.begin()) : -1;
    }
  }
  for (int32_t c : out.id)
    if (c >= 0) ++out.sizes[c];
  return out;
}

namespace {
// "labels.h5" without a dataset: its /labels, or its only dataset (the readers pick 2-D ones).
std::string label_spec(const std::string& spec) {
  std::string ext = std::filesystem::path(spec).extension().string();
  for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (ext != ".h5" && ext != ".hdf5" && ext != ".he5") return spec;
  if (!std::filesystem::is_regular_file(spec)) return spec;
  const auto sets = list_datasets(spec);
  for (const auto& s : sets)
    if (s.path == "/labels") return spec + ":/labels";
  return sets.size() == 1 ? spec + ":" + sets[0].path : spec;
}
}  // namespace

std::vector<int32_t> read_labels(const std::string& spec, int64_t expected_rows) {
  SourceOptions so;
  so.allow_1d = true;
  auto src = open_source(label_spec(spec), so);
  require(src->cols() == 1, "labels ", src->name(), " has ", src->cols(),
          " columns; labels must be one column (or a 1-D dataset)");
  // One row short in a CSV: most likely a file without a header row, whose first label was taken as
  // the header.
  const bool csv_header_taken = src->dtype() == "csv" && src->rows() + 1 == expected_rows;
  require(
      src->rows() == expected_rows, "labels ", src->name(), " has ", src->rows(),
      " rows; the data has ", expected_rows,
      csv_header_taken ? " (a CSV file's first line is its header: add one, e.g. 'label')" : "");
  std::vector<int32_t> out(static_cast<size_t>(src->rows()));
  constexpr int64_t kChunk = int64_t(1) << 20;
  std::vector<double> buf;
  for (int64_t s = 0; s < src->rows(); s += kChunk) {
    const int64_t m = std::min(kChunk, src->rows() - s);
    buf.resize(static_cast<size_t>(m));
    src->read(s, m,
              buf.data());  // as double: integer labels exactly, never through float32
    for (int64_t i = 0; i < m; ++i) {
      const double v = buf[i];
      require(v == std::nearbyint(v), "labels ", src->name(), ": row ", s + i, " holds ", v,
              ", not an integer label");
      require(v >= std::numeric_limits<int32_t>::min() && v <= std::numeric_limits<int32_t>::max(),
              "labels ", src->name(), ": row ", s + i, " holds ",
              std::fabs(v) < 9e18 ? std::to_string(static_cast<long long>(v)) : std::to_string(v),
              ", outside the 32-bit label range (-2147483648 to 2147483647)");
      out[s + i] = static_cast<int32_t>(v);
    }
  }
  return out;
}

void check_metrics_params(const Source& data, const MetricsParams& p, bool with_sample) {
  if (with_sample)
    require(p.sample_size >= 0, "sample_size=", p.sample_size, " must be >= 0 (0 = exact)");
  require(data.cols() > 0, data.name(), ": rows have 0 columns");
}

void add_cluster_feature_sums(const float* x, int64_t rows, int64_t d, const int32_t* ids,
                              double* sums, int threads) {
#pragma omp parallel num_threads(threads)
  {
    const int nt = omp_get_num_threads(), t = omp_get_thread_num();
    const int64_t j0 = d * t / nt, j1 = d * (t + 1) / nt;
    for (int64_t i = 0; i < rows; ++i) {
      const int32_t c = ids[i];
      if (c < 0) continue;
      double* s = sums + c * d;
      for (int64_t j = j0; j < j1; ++j) s[j] += x[i * d + j];
    }
  }
}

}  // namespace embcluster
