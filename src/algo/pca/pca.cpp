// Streamed PCA: shifted column sums and Y^T Y in double per block, the covariance, then its
// eigenpairs, on the CPU (BLAS, LAPACK) or a GPU (cuBLAS, cuSOLVER) through backend/covariance.h.
#include "embcluster/pca.h"

#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>

#include "backend/covariance.h"
#include "backend/device_select.h"
#include "core/thread_guard.h"
#include "embcluster/error.h"
#include "io/row_blocks.h"

namespace embcluster {
namespace {

double now_s() {
  using clock = std::chrono::steady_clock;
  return std::chrono::duration<double>(clock::now().time_since_epoch()).count();
}

// The covariance (d x d, both triangles) of data with n - 1, and the mean, through backend
// (made for the shift). Rows are shifted by the first row before accumulating, so that a large
// common offset costs no digits.
std::vector<double> covariance(Source& data, const ExecutionContext& ctx,
                               CovarianceBackend& backend, const std::vector<double>& shift,
                               std::vector<double>* mean) {
  const int64_t n = data.rows(), d = data.cols();
  RowBlocks blocks(data, context_memory_budget(ctx));
  blocks.for_each([&](const Block& b) {
    throw_if_cancelled(ctx);
    backend.add(b);
  });
  std::vector<double> sums, c;
  backend.result(&sums, &c);
  mean->resize(static_cast<size_t>(d));
  for (int64_t j = 0; j < d; ++j) (*mean)[j] = shift[j] + sums[j] / n;
  for (int64_t i = 0; i < d; ++i)
    for (int64_t j = i; j < d; ++j) {
      const double v = (c[i * d + j] - sums[i] * sums[j] / n) / (n - 1);
      c[i * d + j] = c[j * d + i] = v;
    }
  return c;
}

// The covariance and its eigenpairs on the device ctx chooses (auto: a GPU when present, the CPU
// when it fails); the device and any note go into m.
std::vector<double> covariance_on_device(Source& data, const ExecutionContext& ctx, int threads,
                                         PCAModel& m, std::vector<double>* w) {
  const int64_t d = data.cols();
  std::vector<float> first(static_cast<size_t>(d));
  data.read(0, 1, first.data());
  const std::vector<double> shift(first.begin(), first.end());
  const int device = choose_cuda_device(ctx.device, "PCA on the CPU", &m.device_note);
  std::unique_ptr<CovarianceBackend> backend;
  std::vector<double> a;
  if (device >= 0) {
    try {
      backend = make_cuda_covariance(device, shift, ctx.device_memory_budget);
      a = covariance(data, ctx, *backend, shift, &m.mean);
    } catch (const Error& e) {
      m.device_note = auto_fallback_note(ctx.device, e, "PCA on the CPU");
      backend.reset();
    }
  }
  if (!backend) {
    backend = make_cpu_covariance(shift, threads);
    a = covariance(data, ctx, *backend, shift, &m.mean);
  }
  m.device = backend->device_name();
  for (int64_t j = 0; j < d; ++j) m.total_variance += a[j * d + j];
  std::string why;
  if (!backend->eigen(a, d, w, &why)) {
    m.device_note = why;
    cpu_eigen(a, d, w);
  }
  return a;
}

class ProjectedSource final : public Source {
 public:
  ProjectedSource(std::unique_ptr<Source> inner, const PCAModel& m)
      : Source(inner->name() + " (pca " + std::to_string(m.n_components) + ")", inner->rows(),
               m.n_components, inner->dtype(), false),
        inner_(std::move(inner)),
        mean_(m.mean.begin(), m.mean.end()),
        comp_(m.components) {}

 protected:
  void read_rows(int64_t start, int64_t count, float* out) override {
    const int64_t d = inner_->cols(), c = cols();
    buf_.resize(static_cast<size_t>(count * d));
    inner_->read(start, count, buf_.data());
    for (int64_t i = 0; i < count; ++i)
      for (int64_t j = 0; j < d; ++j) buf_[i * d + j] -= mean_[j];
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(count),
                static_cast<int>(c), static_cast<int>(d), 1.0f, buf_.data(), static_cast<int>(d),
                comp_.data(), static_cast<int>(d), 0.0f, out, static_cast<int>(c));
  }

 private:
  std::unique_ptr<Source> inner_;
  std::vector<float> mean_, comp_, buf_;
};

}  // namespace

PCAModel fit_pca(Source& data, int64_t n_components, const ExecutionContext& ctx) {
  check_context(ctx);
  const int64_t n = data.rows(), d = data.cols();
  require(n >= 2, data.name(), ": PCA needs at least 2 rows (got ", n, ")");
  require(n_components >= 1 && n_components <= std::min(n, d), "n_components=", n_components,
          " must be between 1 and min(rows, columns) = ", std::min(n, d));
  require(d <= 32768, data.name(), ": PCA of ", d, " columns needs a ", d, " x ", d,
          " covariance; at most 32768 columns");
  const double t0 = now_s();
  const int threads = context_threads(ctx);
  const ThreadGuard guard(threads, threads);
  PCAModel m;
  m.rows = n;
  m.dims = d;
  m.n_components = n_components;
  std::vector<double> w;
  std::vector<double> a = covariance_on_device(data, ctx, threads, m, &w);
  for (int64_t c = 0; c < n_components; ++c) {
    const int64_t col = d - 1 - c;  // descending eigenvalues
    const double* v = a.data() + col * d;
    // scikit-learn's sign: the largest-magnitude entry positive.
    const double* big =
        std::max_element(v, v + d, [](double x, double y) { return std::fabs(x) < std::fabs(y); });
    const double sign = *big < 0 ? -1.0 : 1.0;
    for (int64_t j = 0; j < d; ++j) m.components.push_back(static_cast<float>(sign * v[j]));
    const double ev = std::max(w[col], 0.0);
    m.explained_variance.push_back(ev);
    m.explained_variance_ratio.push_back(m.total_variance > 0 ? ev / m.total_variance : 0.0);
  }
  m.seconds = now_s() - t0;
  return m;
}

std::unique_ptr<Source> project_source(std::unique_ptr<Source> inner, const PCAModel& model) {
  require(inner->cols() == model.dims, inner->name(), " has ", inner->cols(),
          " columns; the PCA was fitted on ", model.dims);
  return std::make_unique<ProjectedSource>(std::move(inner), model);
}

}  // namespace embcluster
