#pragma once
// The PCA's backend primitive: the column sums and the Gram matrix Y^T Y of rows shifted by a
// fixed row (y = x - shift), accumulated block by block in double, and the eigenpairs of the
// symmetric covariance. The CPU (BLAS dsyrk, LAPACK dsyevd; algo/pca/pca.cpp) and CUDA (cuBLAS
// Dsyrk, cuSOLVER Dsyevd; cuda/cuda_pca.cpp) implement it; the driver (fit_pca) is written once.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "io/row_blocks.h"

namespace embcluster {

class CovarianceBackend {
 public:
  virtual ~CovarianceBackend() = default;
  // "cpu (2 threads)", "NVIDIA H100 80GB HBM3 (cuda:0)".
  virtual std::string device_name() const = 0;
  // Adds the block's rows (d columns, the shift's length).
  virtual void add(const Block& b) = 0;
  // After the last add: the column sums of y (d) and Y^T Y (d x d, both triangles, row-major).
  virtual void result(std::vector<double>* sums, std::vector<double>* gram) = 0;
  // The eigenpairs of the symmetric d x d matrix a: eigenvalues ascending into w, eigenvectors
  // into a (vector j at a[j * d]). False when this backend cannot solve it (then a is unchanged
  // and *why says why); the driver then solves it on the CPU.
  virtual bool eigen(std::vector<double>& a, int64_t d, std::vector<double>* w,
                     std::string* why) = 0;
};

// On the CPU: BLAS dsyrk per block (the caller sets BLAS's threads), LAPACK dsyevd.
std::unique_ptr<CovarianceBackend> make_cpu_covariance(const std::vector<double>& shift,
                                                       int threads);

// LAPACK dsyevd: as CovarianceBackend::eigen (always solves; throws Error when it fails).
void cpu_eigen(std::vector<double>& a, int64_t d, std::vector<double>* w);

// On CUDA device `device`; device_budget: bytes of device memory, 0 = the default share. Throws
// DeviceUnavailable / DeviceOutOfMemory (cuda/device_error.h) when the device cannot be used.
std::unique_ptr<CovarianceBackend> make_cuda_covariance(int device,
                                                        const std::vector<double>& shift,
                                                        int64_t device_budget);

}  // namespace embcluster
