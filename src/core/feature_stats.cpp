#include "core/feature_stats.h"

#include <algorithm>

namespace embcluster {

void FeatureStats::add(const Block& b, int64_t chunk, int threads) {
  const int64_t d = b.cols;
  const int64_t chunks = (b.rows + chunk - 1) / chunk;
  std::vector<double> mean(static_cast<size_t>(chunks * d)), m2(static_cast<size_t>(chunks * d));
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t r0 = c * chunk, rows = std::min(chunk, b.rows - r0);
    double* mu = mean.data() + c * d;
    double* s2 = m2.data() + c * d;
    for (int64_t i = 0; i < rows; ++i) {
      const float* x = b.data + (r0 + i) * d;
      for (int64_t j = 0; j < d; ++j) mu[j] += x[j];
    }
    for (int64_t j = 0; j < d; ++j) mu[j] /= static_cast<double>(rows);
    for (int64_t i = 0; i < rows; ++i) {
      const float* x = b.data + (r0 + i) * d;
      for (int64_t j = 0; j < d; ++j) {
        const double t = x[j] - mu[j];
        s2[j] += t * t;
      }
    }
  }
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t rows = std::min(chunk, b.rows - c * chunk);
    merge(rows, mean.data() + c * d, m2.data() + c * d);
  }
}

void FeatureStats::merge(int64_t n, const double* mean, const double* m2) {
  const double na = static_cast<double>(count_), nb = static_cast<double>(n), nt = na + nb;
  for (size_t j = 0; j < mean_.size(); ++j) {
    const double delta = mean[j] - mean_[j];
    mean_[j] += delta * nb / nt;
    m2_[j] += m2[j] + delta * delta * na * nb / nt;
  }
  count_ += n;
}

std::vector<double> FeatureStats::variance() const {
  std::vector<double> v(m2_.size(), 0.0);
  if (count_ == 0) return v;
  for (size_t j = 0; j < v.size(); ++j) v[j] = m2_[j] / static_cast<double>(count_);
  return v;
}

double FeatureStats::mean_variance() const {
  const auto v = variance();
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0.0 : s / static_cast<double>(v.size());
}

}  // namespace embcluster
