#pragma once
// The three ways work on a CUDA device fails, as exception types (no CUDA types here, so that the
// drivers and the device choice can tell them apart).
//
// All three derive from Error: the command prints one line whichever it is. `--device auto`
// falls back to the CPU only on the first two; a CudaError (a kernel fault, a failing CUDA or
// cuBLAS call) always propagates, naming the call or kernel, because running the CPU path after
// it would hide a bug.
#include <string>

#include "embcluster/error.h"

namespace embcluster {

// The device cannot be used at all: no such device, no driver, a failed self-test, or input
// beyond what the device path supports.
class DeviceUnavailable : public Error {
 public:
  explicit DeviceUnavailable(const std::string& what) : Error(what) {}
};

// An allocation on the device (cudaErrorMemoryAllocation, a cuBLAS allocation failure, pinned
// host memory) failed, or the device memory budget cannot hold the smallest working set. Tiles
// shrink and retry on this error only (cuda/shrinking.h).
class DeviceOutOfMemory : public Error {
 public:
  explicit DeviceOutOfMemory(const std::string& what) : Error(what) {}
};

// Any other failure of a CUDA or cuBLAS call or of a kernel.
class CudaError : public Error {
 public:
  explicit CudaError(const std::string& what) : Error(what) {}
};

}  // namespace embcluster
