#pragma once
// Every CUDA and cuBLAS call is checked; a failure becomes an embcluster::Error so that callers
// can fall back to the CPU or report one clear line.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "embcluster/error.h"

namespace embcluster {

inline void cuda_check(cudaError_t e, const char* what, const char* file, int line) {
  if (e != cudaSuccess) {
    cudaGetLastError();  // clear a non-sticky error so that later calls can proceed
    throw_error("CUDA error in ", what, " (", file, ":", line, "): ", cudaGetErrorString(e));
  }
}
inline void cublas_check(cublasStatus_t s, const char* what, const char* file, int line) {
  if (s != CUBLAS_STATUS_SUCCESS)
    throw_error("cuBLAS error in ", what, " (", file, ":", line, "): status ", static_cast<int>(s));
}

}  // namespace embcluster

#define EMB_CUDA(call) ::embcluster::cuda_check((call), #call, __FILE__, __LINE__)
#define EMB_CUBLAS(call) ::embcluster::cublas_check((call), #call, __FILE__, __LINE__)
// After a kernel launch: launch errors now, execution errors at the next synchronisation.
#define EMB_CUDA_LAUNCH() EMB_CUDA(cudaGetLastError())
