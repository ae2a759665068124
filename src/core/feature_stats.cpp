#include "core/feature_stats.h"

#include <algorithm>

#include "core/distributed.h"

namespace embcluster {

void FeatureStats::Moments::reset(int64_t d) {
  n = 0;
  mean.assign(static_cast<size_t>(d), 0.0);
  m2.assign(static_cast<size_t>(d), 0.0);
}

void FeatureStats::Moments::add(const Moments& r) {
  const double na = static_cast<double>(n), nb = static_cast<double>(r.n), nt = na + nb;
  if (r.n == 0) return;
  for (size_t j = 0; j < mean.size(); ++j) {
    const double delta = r.mean[j] - mean[j];
    mean[j] += delta * nb / nt;
    m2[j] += r.m2[j] + delta * delta * na * nb / nt;
  }
  n += r.n;
}

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
  Moments m;
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t r0 = b.start + c * chunk;
    const int64_t piece = r0 / kSumPieceRows;
    if (piece != piece_) {
      if (piece_ >= 0) done_.push(piece_, 0, std::move(open_));
      open_.reset(d_);
      piece_ = piece;
    }
    m.n = std::min(chunk, b.start + b.rows - r0);
    m.mean.assign(mean.begin() + c * d, mean.begin() + (c + 1) * d);
    m.m2.assign(m2.begin() + c * d, m2.begin() + (c + 1) * d);
    open_.add(m);
  }
}

void FeatureStats::finish(Communicator* comm) {
  if (piece_ >= 0) done_.push(piece_, 0, std::move(open_));
  piece_ = -1;
  open_.reset(d_);
  if (comm) {
    const int64_t d = d_;
    gather_tree(
        done_, *comm,
        [](Bytes& b, const Moments& m) {
          b.put(m.n);
          b.put(m.mean.data(), m.mean.size());
          b.put(m.m2.data(), m.m2.size());
        },
        [d](BytesReader& r) {
          Moments m;
          m.reset(d);
          m.n = r.get<int64_t>();
          r.get(m.mean.data(), m.mean.size());
          r.get(m.m2.data(), m.m2.size());
          return m;
        });
  }
  if (done_.empty())
    total_.reset(d_);
  else
    total_ = done_.fold();
}

std::vector<double> FeatureStats::variance() const {
  std::vector<double> v(total_.m2.size(), 0.0);
  if (total_.n == 0) return v;
  for (size_t j = 0; j < v.size(); ++j) v[j] = total_.m2[j] / static_cast<double>(total_.n);
  return v;
}

double FeatureStats::mean_variance() const {
  const auto v = variance();
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0.0 : s / static_cast<double>(v.size());
}

}  // namespace embcluster
