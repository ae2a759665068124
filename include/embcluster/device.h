#pragma once
// CUDA devices as the library sees them. No CUDA types: usable from any C++ code.
#include <cstdint>
#include <string>
#include <vector>

namespace embcluster {

struct DeviceInfo {
  int index = 0;
  std::string name;
  int64_t total_bytes = 0;
  int64_t free_bytes = 0;  // 0 when unknown (read through NVML, when present)
  int cc_major = 0, cc_minor = 0;
  int multiprocessors = 0;
};

// True when this build carries the CUDA backend.
bool cuda_built();
// The CUDA devices present; empty without a driver or device (never throws). Creates no CUDA
// context on any device.
std::vector<DeviceInfo> cuda_devices();
// Opens the device (once per process), which runs a small kernel on it and compares it with the
// CPU arithmetic. Returns an empty string on success, otherwise what went wrong.
std::string cuda_self_test(int device);

}  // namespace embcluster
