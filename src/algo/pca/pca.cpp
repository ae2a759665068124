// Streamed PCA: shifted column sums and Y^T Y in double (dsyrk per block), the covariance, then
// LAPACK's dsyevd for its eigenpairs.
#include "embcluster/pca.h"

#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>

#include "core/thread_guard.h"
#include "embcluster/error.h"
#include "io/row_blocks.h"

extern "C" void dsyevd_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda,
                        double* w, double* work, const int* lwork, int* iwork, const int* liwork,
                        int* info, size_t jobz_len, size_t uplo_len);

namespace embcluster {
namespace {

double now_s() {
  using clock = std::chrono::steady_clock;
  return std::chrono::duration<double>(clock::now().time_since_epoch()).count();
}

// The covariance (d x d, both triangles) of data with n - 1, and the mean. Rows are shifted by
// the first row before accumulating, so that a large common offset costs no digits.
std::vector<double> covariance(Source& data, const ExecutionContext& ctx,
                               std::vector<double>* mean) {
  const int64_t n = data.rows(), d = data.cols();
  std::vector<double> shift(static_cast<size_t>(d)), sums(static_cast<size_t>(d), 0.0);
  std::vector<double> c(static_cast<size_t>(d * d), 0.0), y;
  std::vector<float> first(static_cast<size_t>(d));
  data.read(0, 1, first.data());
  std::copy(first.begin(), first.end(), shift.begin());
  RowBlocks blocks(data, context_memory_budget(ctx));
  blocks.for_each([&](const Block& b) {
    throw_if_cancelled(ctx);
    y.resize(static_cast<size_t>(b.rows * d));
    for (int64_t i = 0; i < b.rows; ++i)
      for (int64_t j = 0; j < d; ++j) {
        const double v = static_cast<double>(b.data[i * d + j]) - shift[j];
        y[i * d + j] = v;
        sums[j] += v;
      }
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, static_cast<int>(d),
                static_cast<int>(b.rows), 1.0, y.data(), static_cast<int>(d), 1.0, c.data(),
                static_cast<int>(d));
  });
  mean->resize(static_cast<size_t>(d));
  for (int64_t j = 0; j < d; ++j) (*mean)[j] = shift[j] + sums[j] / n;
  for (int64_t i = 0; i < d; ++i)
    for (int64_t j = i; j < d; ++j) {
      const double v = (c[i * d + j] - sums[i] * sums[j] / n) / (n - 1);
      c[i * d + j] = c[j * d + i] = v;
    }
  return c;
}

// Eigenvalues ascending into w; a holds the eigenvectors (column-major: vector j at a[j * d]).
void eigen(std::vector<double>& a, int64_t d, std::vector<double>* w) {
  const int n = static_cast<int>(d);
  int info = 0, lwork = -1, liwork = -1, iwq = 0;
  double wq = 0;
  w->resize(static_cast<size_t>(d));
  dsyevd_("V", "U", &n, a.data(), &n, w->data(), &wq, &lwork, &iwq, &liwork, &info, 1, 1);
  lwork = static_cast<int>(wq);
  liwork = iwq;
  std::vector<double> work(static_cast<size_t>(std::max(lwork, 1)));
  std::vector<int> iwork(static_cast<size_t>(std::max(liwork, 1)));
  dsyevd_("V", "U", &n, a.data(), &n, w->data(), work.data(), &lwork, iwork.data(), &liwork,
          &info, 1, 1);
  require(info == 0, "pca: the eigensolver failed (dsyevd info ", info, ")");
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
  std::vector<double> a = covariance(data, ctx, &m.mean);
  for (int64_t j = 0; j < d; ++j) m.total_variance += a[j * d + j];
  std::vector<double> w;
  eigen(a, d, &w);
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
