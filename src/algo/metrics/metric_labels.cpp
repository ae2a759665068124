#include "algo/metrics/metric_labels.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "embcluster/error.h"
#include "embcluster/metrics.h"
#include "embcluster/source.h"
#include "io/row_values.h"

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

std::vector<int32_t> read_labels(const std::string& spec, int64_t expected_rows) {
  auto src = open_row_values(spec, "labels", expected_rows);
  std::vector<int32_t> out(static_cast<size_t>(src->rows()));
  for_each_value_chunk(*src, [&](int64_t s, const double* v, int64_t m) {
    for (int64_t i = 0; i < m; ++i) {
      require(v[i] == std::nearbyint(v[i]), "labels ", src->name(), ": row ", s + i, " holds ",
              v[i], ", not an integer label");
      require(v[i] >= std::numeric_limits<int32_t>::min() &&
                  v[i] <= std::numeric_limits<int32_t>::max(),
              "labels ", src->name(), ": row ", s + i, " holds ",
              std::fabs(v[i]) < 9e18 ? std::to_string(static_cast<long long>(v[i]))
                                     : std::to_string(v[i]),
              ", outside the 32-bit label range (-2147483648 to 2147483647)");
      out[s + i] = static_cast<int32_t>(v[i]);
    }
  });
  return out;
}

MeanInterval mean_interval(const std::vector<float>& values) {
  MeanInterval r;
  double sum = 0;
  int64_t m = 0;
  for (float v : values)
    if (!std::isnan(v)) sum += v, ++m;
  r.mean = r.low = r.high = m > 0 ? sum / static_cast<double>(m) : 0.0;
  if (m < 2) return r;
  double ss = 0;
  for (float v : values)
    if (!std::isnan(v)) ss += (v - r.mean) * (v - r.mean);
  r.std_error = std::sqrt(ss / (m - 1) / m);
  r.low = r.mean - 1.96 * r.std_error;
  r.high = r.mean + 1.96 * r.std_error;
  return r;
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
