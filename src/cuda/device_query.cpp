// Device discovery without creating contexts, and the self-test shown by `embcluster info`.
//
// cudaGetDeviceCount and cudaGetDeviceProperties read the driver's device attributes and create
// no context; free memory (cudaMemGetInfo) would need a context on every GPU, so it is read from
// NVML (libnvidia-ml.so.1, loaded with dlopen when present), matched to the CUDA device by PCI
// bus id. Without NVML the free memory is reported as 0 (unknown).
#include <dlfcn.h>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "cuda/cuda_check.h"
#include "cuda/gpu_resources.h"
#include "embcluster/device.h"

namespace embcluster {
namespace {

// The few NVML entry points used here, declared as NVML's C API defines them.
struct NvmlMemory {
  unsigned long long total, free, used;
};
using NvmlDevice = void*;
using NvmlInit = int (*)();
using NvmlByBusId = int (*)(const char*, NvmlDevice*);
using NvmlMemoryInfo = int (*)(NvmlDevice, NvmlMemory*);

class Nvml {
 public:
  // Free bytes of the GPU at this PCI bus id, or -1 when NVML cannot tell.
  int64_t free_bytes(const char* bus_id) const {
    if (!ok_) return -1;
    NvmlDevice dev = nullptr;
    NvmlMemory mem{};
    if (by_bus_id_(bus_id, &dev) != 0 || memory_info_(dev, &mem) != 0) return -1;
    return static_cast<int64_t>(mem.free);
  }

  static const Nvml& get() {
    static const Nvml nvml;  // loaded once, kept for the process
    return nvml;
  }

 private:
  Nvml() {
    void* lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) return;
    auto init = reinterpret_cast<NvmlInit>(dlsym(lib, "nvmlInit_v2"));
    by_bus_id_ = reinterpret_cast<NvmlByBusId>(dlsym(lib, "nvmlDeviceGetHandleByPciBusId_v2"));
    memory_info_ = reinterpret_cast<NvmlMemoryInfo>(dlsym(lib, "nvmlDeviceGetMemoryInfo"));
    ok_ = init && by_bus_id_ && memory_info_ && init() == 0;
  }
  bool ok_ = false;
  NvmlByBusId by_bus_id_ = nullptr;
  NvmlMemoryInfo memory_info_ = nullptr;
};

}  // namespace

std::vector<DeviceInfo> cuda_devices() {
  std::vector<DeviceInfo> out;
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();
    return out;
  }
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, i) != cudaSuccess) {
      cudaGetLastError();
      continue;
    }
    DeviceInfo info;
    info.index = i;
    info.name = prop.name;
    info.cc_major = prop.major;
    info.cc_minor = prop.minor;
    info.multiprocessors = prop.multiProcessorCount;
    info.total_bytes = static_cast<int64_t>(prop.totalGlobalMem);
    char bus_id[32];
    std::snprintf(bus_id, sizeof bus_id, "%x:%x:%x.0", static_cast<unsigned>(prop.pciDomainID),
                  static_cast<unsigned>(prop.pciBusID), static_cast<unsigned>(prop.pciDeviceID));
    info.free_bytes = std::max<int64_t>(0, Nvml::get().free_bytes(bus_id));
    out.push_back(info);
  }
  return out;
}

std::string cuda_self_test(int device) {
  try {
    gpu_resources(device);  // opening runs the self-test, once per process
    return "";
  } catch (const Error& e) {
    return e.what();
  }
}

}  // namespace embcluster
