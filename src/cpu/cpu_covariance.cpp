// The PCA's covariance on the CPU: shifted column sums in row order and Y^T Y by BLAS dsyrk per
// block, in double; LAPACK's dsyevd for the eigenpairs.
#include <cblas.h>

#include <algorithm>
#include <cstddef>
#include <string>

#include "backend/covariance.h"
#include "embcluster/error.h"

extern "C" void dsyevd_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda,
                        double* w, double* work, const int* lwork, int* iwork, const int* liwork,
                        int* info, size_t jobz_len, size_t uplo_len);

namespace embcluster {
namespace {

class CpuCovariance final : public CovarianceBackend {
 public:
  CpuCovariance(const std::vector<double>& shift, int threads)
      : shift_(shift),
        d_(static_cast<int64_t>(shift.size())),
        threads_(threads),
        sums_(shift.size(), 0.0),
        gram_(shift.size() * shift.size(), 0.0) {}

  std::string device_name() const override {
    return "cpu (" + std::to_string(threads_) + " threads)";
  }

  void add(const Block& b) override {
    const int64_t d = d_;
    y_.resize(static_cast<size_t>(b.rows * d));
    for (int64_t i = 0; i < b.rows; ++i)
      for (int64_t j = 0; j < d; ++j) {
        const double v = static_cast<double>(b.data[i * d + j]) - shift_[j];
        y_[i * d + j] = v;
        sums_[j] += v;
      }
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, static_cast<int>(d),
                static_cast<int>(b.rows), 1.0, y_.data(), static_cast<int>(d), 1.0, gram_.data(),
                static_cast<int>(d));
  }

  void result(std::vector<double>* sums, std::vector<double>* gram) override {
    *sums = sums_;
    *gram = gram_;
    for (int64_t i = 0; i < d_; ++i)
      for (int64_t j = i + 1; j < d_; ++j) (*gram)[j * d_ + i] = (*gram)[i * d_ + j];
  }

  bool eigen(std::vector<double>& a, int64_t d, std::vector<double>* w, std::string*) override {
    cpu_eigen(a, d, w);
    return true;
  }

 private:
  std::vector<double> shift_;
  int64_t d_;
  int threads_;
  std::vector<double> sums_, gram_, y_;
};

}  // namespace

std::unique_ptr<CovarianceBackend> make_cpu_covariance(const std::vector<double>& shift,
                                                       int threads) {
  return std::make_unique<CpuCovariance>(shift, threads);
}

void cpu_eigen(std::vector<double>& a, int64_t d, std::vector<double>* w) {
  const int n = static_cast<int>(d);
  int info = 0, lwork = -1, liwork = -1, iwq = 0;
  double wq = 0;
  w->resize(static_cast<size_t>(d));
  dsyevd_("V", "U", &n, a.data(), &n, w->data(), &wq, &lwork, &iwq, &liwork, &info, 1, 1);
  lwork = static_cast<int>(wq);
  liwork = iwq;
  std::vector<double> work(static_cast<size_t>(std::max(lwork, 1)));
  std::vector<int> iwork(static_cast<size_t>(std::max(liwork, 1)));
  dsyevd_("V", "U", &n, a.data(), &n, w->data(), work.data(), &lwork, iwork.data(), &liwork, &info,
          1, 1);
  require(info == 0, "pca: the eigensolver failed (dsyevd info ", info, ")");
}

}  // namespace embcluster
