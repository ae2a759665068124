#pragma once
// Page-locking of host buffers, so that a device copies from them directly (DMA) instead of
// through a staging buffer. A device backend provides it; RowBlocks pins its streaming buffers
// with it once and unpins them before they are freed.
#include <cstddef>

namespace embcluster {

class HostPinning {
 public:
  virtual ~HostPinning() = default;
  // True when [p, p + bytes) is now page-locked; false leaves it pageable (copies still work,
  // through staging).
  virtual bool pin(void* p, size_t bytes) = 0;
  // Undoes a pin() that returned true.
  virtual void unpin(void* p) = 0;
};

}  // namespace embcluster
