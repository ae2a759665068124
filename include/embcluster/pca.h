#pragma once
// Principal component analysis, streamed: the mean and the covariance accumulated block by block
// in double (GEMM tiles), then a symmetric eigensolver: LAPACK dsyevd on the CPU, cuBLAS Dsyrk
// and cuSOLVER Dsyevd on a GPU (ctx.device; auto takes a GPU when one is present). Components and
// explained variance as scikit-learn's PCA (covariance with n - 1; each component's sign set so
// that its largest-magnitude entry is positive).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "embcluster/context.h"
#include "embcluster/source.h"

namespace embcluster {

struct PCAModel {
  int64_t rows = 0, dims = 0, n_components = 0;
  std::vector<double> mean;                      // dims
  std::vector<float> components;                 // n_components x dims, row-major, unit rows
  std::vector<double> explained_variance;        // n_components, descending
  std::vector<double> explained_variance_ratio;  // of the total variance
  double total_variance = 0;                     // trace of the covariance
  double seconds = 0;
  std::string device;       // where the covariance was accumulated: "cpu (2 threads)", "NVIDIA ..."
  std::string device_note;  // why auto ran on the CPU, or the eigenpairs were solved there
};

// Fits n_components (1..min(rows, dims)) principal components of data. Throws Error for a bad
// n_components or fewer than 2 rows.
PCAModel fit_pca(Source& data, int64_t n_components, const ExecutionContext& ctx = {});

// The rows of inner projected on the model's components as they are read ((x - mean) C^T):
// n_components columns. The model's dims must be inner's columns.
std::unique_ptr<Source> project_source(std::unique_ptr<Source> inner, const PCAModel& model);

}  // namespace embcluster
