#pragma once
// Page-locked host memory for direct copies to a device: cudaHostRegister behind HostPinning, and
// the test of whether a host pointer is page-locked.
#include <cstddef>

#include "io/host_pinning.h"

namespace embcluster {

// Registers buffers as portable page-locked memory (every device copies from them directly).
class CudaHostPinning final : public HostPinning {
 public:
  bool pin(void* p, size_t bytes) override;
  void unpin(void* p) override;
};

// Whether host memory at p is page-locked (registered or allocated pinned).
bool page_locked(const void* p);

}  // namespace embcluster
