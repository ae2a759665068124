#pragma once
// RAII owners of device memory, pinned host memory and events. Each remembers its device and is
// freed there, whatever device is current when it goes.
#include <cuda_runtime.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "cuda/cuda_check.h"

namespace embcluster {

// The device memory of one component (a K-means backend, the DBSCAN passes, the silhouette
// sums): the DeviceBuffers bound to it allocate through it, so that it knows what is in use
// against the component's budget. The budget does not refuse allocations (the component sizes
// its tiles from budget() and available()); only the device does, with DeviceOutOfMemory.
// Must outlive the buffers bound to it.
class Workspace {
 public:
  Workspace(int device, int64_t budget) : device_(device), budget_(budget) {}
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;

  int device() const { return device_; }
  int64_t budget() const { return budget_; }
  int64_t used() const { return used_.load(std::memory_order_relaxed); }
  int64_t available() const { return budget_ - used(); }

  // `bytes` (> 0) of memory on the workspace's device; DeviceOutOfMemory when it has no room.
  void* allocate(size_t bytes);
  void deallocate(void* p, size_t bytes) noexcept;

  // Binds buffers (before their first allocation) to this workspace.
  template <class... Buffers>
  void adopt(Buffers&... buffers) {
    (buffers.bind(*this), ...);
  }

 private:
  int device_;
  int64_t budget_;
  std::atomic<int64_t> used_{0};
};

template <typename T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(Workspace& ws, size_t n = 0) : ws_(&ws) { resize(n); }
  ~DeviceBuffer() { release(); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&& o) noexcept : ws_(o.ws_), p_(o.p_), n_(o.n_) {
    o.p_ = nullptr;
    o.n_ = 0;
  }
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    std::swap(ws_, o.ws_);
    std::swap(p_, o.p_);
    std::swap(n_, o.n_);
    return *this;
  }

  void bind(Workspace& ws) { ws_ = &ws; }
  // Reallocates (contents lost) when n differs. Throws DeviceOutOfMemory when the device has no
  // room, so that callers can shrink and retry.
  void resize(size_t n) {
    if (n == n_) return;
    release();
    if (n == 0) return;
    if (!ws_) throw CudaError("DeviceBuffer: an allocation without a workspace");
    p_ = static_cast<T*>(ws_->allocate(n * sizeof(T)));
    n_ = n;
  }
  void release() noexcept {
    if (p_) ws_->deallocate(p_, n_ * sizeof(T));
    p_ = nullptr;
    n_ = 0;
  }
  T* get() const { return p_; }
  size_t size() const { return n_; }
  size_t bytes() const { return n_ * sizeof(T); }

 private:
  Workspace* ws_ = nullptr;
  T* p_ = nullptr;
  size_t n_ = 0;
};

// Page-locked host memory for asynchronous copies (staging buffers).
void* pinned_allocate(size_t bytes);  // DeviceOutOfMemory when the host cannot pin it
void pinned_free(void* p) noexcept;

template <typename T>
class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  ~PinnedBuffer() { pinned_free(p_); }
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;
  void resize(size_t n) {
    if (n == n_) return;
    pinned_free(p_);
    p_ = nullptr;
    n_ = 0;
    if (n == 0) return;
    p_ = static_cast<T*>(pinned_allocate(n * sizeof(T)));
    n_ = n;
  }
  T* get() const { return p_; }
  size_t size() const { return n_; }

 private:
  T* p_ = nullptr;
  size_t n_ = 0;
};

// An event on the device current at its creation, destroyed there.
class Event {
 public:
  Event();
  ~Event();
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  cudaEvent_t get() const { return e_; }
  void record(cudaStream_t s) { EMB_CUDA(cudaEventRecord(e_, s)); }

 private:
  int device_ = 0;
  cudaEvent_t e_ = nullptr;
};

// Waits for the work queued on s.
inline void sync_stream(cudaStream_t s) { EMB_CUDA(cudaStreamSynchronize(s)); }

}  // namespace embcluster
