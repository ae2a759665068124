// Checked CUDA and cuBLAS calls, the launch check, device scopes and the RAII owners' memory.
#include "cuda/cuda_check.h"

#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>

#include "cuda/cuda_resources.h"
#include "embcluster/memory.h"

namespace embcluster {

bool cuda_sync_launches() {
  static const bool sync = [] {
    const char* v = std::getenv("EMBCLUSTER_CUDA_SYNC");
    return v && *v && std::strcmp(v, "0") != 0;
  }();
  return sync;
}

void throw_cuda_error(cudaError_t e, const char* what, const char* file, int line) {
  cudaGetLastError();  // clear a non-sticky error so that later calls can proceed
  std::ostringstream os;
  os << "CUDA error in " << what << " (" << file << ":" << line << "): " << cudaGetErrorString(e);
  if (e == cudaErrorMemoryAllocation) throw DeviceOutOfMemory(os.str());
  throw CudaError(os.str());
}

void throw_cublas_error(cublasStatus_t s, const char* what, const char* file, int line) {
  std::ostringstream os;
  os << "cuBLAS error in " << what << " (" << file << ":" << line << "): status "
     << static_cast<int>(s) << " (" << cublasGetStatusName(s) << ")";
  if (s == CUBLAS_STATUS_ALLOC_FAILED) throw DeviceOutOfMemory(os.str());
  throw CudaError(os.str());
}

void check_launch(const char* kernel, const char* file, int line) {
  cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess)
    throw_cuda_error(e, (std::string(kernel) + " (launch)").c_str(), file, line);
  if (!cuda_sync_launches()) return;
  e = cudaDeviceSynchronize();
  if (e != cudaSuccess)
    throw_cuda_error(e, (std::string(kernel) + " (EMBCLUSTER_CUDA_SYNC)").c_str(), file, line);
}

DeviceScope::DeviceScope(int device) {
  int current = -1;
  EMB_CUDA(cudaGetDevice(&current));
  if (current == device) return;
  EMB_CUDA(cudaSetDevice(device));
  previous_ = current;
}

DeviceScope::~DeviceScope() {
  if (previous_ >= 0) cudaSetDevice(previous_);
}

namespace {
// Runs f with `device` current, without throwing (for destructors).
template <class F>
void on_device_noexcept(int device, F f) noexcept {
  int current = -1;
  const bool switched = cudaGetDevice(&current) == cudaSuccess && current != device &&
                        cudaSetDevice(device) == cudaSuccess;
  f();
  if (switched) cudaSetDevice(current);
  cudaGetLastError();
}
}  // namespace

void* Workspace::allocate(size_t bytes) {
  DeviceScope scope(device_);
  void* p = nullptr;
  const cudaError_t e = cudaMalloc(&p, bytes);
  if (e == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    std::ostringstream os;
    os << "CUDA device cuda:" << device_ << " is out of memory: cudaMalloc of "
       << format_bytes(static_cast<int64_t>(bytes)) << " failed (budget " << format_bytes(budget_)
       << ", " << format_bytes(used()) << " in use)";
    throw DeviceOutOfMemory(os.str());
  }
  EMB_CUDA(e);
  used_.fetch_add(static_cast<int64_t>(bytes), std::memory_order_relaxed);
  return p;
}

void Workspace::deallocate(void* p, size_t bytes) noexcept {
  if (!p) return;
  on_device_noexcept(device_, [p] { cudaFree(p); });
  used_.fetch_sub(static_cast<int64_t>(bytes), std::memory_order_relaxed);
}

void* pinned_allocate(size_t bytes) {
  void* p = nullptr;
  const cudaError_t e = cudaMallocHost(&p, bytes);
  if (e == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    throw DeviceOutOfMemory("cannot pin " + format_bytes(static_cast<int64_t>(bytes)) +
                            " of host memory for copies to the CUDA device");
  }
  EMB_CUDA(e);
  return p;
}

void pinned_free(void* p) noexcept {
  if (!p) return;
  cudaFreeHost(p);
  cudaGetLastError();
}

Event::Event() {
  EMB_CUDA(cudaGetDevice(&device_));
  EMB_CUDA(cudaEventCreate(&e_));
}

Event::~Event() {
  cudaEvent_t e = e_;
  on_device_noexcept(device_, [e] { cudaEventDestroy(e); });
}

}  // namespace embcluster
