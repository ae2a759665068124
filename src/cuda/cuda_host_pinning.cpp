#include "cuda/cuda_host_pinning.h"

#include <cuda_runtime.h>

namespace embcluster {

bool CudaHostPinning::pin(void* p, size_t bytes) {
  if (cudaHostRegister(p, bytes, cudaHostRegisterPortable) == cudaSuccess) return true;
  cudaGetLastError();  // not page-locked (e.g. a locked-memory limit): copies go through staging
  return false;
}

void CudaHostPinning::unpin(void* p) {
  if (cudaHostUnregister(p) != cudaSuccess) cudaGetLastError();
}

bool page_locked(const void* p) {
  cudaPointerAttributes a{};
  if (cudaPointerGetAttributes(&a, p) != cudaSuccess) {
    cudaGetLastError();
    return false;
  }
  return a.type == cudaMemoryTypeHost;
}

}  // namespace embcluster
