// Device discovery and the self-test run by `embcluster info`.
#include <algorithm>
#include <cmath>
#include <vector>

#include "cuda/cuda_check.h"
#include "cuda/cuda_device.h"
#include "embcluster/device.h"
#include "kernels/distance.cuh"
#include "kernels/selftest.cuh"

namespace embcluster {

bool cuda_built() { return true; }

std::vector<DeviceInfo> cuda_devices() {
  std::vector<DeviceInfo> out;
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();
    return out;
  }
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, i) != cudaSuccess) continue;
    DeviceInfo info;
    info.index = i;
    info.name = prop.name;
    info.cc_major = prop.major;
    info.cc_minor = prop.minor;
    info.multiprocessors = prop.multiProcessorCount;
    info.total_bytes = static_cast<int64_t>(prop.totalGlobalMem);
    size_t free_b = 0, total_b = 0;
    if (cudaSetDevice(i) == cudaSuccess && cudaMemGetInfo(&free_b, &total_b) == cudaSuccess)
      info.free_bytes = static_cast<int64_t>(free_b);
    cudaGetLastError();
    out.push_back(info);
  }
  return out;
}

std::string cuda_self_test(int device) {
  try {
    EMB_CUDA(cudaSetDevice(device));
    const int64_t n = 1000, d = 37;
    std::vector<float> x(n * d);
    for (int64_t i = 0; i < n * d; ++i)
      x[i] = static_cast<float>((i * 7919) % 1000) / 250.0f - 2.0f;
    float *dx = nullptr, *dout = nullptr;
    EMB_CUDA(cudaMalloc(&dx, x.size() * sizeof(float)));
    std::vector<float> got(n);
    try {
      EMB_CUDA(cudaMalloc(&dout, n * sizeof(float)));
      EMB_CUDA(cudaMemcpy(dx, x.data(), x.size() * sizeof(float), cudaMemcpyHostToDevice));
      kern::launch_row_sq_norms(dx, n, d, dout, nullptr);
      EMB_CUDA_LAUNCH();
      EMB_CUDA(cudaMemcpy(got.data(), dout, n * sizeof(float), cudaMemcpyDeviceToHost));
    } catch (...) {
      cudaFree(dx);
      cudaFree(dout);
      throw;
    }
    cudaFree(dx);
    cudaFree(dout);
    for (int64_t i = 0; i < n; ++i) {
      const float want = kern::sq_norm(x.data() + i * d, d);
      if (std::fabs(got[i] - want) > 1e-5f * std::max(1.0f, want))
        return "row " + std::to_string(i) + ": device " + std::to_string(got[i]) + ", CPU " +
               std::to_string(want);
    }
    return "";
  } catch (const Error& e) {
    return e.what();
  }
}

OpenDevice open_cuda_device(int device, int64_t requested) {
  EMB_CUDA(cudaSetDevice(device));
  cudaDeviceProp prop{};
  EMB_CUDA(cudaGetDeviceProperties(&prop, device));
  OpenDevice out;
  out.name = std::string(prop.name) + " (cuda:" + std::to_string(device) + ")";
  const std::string check = cuda_self_test(device);
  require(check.empty(), "cuda:", device, " failed its self-test: ", check);
  size_t free_b = 0, total_b = 0;
  EMB_CUDA(cudaMemGetInfo(&free_b, &total_b));
  const auto free_i = static_cast<int64_t>(free_b);
  out.budget = requested > 0 ? std::min(requested, free_i) : static_cast<int64_t>(free_b * 0.85);
  return out;
}

}  // namespace embcluster
