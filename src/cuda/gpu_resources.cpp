// The per-device owner of streams, cuBLAS handles and budgets, and the registry of owners.
#include "cuda/gpu_resources.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "cuda/cuda_check.h"
#include "cuda/cuda_resources.h"
#include "kernels/distance.cuh"
#include "kernels/selftest.cuh"

namespace embcluster {

GpuResources::GpuResources(int device) : device_(device) {
  try {
    open();
  } catch (...) {
    for (Lane& l : lanes_) {
      if (l.blas) cublasDestroy(l.blas);
      if (l.stream) cudaStreamDestroy(l.stream);
    }
    cudaGetLastError();
    try {
      throw;
    } catch (const CudaError& e) {
      // Whatever call failed while opening, the device cannot be used: auto falls back.
      throw DeviceUnavailable(e.what());
    }
  }
}

void GpuResources::open() {
  int count = 0;
  EMB_CUDA(cudaGetDeviceCount(&count));
  if (device_ < 0 || device_ >= count)
    throw DeviceUnavailable("no CUDA device cuda:" + std::to_string(device_) + " (" +
                            std::to_string(count) + " found)");
  cudaDeviceProp prop{};
  EMB_CUDA(cudaGetDeviceProperties(&prop, device_));
  name_ = std::string(prop.name) + " (cuda:" + std::to_string(device_) + ")";
  const std::string check = self_test();
  if (!check.empty())
    throw DeviceUnavailable("cuda:" + std::to_string(device_) + " failed its self-test: " + check);
}

// A small kernel against the CPU arithmetic, on the pool's first stream.
std::string GpuResources::self_test() {
  DeviceScope scope(device_);
  const int64_t n = 1000, d = 37;
  std::vector<float> x(static_cast<size_t>(n * d));
  for (int64_t i = 0; i < n * d; ++i) x[i] = static_cast<float>((i * 7919) % 1000) / 250.0f - 2.0f;
  Workspace ws(device_, 0);
  DeviceBuffer<float> dx(ws, x.size()), dout(ws, static_cast<size_t>(n));
  std::vector<float> got(static_cast<size_t>(n));
  const cudaStream_t s = stream(0);
  EMB_CUDA(cudaMemcpyAsync(dx.get(), x.data(), dx.bytes(), cudaMemcpyHostToDevice, s));
  kern::launch_row_sq_norms(dx.get(), n, d, dout.get(), s);
  EMB_CUDA(cudaMemcpyAsync(got.data(), dout.get(), dout.bytes(), cudaMemcpyDeviceToHost, s));
  sync_stream(s);
  for (int64_t i = 0; i < n; ++i) {
    const float want = kern::sq_norm(x.data() + i * d, d);
    if (std::fabs(got[i] - want) > 1e-5f * std::max(1.0f, want))
      return "row " + std::to_string(i) + ": device " + std::to_string(got[i]) + ", CPU " +
             std::to_string(want);
  }
  return "";
}

GpuResources::Lane& GpuResources::lane(int i) {
  if (i < 0) throw CudaError("GpuResources: stream index " + std::to_string(i));
  if (static_cast<size_t>(i) >= lanes_.size()) lanes_.resize(static_cast<size_t>(i) + 1);
  Lane& l = lanes_[static_cast<size_t>(i)];
  if (!l.stream) {
    DeviceScope scope(device_);
    EMB_CUDA(cudaStreamCreateWithFlags(&l.stream, cudaStreamNonBlocking));
  }
  return l;
}

cudaStream_t GpuResources::stream(int i) {
  std::lock_guard<std::mutex> lock(mutex_);
  return lane(i).stream;
}

cublasHandle_t GpuResources::blas(int i) {
  std::lock_guard<std::mutex> lock(mutex_);
  Lane& l = lane(i);
  if (!l.blas) {
    DeviceScope scope(device_);
    cublasHandle_t h = nullptr;
    EMB_CUBLAS(cublasCreate(&h));
    const cublasStatus_t st = cublasSetStream(h, l.stream);
    if (st != CUBLAS_STATUS_SUCCESS) {
      cublasDestroy(h);
      EMB_CUBLAS(st);
    }
    l.blas = h;
  }
  return l.blas;
}

int64_t GpuResources::budget(int64_t requested) {
  DeviceScope scope(device_);
  size_t free_b = 0, total_b = 0;
  EMB_CUDA(cudaMemGetInfo(&free_b, &total_b));
  if (requested <= 0) return static_cast<int64_t>(static_cast<double>(free_b) * 0.85);
  return std::min(requested, static_cast<int64_t>(static_cast<double>(free_b) * 0.9));
}

GpuResources& gpu_resources(int device) {
  // Never destroyed: see the header.
  static std::mutex* mutex = new std::mutex;
  static auto* owners = new std::map<int, GpuResources*>;
  std::lock_guard<std::mutex> lock(*mutex);
  auto it = owners->find(device);
  if (it != owners->end()) return *it->second;
  auto* owner = new GpuResources(device);  // throws: nothing is registered, the next call retries
  owners->emplace(device, owner);
  return *owner;
}

}  // namespace embcluster
