// CUDA K-means backend: cuBLAS GEMM tiles read by a custom argmin kernel, exact distances, and
// the cluster sums on the device in the CPU's order (the same bits: kernels/unit_sums.cuh). Blocks
// that fit the device budget stay on the device for every iteration; the others are streamed
// through pinned buffers on two streams, so the copy of one chunk overlaps the compute of the
// other.
#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "cuda/cuda_backend.h"
#include "cuda/cuda_host_pinning.h"
#include "cuda/cuda_kmeanspp.h"
#include "cuda/cuda_resources.h"
#include "cuda/device_totals.h"
#include "cuda/gpu_phases.h"
#include "cuda/gpu_resources.h"
#include "cuda/kmeans_lane.h"
#include "cuda/shrinking.h"
#include "embcluster/memory.h"
#include "kernels/kmeans_kernels.cuh"
#include "kernels/segments.cuh"
#include "kernels/selftest.cuh"
#include "kernels/unit_sums.cuh"

namespace embcluster {
namespace {

constexpr int64_t kMaxCentreChunk = 8192;  // centres per GEMM tile, at most
// A GEMM tile of dot products takes at most half the device's L2 cache (at least 4 MiB), so that
// the argmin reads it from the cache, not from device memory; it spans at least kMinTileRows rows
// (the centres per tile shrink first, to no fewer than kMinTileCentres).
constexpr int64_t kMinTileRows = 4096;
constexpr int64_t kMinTileCentres = 1024;
constexpr int64_t kAgreementRows = 4096;   // rows checked against fp32 in tf32/bf16 modes
constexpr int64_t kUnitBufferCap = int64_t(64) << 20;  // bytes of a lane's unit sums, at most

class CudaKMeansBackend final : public KMeansBackend {
 public:
  // Work runs on the pool's streams 0 and 1 (the lanes; stream 0 also carries the centroids, the
  // sums and the k-means++ distances), never on the null stream.
  CudaKMeansBackend(const KMeansParams& p, const ExecutionContext& ctx, int device)
      : res_(gpu_resources(device)),
        device_(device),
        precision_(p.precision),
        ws_(device, res_.budget(ctx.device_memory_budget)) {
    int l2 = 0;
    if (cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, device) != cudaSuccess)
      cudaGetLastError();
    // Half the L2 cache, but a sixteenth of the memory budget at most (a tile per lane).
    tile_bytes_ = std::max<int64_t>(int64_t(4) << 20, std::min<int64_t>(l2 / 2, ws_.budget() / 16));
    ws_.adopt(centres_, norms_, shift_, shifted_, shifted_norms_, centres_bf16_, sample_,
              sample_norms_, pp_y_, pp_norms_, pp_dist_);
    main_ = res_.stream(0);
  }

  std::string device_name() const override { return res_.name(); }

  void set_centroids(const float* c, int64_t k, int64_t d) override {
    DeviceScope scope(device_);
    if (d != d_) cache_.clear();  // resident blocks hold rows of d_ columns
    if (k != k_ || d != d_) {
      k_ = k;
      d_ = d;
      kc_ = std::min(
          {k_, kMaxCentreChunk, std::max(kMinTileCentres, tile_bytes_ / (4 * kMinTileRows))});
      centres_.resize(static_cast<size_t>(k * d));
      norms_.resize(static_cast<size_t>(k));
      if (precision_ != Precision::Fp32) {
        shift_.resize(static_cast<size_t>(d));
        shifted_.resize(static_cast<size_t>(k * d));
        shifted_norms_.resize(static_cast<size_t>(k));
      }
      if (precision_ == Precision::Bf16) centres_bf16_.resize(static_cast<size_t>(k * d));
      tree_.clear();
      open_ = DeviceTotals();  // made for k x d at the next pass
      chunk_rows_ = 0;  // workspace sized again at the next assign
    }
    upload(centres_.get(), c, sizeof(float) * k * d, main_);
    kern::launch_row_sq_norms(centres_.get(), k, d, norms_.get(), main_);
    if (precision_ != Precision::Fp32) {
      // Reduced precision runs on centres (and rows) shifted by about the centres' mean.
      kern::launch_gemm_shift(centres_.get(), k, d, shift_.get(), main_);
      kern::launch_shift_rows(centres_.get(), k, d, shift_.get(), shifted_.get(), main_);
      kern::launch_row_sq_norms(shifted_.get(), k, d, shifted_norms_.get(), main_);
    }
    if (precision_ == Precision::Bf16)
      kern::launch_to_bf16(shifted_.get(), k * d, centres_bf16_.get(), main_);
    sync_stream(main_);  // before either lane reads them
  }

  void begin_pass(ClusterSums* sums) override {
    DeviceScope scope(device_);
    // The k-means++ sample is done with (each initialisation sets its own): free its memory.
    for (auto* b : {&sample_, &sample_norms_, &pp_y_, &pp_norms_, &pp_dist_}) b->release();
    check_agreement_ = precision_ != Precision::Fp32;
    if (!sums) return;
    tree_.clear();
    open_piece_ = -1;
    fresh_open_piece();
  }

  // The pass's pieces were combined on the device along their tree (core/piece_tree.h): the
  // complete subtrees left, usually one, go to the host's sums.
  void end_pass(ClusterSums* sums) override {
    if (!sums) return;
    DeviceScope scope(device_);
    close_piece();
    static_assert(sizeof(long long) == sizeof(int64_t), "counts are 64-bit");
    for (const auto& node : tree_.nodes()) {
      ClusterTotals t;
      t.reset(k_, d_);
      const DeviceTotals& v = node.value;
      download(t.sums.data(), v.sums.get(), v.sums.bytes(), main_);
      download(t.counts.data(), v.counts.get(), v.counts.bytes(), main_);
      download(t.weight.data(), v.weight.get(), v.weight.bytes(), main_);
      download(t.sq_dist.data(), v.sq_dist.get(), v.sq_dist.bytes(), main_);
      sync_stream(main_);
      sums->push_subtree(node.first, node.level, std::move(t));
    }
    tree_.clear();
  }

  void set_weights(const double* row_weights) override {
    weights_ = row_weights;
    chunk_rows_ = 0;  // lanes sized again (with or without weight buffers) at the next assign
  }

  void assign(const Block& b, int32_t* labels, float* dist, ClusterSums* sums) override {
    DeviceScope scope(device_);
    // Chunks start at units of the whole data, as the CPU's sums do (kernels/unit_sums.cuh).
    EMBCLUSTER_ASSERT(b.start % kern::kUnitRows == 0, "block at row ", b.start,
                      " is not aligned to ", kern::kUnitRows, " rows");
    ensure_workspace(b.rows);
    const float* resident = b.index == kTransientBlock ? nullptr : cached_block(b);
    // A failure part way leaves no lane holding the caller's output pointers.
    struct Abandon {
      std::vector<std::unique_ptr<KMeansLane>>& lanes;
      bool done = false;
      ~Abandon() {
        if (done) return;
        for (auto& lane : lanes) {
          cudaStreamSynchronize(lane->stream);  // errors were reported already
          lane->out_rows = 0;
        }
      }
    } abandon{lanes_};
    for (int64_t c = 0, r0 = 0, rows = 0; r0 < b.rows; ++c, r0 += rows) {
      KMeansLane& lane = *lanes_[c & 1];
      finish(lane);  // the lane's previous chunk is done and copied out
      rows = std::min(chunk_rows_, b.rows - r0);
      if (sums) {
        // A chunk lies in one piece of rows (ClusterSums): the device sums hold that piece.
        const int64_t piece = (b.start + r0) / kSumPieceRows;
        rows = std::min(rows, (piece + 1) * kSumPieceRows - (b.start + r0));
        if (open_piece_ != piece) {
          close_piece();
          open_piece_ = piece;
        }
      }
      const float* x = resident ? resident + r0 * d_ : upload(lane, b.data + r0 * d_, rows);
      const double* w =
          sums && weights_ ? upload_weights(lane, weights_ + b.start + r0, rows) : nullptr;
      compute(lane, x, rows, sums != nullptr, w);
      if (check_agreement_) check_agreement(lane, x, std::min(rows, kAgreementRows));
      lane.out_labels = labels + r0;
      lane.out_dist = dist + r0;
      lane.out_rows = rows;
      lane.timer.start("transfer", lane.stream);
      download(lane.host_labels.get(), lane.labels.get(), sizeof(int32_t) * rows, lane.stream);
      download(lane.host_dist.get(), lane.dist.get(), sizeof(float) * rows, lane.stream);
      lane.timer.stop(lane.stream);
    }
    for (auto& lane : lanes_) finish(*lane);
    abandon.done = true;
  }

  void set_sample(const float* x, int64_t n, int64_t d) override {
    DeviceScope scope(device_);
    sample_.resize(static_cast<size_t>(n * d));
    sample_norms_.resize(static_cast<size_t>(n));
    upload(sample_.get(), x, sizeof(float) * n * d, main_);
    kern::launch_row_sq_norms(sample_.get(), n, d, sample_norms_.get(), main_);
    sync_stream(main_);
    sample_rows_ = n;
    sample_d_ = d;
  }

  void sample_sq_distances(const float* y, int64_t m, float* out) override {
    DeviceScope scope(device_);
    const int64_t n = sample_rows_, d = sample_d_;
    // The same sizes on every call of one initialisation: allocated once.
    DeviceBuffer<float>& dy = pp_y_;
    DeviceBuffer<float>& yn = pp_norms_;
    DeviceBuffer<float>& g = pp_dist_;
    dy.resize(static_cast<size_t>(m * d));
    yn.resize(static_cast<size_t>(m));
    g.resize(static_cast<size_t>(n * m));
    upload(dy.get(), y, sizeof(float) * m * d, main_);
    kern::launch_row_sq_norms(dy.get(), m, d, yn.get(), main_);
    const float alpha = 1.0f, beta = 0.0f;
    cublasHandle_t h = res_.blas(0);  // bound to main_; k-means++ distances are always fp32
    EMB_CUBLAS(cublasSetMathMode(h, CUBLAS_DEFAULT_MATH));
    EMB_CUBLAS(cublasSgemm(h, CUBLAS_OP_T, CUBLAS_OP_N, int(m), int(n), int(d), &alpha, dy.get(),
                           int(d), sample_.get(), int(d), &beta, g.get(), int(m)));
    kern::launch_expand_sq_dist(g.get(), n, m, sample_norms_.get(), yn.get(), main_);
    download(out, g.get(), sizeof(float) * n * m, main_);
    sync_stream(main_);
  }

  bool plus_plus_rounds(int64_t first, int64_t k, int64_t trials, const double* draws,
                        const double* w, int64_t* picks) override {
    DeviceScope scope(device_);
    for (auto* b : {&pp_y_, &pp_norms_, &pp_dist_}) b->release();  // the host loop's buffers
    device_plus_plus_rounds(ws_, main_, res_.blas(0),
                            {sample_.get(), sample_norms_.get(), sample_rows_, sample_d_}, first, k,
                            trials, draws, w, picks);
    return true;
  }

  HostPinning* host_pinning() override { return &pinning_; }

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
    out.emplace_back("device_memory_budget", format_bytes(ws_.budget()));
    out.emplace_back("device_memory_used", format_bytes(ws_.used()));
    out.emplace_back("device_resident_blocks", std::to_string(cache_.size()));
    out.emplace_back("gpu_chunk_rows", std::to_string(chunk_rows_));
    out.emplace_back("gpu_gemm_tile", std::to_string(tile_rows_) + " x " + std::to_string(kc_));
    out.emplace_back("precision", to_string(precision_));
    if (direct_uploads_ + staged_uploads_ > 0)
      out.emplace_back("streamed_chunks", std::to_string(direct_uploads_) +
                                              " copied from pinned buffers, " +
                                              std::to_string(staged_uploads_) + " staged");
    if (precision_ != Precision::Fp32)
      out.emplace_back("labels_differing_from_fp32", std::to_string(agree_diff_) + " of " +
                                                         std::to_string(agree_rows_) +
                                                         " sampled rows (last pass)");
    return out;
  }

 private:
  // Copies on stream s (pageable host memory: the call returns once the host side has been read;
  // the caller synchronises before it reads a download).
  static void upload(void* dst, const void* src, size_t bytes, cudaStream_t s) {
    EMB_CUDA(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, s));
  }
  static void download(void* dst, const void* src, size_t bytes, cudaStream_t s) {
    EMB_CUDA(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, s));
  }

  // Chunk buffers for both lanes; when the device runs out of memory the chunk shrinks. A chunk
  // is a power of two times kUnitRows rows (at most a piece), so that chunks start at units of the
  // whole data and the sums are made per unit as on the CPU.
  void ensure_workspace(int64_t block_rows) {
    if (chunk_rows_ > 0) return;
    const int64_t fit = std::min((ws_.budget() / 8) / (4 * (d_ + 16)), block_rows);
    int64_t rows = kern::kUnitRows;
    while (rows * 2 <= std::min(fit, kSumPieceRows)) rows *= 2;
    while (lanes_.size() < 2)
      lanes_.push_back(std::make_unique<KMeansLane>(res_, ws_, static_cast<int>(lanes_.size())));
    with_shrinking(rows, kern::kUnitRows, [&](int64_t r) {
      tile_rows_ = std::min(r, std::max<int64_t>(256, tile_bytes_ / (4 * kc_) / 256 * 256));
      for (auto& lane : lanes_) size_lane(*lane, r);
    });
    chunk_rows_ = rows;
  }

  void size_lane(KMeansLane& l, int64_t rows) {
    const size_t r = static_cast<size_t>(rows);
    l.x.resize(r * d_);
    l.g.resize(static_cast<size_t>(tile_rows_ * kc_));
    l.best_v.resize(r);
    l.dist.resize(r);
    if (precision_ == Precision::Bf16) l.xb.resize(r * d_);
    if (precision_ == Precision::Tf32) l.xs.resize(r * d_);
    for (auto* buf : {&l.labels, &l.keys, &l.keys_tmp, &l.rows_tmp, &l.sorted_rows}) buf->resize(r);
    const size_t segments = static_cast<size_t>(kern::unit_segments(rows, k_));
    l.seg_count.resize(segments);
    l.seg_start.resize(segments);
    l.scratch.resize(kern::group_by_unit_label_scratch(rows, k_));
    // With a small budget the units' sums go without a buffer (same bits, less parallel).
    const int64_t cap = std::min(kUnitBufferCap, ws_.budget() / 8);
    const size_t unit_doubles = static_cast<size_t>(kern::unit_sums_buffer(rows, k_, d_, cap));
    l.unit_sums.resize(unit_doubles);
    l.unit_sq.resize(unit_doubles ? segments : 0);
    l.unit_w.resize(unit_doubles ? segments : 0);
    l.host_x.resize(r * d_);
    l.host_labels.resize(r);
    l.host_dist.resize(r);
    if (weights_) {
      l.w.resize(r);
      l.host_w.resize(r);
    }
  }

  // The block's device copy when it is (or can be made) resident, else nullptr.
  const float* cached_block(const Block& b) {
    const auto key = std::make_tuple(b.index, b.start, b.rows);
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second.get();
    const int64_t bytes = b.rows * d_ * static_cast<int64_t>(sizeof(float));
    if (bytes > ws_.available()) return nullptr;
    DeviceBuffer<float> buf;
    buf.bind(ws_);
    // Out of device memory: this block is streamed instead.
    if (!fits_on_device([&] { buf.resize(static_cast<size_t>(b.rows * d_)); })) return nullptr;
    upload(buf.get(), b.data, static_cast<size_t>(bytes), main_);
    sync_stream(main_);  // a pageable copy may return before the data lands; lane 1 reads it
    return cache_.emplace(key, std::move(buf)).first->second.get();
  }

  // A chunk of rows to the lane's device buffer: straight from page-locked host memory (the
  // driver's pinned buffers; assign() waits for its copies before it returns), else through the
  // lane's staging buffer.
  const float* upload(KMeansLane& lane, const float* host, int64_t rows) {
    const bool direct = page_locked(host);
    if (!direct) std::memcpy(lane.host_x.get(), host, sizeof(float) * rows * d_);
    ++(direct ? direct_uploads_ : staged_uploads_);
    lane.timer.start("transfer", lane.stream);
    upload(lane.x.get(), direct ? host : lane.host_x.get(), sizeof(float) * rows * d_, lane.stream);
    lane.timer.stop(lane.stream);
    return lane.x.get();
  }

  const double* upload_weights(KMeansLane& lane, const double* host, int64_t rows) {
    std::memcpy(lane.host_w.get(), host, sizeof(double) * rows);
    lane.timer.start("transfer", lane.stream);
    upload(lane.w.get(), lane.host_w.get(), sizeof(double) * rows, lane.stream);
    lane.timer.stop(lane.stream);
    return lane.w.get();
  }

  // The dot products of `rows` rows (x, or xb in bf16) with centres [j0, j0 + m) into lane.g.
  void gemm(KMeansLane& lane, const float* x, const uint16_t* xb, int64_t rows, int64_t j0,
            int64_t m, bool reduced) {
    const float alpha = 1.0f, beta = 0.0f;
    cublasHandle_t h = lane.blas;  // bound to lane.stream; other users of the device share it
    EMB_CUBLAS(cublasSetMathMode(
        h, reduced && precision_ == Precision::Tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
    // Row-major G (rows x m) = X C^T is column-major G^T = C X^T.
    if (reduced && precision_ == Precision::Bf16) {
      EMB_CUBLAS(cublasGemmEx(h, CUBLAS_OP_T, CUBLAS_OP_N, int(m), int(rows), int(d_), &alpha,
                              centres_bf16_.get() + j0 * d_, CUDA_R_16BF, int(d_), xb, CUDA_R_16BF,
                              int(d_), &beta, lane.g.get(), CUDA_R_32F, int(m), CUBLAS_COMPUTE_32F,
                              CUBLAS_GEMM_DEFAULT));
      return;
    }
    const float* c = reduced ? shifted_.get() : centres_.get();  // tf32: rows shifted too
    EMB_CUBLAS(cublasSgemm(h, CUBLAS_OP_T, CUBLAS_OP_N, int(m), int(rows), int(d_), &alpha,
                           c + j0 * d_, int(d_), x, int(d_), &beta, lane.g.get(), int(m)));
  }

  // Nearest centres of `rows` rows at x into lane.labels (precision as configured, or fp32).
  void nearest(KMeansLane& lane, const float* x, int64_t rows, bool reduced) {
    cudaStream_t s = lane.stream;
    reduced = reduced && precision_ != Precision::Fp32;
    if (reduced && precision_ == Precision::Bf16)
      kern::launch_shift_rows_bf16(x, rows, d_, shift_.get(), lane.xb.get(), s);
    if (reduced && precision_ == Precision::Tf32) {
      kern::launch_shift_rows(x, rows, d_, shift_.get(), lane.xs.get(), s);
      x = lane.xs.get();
    }
    const float* norms = reduced ? shifted_norms_.get() : norms_.get();
    kern::launch_argmin_init(lane.best_v.get(), lane.labels.get(), rows, s);
    // Tile by tile of at most tile_rows_ x kc_ dot products: the argmin reads each tile from the
    // L2 cache right after the GEMM wrote it.
    for (int64_t r0 = 0; r0 < rows; r0 += tile_rows_) {
      const int64_t tr = std::min(tile_rows_, rows - r0);
      for (int64_t j0 = 0; j0 < k_; j0 += kc_) {
        const int64_t m = std::min(kc_, k_ - j0);
        lane.timer.start("gemm", s);
        gemm(lane, x + r0 * d_, lane.xb.get() ? lane.xb.get() + r0 * d_ : nullptr, tr, j0, m,
             reduced);
        lane.timer.stop(s);
        lane.timer.start("argmin", s);
        kern::launch_argmin_update(lane.g.get(), tr, m, j0, norms, lane.best_v.get() + r0,
                                   lane.labels.get() + r0, s);
        lane.timer.stop(s);
      }
    }
  }

  // Zeroed totals for the next piece (on the main stream, synchronised: the lanes' streams do
  // not wait for it).
  void fresh_open_piece() {
    if (open_.k != k_ || open_.d != d_ || !open_.sums.get())
      open_ = DeviceTotals(ws_, k_, d_, main_);
    open_.zero();
    sync_stream(main_);
    last_accumulated_ = nullptr;
  }

  // The open piece is complete: once every chunk has added to it, it joins the tree (merging with
  // its complete siblings on the device) and a fresh piece opens.
  void close_piece() {
    if (open_piece_ < 0) return;
    for (auto& lane : lanes_) sync_stream(lane->stream);  // every chunk's accumulation is done
    tree_.push(open_piece_, 0, std::move(open_));
    open_piece_ = -1;
    fresh_open_piece();
  }

  // w: the rows' weights on the device, or null (every row weighs 1).
  void compute(KMeansLane& lane, const float* x, int64_t rows, bool accumulate, const double* w) {
    cudaStream_t s = lane.stream;
    nearest(lane, x, rows, precision_ != Precision::Fp32);
    lane.timer.start("argmin", s);
    kern::launch_exact_dist(x, rows, d_, centres_.get(), lane.labels.get(), lane.dist.get(), s);
    lane.timer.stop(s);
    if (!accumulate) return;
    // Chunks add to the sums in row order: wait for the previous chunk's accumulation (before the
    // timer starts, so that the wait for the other lane is not counted as update time).
    if (last_accumulated_) EMB_CUDA(cudaStreamWaitEvent(s, last_accumulated_, 0));
    lane.timer.start("update", s);
    EMB_CUDA(kern::group_by_unit_label(
        lane.labels.get(), rows, k_, lane.keys.get(), lane.keys_tmp.get(), lane.rows_tmp.get(),
        lane.sorted_rows.get(), lane.seg_count.get(), lane.seg_start.get(), lane.scratch.get(),
        lane.scratch.bytes(), s));
    EMB_CUDA_LAUNCH("group_by_unit_label");
    const kern::UnitBuffer buf{lane.unit_sums.size() ? lane.unit_sums.get() : nullptr,
                               lane.unit_sq.get(), lane.unit_w.get()};
    kern::launch_cluster_sums(x, rows, d_, k_, lane.sorted_rows.get(), lane.seg_start.get(),
                              lane.seg_count.get(), lane.dist.get(), w, buf, open_.view(), s);
    lane.accumulated.record(s);
    last_accumulated_ = lane.accumulated.get();
    lane.timer.stop(s);
  }

  // Reduced precision: the first rows of a pass are assigned in fp32 too, and compared.
  void check_agreement(KMeansLane& lane, const float* x, int64_t rows) {
    check_agreement_ = false;
    std::vector<int32_t> reduced(static_cast<size_t>(rows)), exact(static_cast<size_t>(rows));
    const size_t bytes = sizeof(int32_t) * static_cast<size_t>(rows);
    download(reduced.data(), lane.labels.get(), bytes, lane.stream);
    sync_stream(lane.stream);
    nearest(lane, x, rows, false);
    download(exact.data(), lane.labels.get(), bytes, lane.stream);
    sync_stream(lane.stream);
    // Restore the reduced-precision labels the pass is using (on the lane's stream, before its
    // next work reads them).
    upload(lane.labels.get(), reduced.data(), bytes, lane.stream);
    sync_stream(lane.stream);  // `reduced` goes out of scope
    agree_rows_ = rows;
    agree_diff_ = 0;
    for (int64_t i = 0; i < rows; ++i) agree_diff_ += reduced[i] != exact[i];
  }

  void finish(KMeansLane& lane) {
    if (lane.out_rows == 0) return;
    sync_stream(lane.stream);
    std::memcpy(lane.out_labels, lane.host_labels.get(), sizeof(int32_t) * lane.out_rows);
    std::memcpy(lane.out_dist, lane.host_dist.get(), sizeof(float) * lane.out_rows);
    lane.timer.collect();
    lane.out_rows = 0;
  }

  GpuResources& res_;
  int device_;
  Precision precision_;
  Workspace ws_;  // before the buffers: they are freed through it
  cudaStream_t main_ = nullptr;
  int64_t k_ = 0, d_ = 0, kc_ = 0, chunk_rows_ = 0;
  int64_t tile_bytes_ = 0, tile_rows_ = 0;  // a GEMM tile: at most tile_bytes_, tile_rows_ rows
  DeviceBuffer<float> centres_, norms_;
  // Reduced precision: the centres' mean, the centres shifted by it and their squared norms.
  DeviceBuffer<float> shift_, shifted_, shifted_norms_;
  DeviceBuffer<uint16_t> centres_bf16_;
  // The pass's sums: the open piece, and the complete pieces combined along their tree.
  DeviceTotals open_;
  int64_t open_piece_ = -1;
  PieceTree<DeviceTotals> tree_;
  const double* weights_ = nullptr;  // host, per source row (null: every row weighs 1)
  std::vector<std::unique_ptr<KMeansLane>> lanes_;
  cudaEvent_t last_accumulated_ = nullptr;
  std::map<std::tuple<int64_t, int64_t, int64_t>, DeviceBuffer<float>> cache_;
  DeviceBuffer<float> sample_, sample_norms_;
  int64_t sample_rows_ = 0, sample_d_ = 0;
  DeviceBuffer<float> pp_y_, pp_norms_, pp_dist_;  // k-means++ candidates and their distances
  bool check_agreement_ = false;
  int64_t agree_rows_ = 0, agree_diff_ = 0;
  CudaHostPinning pinning_;
  int64_t direct_uploads_ = 0, staged_uploads_ = 0;
};

}  // namespace

std::unique_ptr<KMeansBackend> make_cuda_kmeans_backend(const KMeansParams& params,
                                                        const ExecutionContext& ctx, int device) {
  return std::make_unique<CudaKMeansBackend>(params, ctx, device);
}

}  // namespace embcluster
