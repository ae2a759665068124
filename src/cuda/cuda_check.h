#pragma once
// Every CUDA and cuBLAS call is checked, and every kernel launch. Out of memory becomes
// DeviceOutOfMemory (tiles shrink and retry, auto falls back to the CPU); every other failure
// becomes CudaError naming the call or kernel (cuda/device_error.h).
//
// EMBCLUSTER_CUDA_SYNC=1 in the environment synchronises the device after every kernel launch
// and cuBLAS call, so that a fault is reported at the kernel that caused it instead of at a later
// synchronisation (slow: for finding faults).
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "cuda/device_error.h"

namespace embcluster {

// Whether EMBCLUSTER_CUDA_SYNC is set (and not 0); read once.
bool cuda_sync_launches();

// Throws the exception for a failed call: DeviceOutOfMemory for cudaErrorMemoryAllocation,
// CudaError otherwise. Clears a non-sticky error first so that later calls can proceed.
[[noreturn]] void throw_cuda_error(cudaError_t e, const char* what, const char* file, int line);
// DeviceOutOfMemory for CUBLAS_STATUS_ALLOC_FAILED, CudaError otherwise.
[[noreturn]] void throw_cublas_error(cublasStatus_t s, const char* what, const char* file,
                                     int line);
// After a launch: the launch error now; with EMBCLUSTER_CUDA_SYNC the execution error too.
void check_launch(const char* kernel, const char* file, int line);

inline void cuda_check(cudaError_t e, const char* what, const char* file, int line) {
  if (e != cudaSuccess) throw_cuda_error(e, what, file, line);
}
inline void cublas_check(cublasStatus_t s, const char* what, const char* file, int line) {
  if (s != CUBLAS_STATUS_SUCCESS) throw_cublas_error(s, what, file, line);
  if (cuda_sync_launches()) check_launch(what, file, line);
}

// Makes `device` current for a scope and restores the caller's current device after it (a
// caller's thread keeps the device it had, as with FAISS's DeviceScope).
class DeviceScope {
 public:
  explicit DeviceScope(int device);
  ~DeviceScope();
  DeviceScope(const DeviceScope&) = delete;
  DeviceScope& operator=(const DeviceScope&) = delete;

 private:
  int previous_ = -1;
};

}  // namespace embcluster

#define EMB_CUDA(call) ::embcluster::cuda_check((call), #call, __FILE__, __LINE__)
#define EMB_CUBLAS(call) ::embcluster::cublas_check((call), #call, __FILE__, __LINE__)
// After a kernel launch (kernels/*.cu), named for the error message.
#define EMB_CUDA_LAUNCH(kernel) ::embcluster::check_launch(kernel, __FILE__, __LINE__)
