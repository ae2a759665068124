#pragma once
// Shrink-and-retry on device out-of-memory, written once (no CUDA types: the CPU tests check it).
#include <algorithm>
#include <cstdint>

#include "cuda/device_error.h"

namespace embcluster {

// Calls try_once(tile) until it returns. On DeviceOutOfMemory the tile halves (not below
// min_tile) and the call is tried again; at min_tile the error propagates. Every other exception
// propagates at once: a kernel fault is never taken for a lack of memory. `tile` keeps the size
// that succeeded.
template <class F>
auto with_shrinking(int64_t& tile, int64_t min_tile, F&& try_once) -> decltype(try_once(tile)) {
  for (;;) {
    try {
      return try_once(tile);
    } catch (const DeviceOutOfMemory&) {
      if (tile <= min_tile) throw;
      tile = std::max(min_tile, tile / 2);
    }
  }
}

// Calls try_once() once: true when it returned, false when the device ran out of memory (the
// caller then takes a path that needs less, e.g. streaming instead of resident data). Every other
// exception propagates.
template <class F>
bool fits_on_device(F&& try_once) {
  try {
    try_once();
    return true;
  } catch (const DeviceOutOfMemory&) {
    return false;
  }
}

}  // namespace embcluster
