#pragma once
// Greedy k-means++ rounds over a sample resident on the device, every round on one stream without
// a return to the host: a few numbers per round move, on the device (kernels/kmeanspp_kernels.cuh).
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "cuda/cuda_resources.h"

namespace embcluster {

struct DeviceSample {
  const float* rows;   // n x d on the device
  const float* norms;  // n squared norms on the device
  int64_t n, d;
};

// KMeansBackend::plus_plus_rounds on the device: picks (k, host) from picks[0] = first, the host
// draws ((k - 1) x trials) and weights (n, host, or null). Work buffers come from ws and are freed
// on return.
void device_plus_plus_rounds(Workspace& ws, cudaStream_t stream, cublasHandle_t blas,
                             const DeviceSample& sample, int64_t first, int64_t k, int64_t trials,
                             const double* draws, const double* w, int64_t* picks);

}  // namespace embcluster
