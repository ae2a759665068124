#pragma once
// Opening a CUDA device for a backend: made current, named, self-tested, with a memory budget.
#include <cstdint>
#include <string>

namespace embcluster {

struct OpenDevice {
  std::string name;    // e.g. "NVIDIA H100 80GB HBM3 (cuda:0)"
  int64_t budget = 0;  // bytes the backend may allocate on the device
};

// Makes `device` current on this thread and checks it with the self-test. The budget is
// `requested` capped at the free memory, or 85 % of the free memory when `requested` <= 0.
// Throws Error naming the device when it cannot be used.
OpenDevice open_cuda_device(int device, int64_t requested);

}  // namespace embcluster
