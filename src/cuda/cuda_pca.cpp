// The PCA's covariance on a CUDA device: rows streamed through a pinned buffer, shifted into
// double, their column sums in row order and Y^T Y by cuBLAS Dsyrk, all in double on the device;
// the eigenpairs by cuSOLVER's Dsyevd, opened with dlopen on first use so that the module does
// not need cuSOLVER to load (without it the eigenpairs are solved on the CPU, with a note).
#include <cusolverDn.h>
#include <dlfcn.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "backend/covariance.h"
#include "cuda/cuda_resources.h"
#include "cuda/gpu_resources.h"
#include "cuda/shrinking.h"
#include "kernels/pca_kernels.cuh"

namespace embcluster {
namespace {

// The cuSOLVER entry points the PCA uses, from the first libcusolver found.
struct CuSolver {
  decltype(&cusolverDnCreate) create = nullptr;
  decltype(&cusolverDnDestroy) destroy = nullptr;
  decltype(&cusolverDnSetStream) set_stream = nullptr;
  decltype(&cusolverDnDsyevd_bufferSize) syevd_size = nullptr;
  decltype(&cusolverDnDsyevd) syevd = nullptr;
  std::string missing;  // why it is unusable, or empty
};

const CuSolver& cusolver() {
  static CuSolver s;
  static std::once_flag once;
  std::call_once(once, [] {
    void* h = nullptr;
    for (const char* name : {"libcusolver.so.12", "libcusolver.so.11", "libcusolver.so"})
      if ((h = dlopen(name, RTLD_NOW | RTLD_LOCAL)) != nullptr) break;
    if (!h) {
      s.missing = "cuSOLVER (libcusolver.so.12) not found";
      return;
    }
    s.create = reinterpret_cast<decltype(s.create)>(dlsym(h, "cusolverDnCreate"));
    s.destroy = reinterpret_cast<decltype(s.destroy)>(dlsym(h, "cusolverDnDestroy"));
    s.set_stream = reinterpret_cast<decltype(s.set_stream)>(dlsym(h, "cusolverDnSetStream"));
    s.syevd_size =
        reinterpret_cast<decltype(s.syevd_size)>(dlsym(h, "cusolverDnDsyevd_bufferSize"));
    s.syevd = reinterpret_cast<decltype(s.syevd)>(dlsym(h, "cusolverDnDsyevd"));
    if (!s.create || !s.destroy || !s.set_stream || !s.syevd_size || !s.syevd)
      s.missing = "cuSOLVER lacks cusolverDnDsyevd";
  });
  return s;
}

void check_solver(cusolverStatus_t st, const char* what) {
  if (st == CUSOLVER_STATUS_ALLOC_FAILED)
    throw DeviceOutOfMemory(std::string(what) + ": out of memory");
  if (st != CUSOLVER_STATUS_SUCCESS)
    throw CudaError(std::string(what) + " failed (cusolver status " + std::to_string(st) + ")");
}

class CudaCovariance final : public CovarianceBackend {
 public:
  CudaCovariance(int device, const std::vector<double>& shift, int64_t budget)
      : res_(gpu_resources(device)),
        device_(device),
        d_(static_cast<int64_t>(shift.size())),
        ws_(device, res_.budget(budget)) {
    DeviceScope scope(device_);
    ws_.adopt(shift_, sums_, gram_, x_, y_);
    stream_ = res_.stream(0);
    shift_.resize(static_cast<size_t>(d_));
    sums_.resize(static_cast<size_t>(d_));
    gram_.resize(static_cast<size_t>(d_ * d_));
    EMB_CUDA(cudaMemcpyAsync(shift_.get(), shift.data(), shift_.bytes(), cudaMemcpyHostToDevice,
                             stream_));
    EMB_CUDA(cudaMemsetAsync(sums_.get(), 0, sums_.bytes(), stream_));
    EMB_CUDA(cudaMemsetAsync(gram_.get(), 0, gram_.bytes(), stream_));
    // Rows per chunk: float and double copies of them in a quarter of what is left.
    chunk_ = std::clamp<int64_t>(ws_.available() / 4 / (12 * d_), 1, 65536);
    with_shrinking(chunk_, 1, [&](int64_t r) {
      x_.resize(static_cast<size_t>(r * d_));
      y_.resize(static_cast<size_t>(r * d_));
    });
    host_x_.resize(static_cast<size_t>(chunk_ * d_));
    sync_stream(stream_);
  }

  std::string device_name() const override { return res_.name(); }

  void add(const Block& b) override {
    DeviceScope scope(device_);
    cublasHandle_t h = res_.blas(0);  // bound to stream 0
    EMB_CUBLAS(cublasSetMathMode(h, CUBLAS_DEFAULT_MATH));
    const double one = 1.0;
    for (int64_t r0 = 0; r0 < b.rows; r0 += chunk_) {
      const int64_t rows = std::min(chunk_, b.rows - r0);
      sync_stream(stream_);  // the pinned buffer's previous chunk has landed
      std::memcpy(host_x_.get(), b.data + r0 * d_, sizeof(float) * rows * d_);
      EMB_CUDA(cudaMemcpyAsync(x_.get(), host_x_.get(), sizeof(float) * rows * d_,
                               cudaMemcpyHostToDevice, stream_));
      kern::launch_shift_rows(x_.get(), rows, d_, shift_.get(), y_.get(), stream_);
      kern::launch_add_column_sums(y_.get(), rows, d_, sums_.get(), stream_);
      // Row-major Y (rows x d) is column-major Y^T (d x rows): G = Y^T (Y^T)^T, upper triangle.
      EMB_CUBLAS(cublasDsyrk(h, CUBLAS_FILL_MODE_UPPER, CUBLAS_OP_N, int(d_), int(rows), &one,
                             y_.get(), int(d_), &one, gram_.get(), int(d_)));
    }
    sync_stream(stream_);
  }

  void result(std::vector<double>* sums, std::vector<double>* gram) override {
    DeviceScope scope(device_);
    sums->resize(static_cast<size_t>(d_));
    std::vector<double> g(static_cast<size_t>(d_ * d_));
    EMB_CUDA(
        cudaMemcpyAsync(sums->data(), sums_.get(), sums_.bytes(), cudaMemcpyDeviceToHost, stream_));
    EMB_CUDA(
        cudaMemcpyAsync(g.data(), gram_.get(), gram_.bytes(), cudaMemcpyDeviceToHost, stream_));
    sync_stream(stream_);
    // Column-major upper triangle: entry (i, j), i <= j, at g[j * d + i].
    gram->resize(static_cast<size_t>(d_ * d_));
    for (int64_t j = 0; j < d_; ++j)
      for (int64_t i = 0; i <= j; ++i) (*gram)[i * d_ + j] = (*gram)[j * d_ + i] = g[j * d_ + i];
  }

  bool eigen(std::vector<double>& a, int64_t d, std::vector<double>* w, std::string* why) override {
    const CuSolver& s = cusolver();
    if (!s.missing.empty()) {
      *why = s.missing + ": eigenpairs on the CPU (LAPACK)";
      return false;
    }
    DeviceScope scope(device_);
    // The Gram matrix's buffer is done with: it holds the matrix and then its eigenvectors.
    x_.release();
    y_.release();
    // The solver's memory is the only new memory here: without it, LAPACK solves on the CPU (a
    // fault on the device propagates).
    DeviceBuffer<double> vals, work;
    DeviceBuffer<int> info;
    try {
      vals.bind(ws_);
      info.bind(ws_);
      vals.resize(static_cast<size_t>(d));
      info.resize(1);
    } catch (const DeviceOutOfMemory& e) {
      *why = std::string(e.what()) + ": eigenpairs on the CPU (LAPACK)";
      return false;
    }
    work.bind(ws_);
    cusolverDnHandle_t h = nullptr;
    check_solver(s.create(&h), "cusolverDnCreate");
    struct Destroy {
      const CuSolver& s;
      cusolverDnHandle_t h;
      ~Destroy() { s.destroy(h); }
    } destroy{s, h};
    check_solver(s.set_stream(h, stream_), "cusolverDnSetStream");
    EMB_CUDA(cudaMemcpyAsync(gram_.get(), a.data(), sizeof(double) * d * d, cudaMemcpyHostToDevice,
                             stream_));
    int lwork = 0;
    check_solver(s.syevd_size(h, CUSOLVER_EIG_MODE_VECTOR, CUBLAS_FILL_MODE_UPPER, int(d),
                              gram_.get(), int(d), vals.get(), &lwork),
                 "cusolverDnDsyevd_bufferSize");
    try {
      work.resize(static_cast<size_t>(std::max(lwork, 1)));
    } catch (const DeviceOutOfMemory& e) {
      *why = std::string(e.what()) + ": eigenpairs on the CPU (LAPACK)";
      return false;
    }
    check_solver(s.syevd(h, CUSOLVER_EIG_MODE_VECTOR, CUBLAS_FILL_MODE_UPPER, int(d), gram_.get(),
                         int(d), vals.get(), work.get(), lwork, info.get()),
                 "cusolverDnDsyevd");
    int host_info = 0;
    std::vector<double> vals_host(static_cast<size_t>(d)), vecs(static_cast<size_t>(d * d));
    EMB_CUDA(cudaMemcpyAsync(&host_info, info.get(), sizeof(int), cudaMemcpyDeviceToHost, stream_));
    EMB_CUDA(cudaMemcpyAsync(vals_host.data(), vals.get(), sizeof(double) * d,
                             cudaMemcpyDeviceToHost, stream_));
    EMB_CUDA(cudaMemcpyAsync(vecs.data(), gram_.get(), sizeof(double) * d * d,
                             cudaMemcpyDeviceToHost, stream_));
    sync_stream(stream_);
    if (host_info != 0) {  // a is unchanged: LAPACK solves it on the CPU
      *why = "cusolverDnDsyevd did not converge (info " + std::to_string(host_info) +
             "): eigenpairs on the CPU (LAPACK)";
      return false;
    }
    *w = std::move(vals_host);
    a = std::move(vecs);
    return true;
  }

 private:
  GpuResources& res_;
  int device_;
  int64_t d_;
  Workspace ws_;  // before the buffers: they are freed through it
  cudaStream_t stream_ = nullptr;
  int64_t chunk_ = 0;
  DeviceBuffer<double> shift_, sums_, gram_, y_;
  DeviceBuffer<float> x_;
  PinnedBuffer<float> host_x_;
};

}  // namespace

std::unique_ptr<CovarianceBackend> make_cuda_covariance(int device,
                                                        const std::vector<double>& shift,
                                                        int64_t device_budget) {
  return std::make_unique<CudaCovariance>(device, shift, device_budget);
}

}  // namespace embcluster
