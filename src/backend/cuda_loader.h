#pragma once
// The library's side of the CUDA module (backend/cuda_module.h). The CUDA entry points the drivers
// call (embcluster/device.h, cuda/cuda_backend.h, cuda/cuda_metrics.h, cuda/cuda_dbscan.h) are
// defined in cuda_loader.cpp and forward to the module, which is opened with dlopen on first use.
// Without the module (a build without CUDA, a missing file) or without a device they answer as a
// build without CUDA does: no devices, and an Error naming --device from the factories.
#include <string>

namespace embcluster {

enum class CudaModuleState {
  absent,     // no module file: a build without CUDA
  no_device,  // the module is there, but the CUDA driver is missing or reports no device
  failed,     // the module is there and a device too, but the module would not load
  loaded,
};

struct CudaModuleStatus {
  CudaModuleState state = CudaModuleState::absent;
  std::string path;    // the module's file, when found
  std::string detail;  // why it is not loaded (empty when loaded)
};

// Finds the module and asks the CUDA driver for its device count (once per process, thread-safe);
// the module itself is loaded only when there is a device to use. Never throws.
const CudaModuleStatus& cuda_module_status();

// Whether this process has looked for the module already (a device choice or a factory did):
// then cuda_devices() costs nothing more. Never opens anything itself.
bool cuda_module_looked_up();

// The module's file: $EMBCLUSTER_CUDA_MODULE when set (and then only that), else
// libembcluster_cuda.so next to this library, else in the install libdir. Empty when none exists.
std::string find_cuda_module();

}  // namespace embcluster
