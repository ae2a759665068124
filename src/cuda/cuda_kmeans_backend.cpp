// CUDA K-means backend: cuBLAS GEMM tiles fused with a custom argmin kernel, exact distances and
// ordered centroid sums on the device. Blocks that fit the device budget stay on the device for
// every iteration; the others are streamed through pinned buffers on two streams, so the copy of
// one chunk overlaps the compute of the other.
#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "cuda/cuda_backend.h"
#include "cuda/cuda_device.h"
#include "cuda/cuda_resources.h"
#include "cuda/gpu_phases.h"
#include "embcluster/memory.h"
#include "kernels/kmeans_kernels.cuh"
#include "kernels/segments.cuh"
#include "kernels/selftest.cuh"

namespace embcluster {
namespace {

constexpr int64_t kMaxCentreChunk = 8192;  // centres per GEMM tile
constexpr int64_t kAgreementRows = 4096;   // rows checked against fp32 in tf32/bf16 modes

// Per-stream working set: one chunk of rows in flight.
struct Lane {
  Stream stream;
  // One cuBLAS handle per stream: a handle shared by streams that run at the same time picks its
  // internal workspace per call, and cuBLAS then does not promise the same bits on every run.
  CublasHandle blas;
  Event accumulated;
  PhaseTimer timer;
  DeviceBuffer<float> x, g, best_v, dist;
  DeviceBuffer<uint16_t> xb;
  DeviceBuffer<int32_t> labels, labels_tmp, rows_tmp, sorted_rows, seg_count, seg_start;
  DeviceBuffer<char> scratch;
  PinnedBuffer<float> host_x, host_dist;
  PinnedBuffer<int32_t> host_labels;
  // Results waiting in host_labels/host_dist for the caller's arrays.
  int32_t* out_labels = nullptr;
  float* out_dist = nullptr;
  int64_t out_rows = 0;
};

class CudaKMeansBackend final : public KMeansBackend {
 public:
  CudaKMeansBackend(const KMeansParams& p, const ExecutionContext& ctx, int device)
      : device_(device), precision_(p.precision), budget_(ctx.device_memory_budget) {
    OpenDevice dev = open_cuda_device(device_, budget_);
    name_ = dev.name;
    budget_ = dev.budget;
    handle_ = std::make_unique<CublasHandle>();  // k-means++ distances, always fp32
  }

  std::string device_name() const override { return name_; }

  void set_centroids(const float* c, int64_t k, int64_t d) override {
    EMB_CUDA(cudaSetDevice(device_));
    if (d != d_) cache_.clear();  // resident blocks hold rows of d_ columns
    if (k != k_ || d != d_) {
      k_ = k;
      d_ = d;
      kc_ = std::min(k_, kMaxCentreChunk);
      centres_.resize(static_cast<size_t>(k * d));
      norms_.resize(static_cast<size_t>(k));
      if (precision_ == Precision::Bf16) centres_bf16_.resize(static_cast<size_t>(k * d));
      sums_.resize(static_cast<size_t>(k * d));
      counts_.resize(static_cast<size_t>(k));
      sq_.resize(static_cast<size_t>(k));
      chunk_rows_ = 0;  // workspace sized again at the next assign
    }
    EMB_CUDA(cudaMemcpy(centres_.get(), c, sizeof(float) * k * d, cudaMemcpyHostToDevice));
    kern::launch_row_sq_norms(centres_.get(), k, d, norms_.get(), nullptr);
    EMB_CUDA_LAUNCH();
    if (precision_ == Precision::Bf16) {
      kern::launch_to_bf16(centres_.get(), k * d, centres_bf16_.get(), nullptr);
      EMB_CUDA_LAUNCH();
    }
    EMB_CUDA(cudaDeviceSynchronize());
  }

  void begin_pass(ClusterSums* sums) override {
    EMB_CUDA(cudaSetDevice(device_));
    // The k-means++ sample is done with (each initialisation sets its own): free its memory.
    for (auto* b : {&sample_, &sample_norms_, &pp_y_, &pp_norms_, &pp_dist_}) b->release();
    check_agreement_ = precision_ != Precision::Fp32;
    if (!sums) return;
    EMB_CUDA(cudaMemset(sums_.get(), 0, sums_.bytes()));
    EMB_CUDA(cudaMemset(counts_.get(), 0, counts_.bytes()));
    EMB_CUDA(cudaMemset(sq_.get(), 0, sq_.bytes()));
    EMB_CUDA(cudaDeviceSynchronize());  // the lanes' streams do not wait for the null stream
    last_accumulated_ = nullptr;
  }

  void end_pass(ClusterSums* sums) override {
    if (!sums) return;
    EMB_CUDA(cudaSetDevice(device_));
    EMB_CUDA(cudaDeviceSynchronize());
    EMB_CUDA(cudaMemcpy(sums->sums.data(), sums_.get(), sums_.bytes(), cudaMemcpyDeviceToHost));
    static_assert(sizeof(long long) == sizeof(int64_t), "counts are 64-bit");
    EMB_CUDA(
        cudaMemcpy(sums->counts.data(), counts_.get(), counts_.bytes(), cudaMemcpyDeviceToHost));
    EMB_CUDA(cudaMemcpy(sums->sq_dist.data(), sq_.get(), sq_.bytes(), cudaMemcpyDeviceToHost));
  }

  void assign(const Block& b, int32_t* labels, float* dist, ClusterSums* sums) override {
    EMB_CUDA(cudaSetDevice(device_));
    ensure_workspace(b.rows);
    const float* resident = cached_block(b);
    for (int64_t c = 0, r0 = 0; r0 < b.rows; ++c, r0 += chunk_rows_) {
      Lane& lane = *lanes_[c & 1];
      finish(lane);  // the lane's previous chunk is done and copied out
      const int64_t rows = std::min(chunk_rows_, b.rows - r0);
      const float* x = resident ? resident + r0 * d_ : upload(lane, b.data + r0 * d_, rows);
      compute(lane, x, rows, sums != nullptr);
      if (check_agreement_) check_agreement(lane, x, std::min(rows, kAgreementRows));
      lane.out_labels = labels + r0;
      lane.out_dist = dist + r0;
      lane.out_rows = rows;
      lane.timer.start("transfer", lane.stream.get());
      EMB_CUDA(cudaMemcpyAsync(lane.host_labels.get(), lane.labels.get(), sizeof(int32_t) * rows,
                               cudaMemcpyDeviceToHost, lane.stream.get()));
      EMB_CUDA(cudaMemcpyAsync(lane.host_dist.get(), lane.dist.get(), sizeof(float) * rows,
                               cudaMemcpyDeviceToHost, lane.stream.get()));
      lane.timer.stop(lane.stream.get());
    }
    for (auto& lane : lanes_) finish(*lane);
  }

  void set_sample(const float* x, int64_t n, int64_t d) override {
    EMB_CUDA(cudaSetDevice(device_));
    sample_.resize(static_cast<size_t>(n * d));
    sample_norms_.resize(static_cast<size_t>(n));
    EMB_CUDA(cudaMemcpy(sample_.get(), x, sizeof(float) * n * d, cudaMemcpyHostToDevice));
    kern::launch_row_sq_norms(sample_.get(), n, d, sample_norms_.get(), nullptr);
    EMB_CUDA_LAUNCH();
    sample_rows_ = n;
    sample_d_ = d;
  }

  void sample_sq_distances(const float* y, int64_t m, float* out) override {
    EMB_CUDA(cudaSetDevice(device_));
    const int64_t n = sample_rows_, d = sample_d_;
    // The same sizes on every call of one initialisation: allocated once.
    DeviceBuffer<float>& dy = pp_y_;
    DeviceBuffer<float>& yn = pp_norms_;
    DeviceBuffer<float>& g = pp_dist_;
    dy.resize(static_cast<size_t>(m * d));
    yn.resize(static_cast<size_t>(m));
    g.resize(static_cast<size_t>(n * m));
    EMB_CUDA(cudaMemcpy(dy.get(), y, sizeof(float) * m * d, cudaMemcpyHostToDevice));
    kern::launch_row_sq_norms(dy.get(), m, d, yn.get(), nullptr);
    EMB_CUDA_LAUNCH();
    const float alpha = 1.0f, beta = 0.0f;
    EMB_CUBLAS(cublasSetStream(handle_->get(), nullptr));
    EMB_CUBLAS(cublasSgemm(handle_->get(), CUBLAS_OP_T, CUBLAS_OP_N, int(m), int(n), int(d), &alpha,
                           dy.get(), int(d), sample_.get(), int(d), &beta, g.get(), int(m)));
    kern::launch_expand_sq_dist(g.get(), n, m, sample_norms_.get(), yn.get(), nullptr);
    EMB_CUDA_LAUNCH();
    EMB_CUDA(cudaMemcpy(out, g.get(), sizeof(float) * n * m, cudaMemcpyDeviceToHost));
  }

  std::vector<std::pair<std::string, double>> timings() const override {
    std::map<std::string, double> all;
    for (const auto& lane : lanes_)
      for (const auto& [name, s] : lane->timer.totals()) all[name] += s;
    std::vector<std::pair<std::string, double>> out;
    for (const auto& [name, s] : all) out.emplace_back("gpu_" + name, s);
    return out;
  }

  std::vector<std::pair<std::string, std::string>> notes() const override {
    std::vector<std::pair<std::string, std::string>> out;
    out.emplace_back("device_memory_budget", format_bytes(budget_));
    out.emplace_back("device_memory_used", format_bytes(used_bytes()));
    out.emplace_back("device_resident_blocks", std::to_string(cache_.size()));
    out.emplace_back("gpu_chunk_rows", std::to_string(chunk_rows_));
    out.emplace_back("precision", to_string(precision_));
    if (precision_ != Precision::Fp32)
      out.emplace_back("labels_differing_from_fp32", std::to_string(agree_diff_) + " of " +
                                                         std::to_string(agree_rows_) +
                                                         " sampled rows (last pass)");
    return out;
  }

 private:
  int64_t used_bytes() const {
    int64_t total = static_cast<int64_t>(centres_.bytes() + norms_.bytes() + centres_bf16_.bytes() +
                                         sums_.bytes() + counts_.bytes() + sq_.bytes());
    total += workspace_bytes_ * 2;
    for (const auto& [key, buf] : cache_) total += static_cast<int64_t>(buf.bytes());
    return total;
  }

  // Chunk buffers for both lanes; on an allocation failure the chunk shrinks and we retry.
  void ensure_workspace(int64_t block_rows) {
    if (chunk_rows_ > 0) return;
    int64_t rows = std::clamp<int64_t>((budget_ / 8) / (4 * (kc_ + d_ + 16)), 256, 65536);
    rows = std::min(rows, std::max<int64_t>(block_rows, 256));
    for (;;) {
      try {
        // Two lanes, even when creating the second one failed on an earlier try.
        while (lanes_.size() < 2) {
          auto lane = std::make_unique<Lane>();
          EMB_CUBLAS(cublasSetStream(lane->blas.get(), lane->stream.get()));
          EMB_CUBLAS(cublasSetMathMode(lane->blas.get(), precision_ == Precision::Tf32
                                                             ? CUBLAS_TF32_TENSOR_OP_MATH
                                                             : CUBLAS_DEFAULT_MATH));
          lanes_.push_back(std::move(lane));
        }
        for (auto& lane : lanes_) size_lane(*lane, rows);
        chunk_rows_ = rows;
        return;
      } catch (const Error&) {
        if (rows <= 256) throw;
        rows /= 2;
      }
    }
  }

  void size_lane(Lane& l, int64_t rows) {
    const size_t r = static_cast<size_t>(rows);
    l.x.resize(r * d_);
    l.g.resize(r * kc_);
    l.best_v.resize(r);
    l.dist.resize(r);
    if (precision_ == Precision::Bf16) l.xb.resize(r * d_);
    for (auto* buf : {&l.labels, &l.labels_tmp, &l.rows_tmp, &l.sorted_rows}) buf->resize(r);
    l.seg_count.resize(static_cast<size_t>(k_));
    l.seg_start.resize(static_cast<size_t>(k_));
    l.scratch.resize(kern::group_by_label_scratch(rows, k_));
    l.host_x.resize(r * d_);
    l.host_labels.resize(r);
    l.host_dist.resize(r);
    workspace_bytes_ =
        static_cast<int64_t>(l.x.bytes() + l.g.bytes() + l.xb.bytes() + l.scratch.bytes()) +
        rows * 28 + k_ * 8;
  }

  // The block's device copy when it is (or can be made) resident, else nullptr.
  const float* cached_block(const Block& b) {
    const auto key = std::make_tuple(b.index, b.start, b.rows);
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second.get();
    const int64_t bytes = b.rows * d_ * static_cast<int64_t>(sizeof(float));
    if (used_bytes() + bytes > budget_) return nullptr;
    try {
      DeviceBuffer<float> buf(static_cast<size_t>(b.rows * d_));
      EMB_CUDA(cudaMemcpy(buf.get(), b.data, bytes, cudaMemcpyHostToDevice));
      // A pageable copy may return before the data lands, and the lanes' streams do not wait
      // for the default stream.
      EMB_CUDA(cudaDeviceSynchronize());
      return cache_.emplace(key, std::move(buf)).first->second.get();
    } catch (const Error&) {
      return nullptr;  // out of device memory: stream this block instead
    }
  }

  const float* upload(Lane& lane, const float* host, int64_t rows) {
    std::memcpy(lane.host_x.get(), host, sizeof(float) * rows * d_);
    lane.timer.start("transfer", lane.stream.get());
    EMB_CUDA(cudaMemcpyAsync(lane.x.get(), lane.host_x.get(), sizeof(float) * rows * d_,
                             cudaMemcpyHostToDevice, lane.stream.get()));
    lane.timer.stop(lane.stream.get());
    return lane.x.get();
  }

  void gemm(Lane& lane, const float* x, const uint16_t* xb, int64_t rows, int64_t j0, int64_t m,
            bool reduced) {
    const float alpha = 1.0f, beta = 0.0f;
    cublasHandle_t h = lane.blas.get();  // bound to lane.stream
    // Row-major G (rows x m) = X C^T is column-major G^T = C X^T.
    if (reduced && precision_ == Precision::Bf16) {
      EMB_CUBLAS(cublasGemmEx(h, CUBLAS_OP_T, CUBLAS_OP_N, int(m), int(rows), int(d_), &alpha,
                              centres_bf16_.get() + j0 * d_, CUDA_R_16BF, int(d_), xb, CUDA_R_16BF,
                              int(d_), &beta, lane.g.get(), CUDA_R_32F, int(m), CUBLAS_COMPUTE_32F,
                              CUBLAS_GEMM_DEFAULT));
      return;
    }
    if (!reduced && precision_ == Precision::Tf32)
      EMB_CUBLAS(cublasSetMathMode(h, CUBLAS_DEFAULT_MATH));
    EMB_CUBLAS(cublasSgemm(h, CUBLAS_OP_T, CUBLAS_OP_N, int(m), int(rows), int(d_), &alpha,
                           centres_.get() + j0 * d_, int(d_), x, int(d_), &beta, lane.g.get(),
                           int(m)));
    if (!reduced && precision_ == Precision::Tf32)
      EMB_CUBLAS(cublasSetMathMode(h, CUBLAS_TF32_TENSOR_OP_MATH));
  }

  // Nearest centres of `rows` rows at x into lane.labels (precision as configured, or fp32).
  void nearest(Lane& lane, const float* x, int64_t rows, bool reduced) {
    cudaStream_t s = lane.stream.get();
    if (reduced && precision_ == Precision::Bf16) {
      kern::launch_to_bf16(x, rows * d_, lane.xb.get(), s);
      EMB_CUDA_LAUNCH();
    }
    kern::launch_argmin_init(lane.best_v.get(), lane.labels.get(), rows, s);
    EMB_CUDA_LAUNCH();
    for (int64_t j0 = 0; j0 < k_; j0 += kc_) {
      const int64_t m = std::min(kc_, k_ - j0);
      lane.timer.start("gemm", s);
      gemm(lane, x, lane.xb.get(), rows, j0, m, reduced);
      lane.timer.stop(s);
      lane.timer.start("argmin", s);
      kern::launch_argmin_update(lane.g.get(), rows, m, j0, norms_.get(), lane.best_v.get(),
                                 lane.labels.get(), s);
      EMB_CUDA_LAUNCH();
      lane.timer.stop(s);
    }
  }

  void compute(Lane& lane, const float* x, int64_t rows, bool accumulate) {
    cudaStream_t s = lane.stream.get();
    nearest(lane, x, rows, precision_ != Precision::Fp32);
    lane.timer.start("argmin", s);
    kern::launch_exact_dist(x, rows, d_, centres_.get(), lane.labels.get(), lane.dist.get(), s);
    EMB_CUDA_LAUNCH();
    lane.timer.stop(s);
    if (!accumulate) return;
    // Chunks add to the sums in row order: wait for the previous chunk's accumulation (before the
    // timer starts, so that the wait for the other lane is not counted as update time).
    if (last_accumulated_) EMB_CUDA(cudaStreamWaitEvent(s, last_accumulated_, 0));
    lane.timer.start("update", s);
    EMB_CUDA(kern::group_by_label(lane.labels.get(), rows, k_, lane.labels_tmp.get(),
                                  lane.rows_tmp.get(), lane.sorted_rows.get(), lane.seg_count.get(),
                                  lane.seg_start.get(), lane.scratch.get(), lane.scratch.bytes(),
                                  s));
    kern::launch_accumulate_sorted(x, d_, lane.sorted_rows.get(), lane.seg_start.get(),
                                   lane.seg_count.get(), k_, lane.dist.get(), sums_.get(),
                                   counts_.get(), sq_.get(), s);
    EMB_CUDA_LAUNCH();
    lane.accumulated.record(s);
    last_accumulated_ = lane.accumulated.get();
    lane.timer.stop(s);
  }

  // Reduced precision: the first rows of a pass are assigned in fp32 too, and compared.
  void check_agreement(Lane& lane, const float* x, int64_t rows) {
    check_agreement_ = false;
    std::vector<int32_t> reduced(static_cast<size_t>(rows)), exact(static_cast<size_t>(rows));
    lane.stream.sync();
    EMB_CUDA(cudaMemcpy(reduced.data(), lane.labels.get(), sizeof(int32_t) * rows,
                        cudaMemcpyDeviceToHost));
    nearest(lane, x, rows, false);
    lane.stream.sync();
    EMB_CUDA(cudaMemcpy(exact.data(), lane.labels.get(), sizeof(int32_t) * rows,
                        cudaMemcpyDeviceToHost));
    // Restore the reduced-precision labels the pass is using.
    EMB_CUDA(cudaMemcpy(lane.labels.get(), reduced.data(), sizeof(int32_t) * rows,
                        cudaMemcpyHostToDevice));
    EMB_CUDA(cudaDeviceSynchronize());  // before the lane reads them again
    agree_rows_ = rows;
    agree_diff_ = 0;
    for (int64_t i = 0; i < rows; ++i) agree_diff_ += reduced[i] != exact[i];
  }

  void finish(Lane& lane) {
    if (lane.out_rows == 0) return;
    lane.stream.sync();
    std::memcpy(lane.out_labels, lane.host_labels.get(), sizeof(int32_t) * lane.out_rows);
    std::memcpy(lane.out_dist, lane.host_dist.get(), sizeof(float) * lane.out_rows);
    lane.timer.collect();
    lane.out_rows = 0;
  }

  int device_;
  Precision precision_;
  int64_t budget_;
  std::string name_;
  std::unique_ptr<CublasHandle> handle_;
  int64_t k_ = 0, d_ = 0, kc_ = 0, chunk_rows_ = 0, workspace_bytes_ = 0;
  DeviceBuffer<float> centres_, norms_;
  DeviceBuffer<uint16_t> centres_bf16_;
  DeviceBuffer<double> sums_, sq_;
  DeviceBuffer<long long> counts_;
  std::vector<std::unique_ptr<Lane>> lanes_;
  cudaEvent_t last_accumulated_ = nullptr;
  std::map<std::tuple<int64_t, int64_t, int64_t>, DeviceBuffer<float>> cache_;
  DeviceBuffer<float> sample_, sample_norms_;
  int64_t sample_rows_ = 0, sample_d_ = 0;
  DeviceBuffer<float> pp_y_, pp_norms_, pp_dist_;  // k-means++ candidates and their distances
  bool check_agreement_ = false;
  int64_t agree_rows_ = 0, agree_diff_ = 0;
};

}  // namespace

std::unique_ptr<KMeansBackend> make_cuda_kmeans_backend(const KMeansParams& params,
                                                        const ExecutionContext& ctx, int device) {
  return std::make_unique<CudaKMeansBackend>(params, ctx, device);
}

}  // namespace embcluster
