#pragma once
// One owner of a CUDA device's shared resources per device and process (the shape of FAISS's
// GpuResources): opened on first use and self-tested once; a pool of non-blocking streams, each
// with its own cuBLAS handle, created on first use; the device's name and memory budgets.
// Components (K-means backend, DBSCAN passes, silhouette sums) take their streams and handles
// from here and their device memory from a Workspace (cuda/cuda_resources.h); kernels never
// allocate.
//
// Every method makes the owner's device current for its duration and restores the caller's.
// The registry is thread-safe; an owner's streams and handles serve one host thread at a time
// (components that share a device run one after the other, as they do in the commands).
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace embcluster {

class GpuResources {
 public:
  GpuResources(const GpuResources&) = delete;
  GpuResources& operator=(const GpuResources&) = delete;

  int device() const { return device_; }
  // "NVIDIA H100 80GB HBM3 (cuda:0)".
  const std::string& name() const { return name_; }

  // Non-blocking stream i of the pool (0, 1, ...).
  cudaStream_t stream(int i);
  // The cuBLAS handle bound to stream(i). Its math mode is whatever its last user set: a
  // component sets the mode it needs before its GEMMs.
  cublasHandle_t blas(int i);

  // Bytes of device memory a component may use: `requested` capped at 90 % of the free memory,
  // or 85 % of the free memory when requested <= 0.
  int64_t budget(int64_t requested);

 private:
  friend GpuResources& gpu_resources(int device);
  explicit GpuResources(int device);
  void open();
  std::string self_test();

  struct Lane {
    cudaStream_t stream = nullptr;
    cublasHandle_t blas = nullptr;
  };
  Lane& lane(int i);  // with mutex_ held

  int device_;
  std::string name_;
  std::mutex mutex_;
  std::vector<Lane> lanes_;
};

// The owner of CUDA device `device`, opened (and self-tested) on the first call. Throws
// DeviceUnavailable naming the device when it cannot be used; a later call tries again. Owners
// live until the process ends (the driver reclaims their streams and handles at exit; destroying
// them from static destructors would race the CUDA runtime's own teardown).
GpuResources& gpu_resources(int device);

}  // namespace embcluster
