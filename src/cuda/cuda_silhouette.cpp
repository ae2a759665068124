// CUDA silhouette sums: cuBLAS SGEMM tiles of query rows against column rows grouped by cluster,
// each tile turned into distances and reduced at once into per-cluster sums in double by
// kernels/silhouette_kernels.cu. Columns that fit the budget stay on the device; the others are
// streamed from the host in blocks, through two pinned buffers on a copy stream, so that the copy
// of the next block overlaps the tiles of this one. All tiles run on one compute stream, in a
// fixed order: the sums are the same from run to run.
#include <algorithm>
#include <cstring>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "cuda/cuda_metrics.h"
#include "cuda/cuda_resources.h"
#include "cuda/gpu_resources.h"
#include "cuda/shrinking.h"
#include "embcluster/error.h"
#include "kernels/selftest.cuh"
#include "kernels/silhouette_kernels.cuh"

namespace embcluster {
namespace {

constexpr int64_t kMaxTile = 16384;          // rows and columns of a GEMM tile (1 GiB of float)
constexpr int64_t kMinTile = 32;             // the smallest tile tried when memory is short
constexpr int64_t kPieceRows = 128;          // rows per partial sum of a tile's column side
constexpr int64_t kSumsChunk = 1 << 20;      // doubles per download of the sums
constexpr int64_t kPinnedBytes = 256 << 20;  // at most per pinned buffer of streamed columns

int64_t pow2_at_least(int64_t n) {
  int64_t p = 1;
  while (p < n) p <<= 1;
  return p;
}

// Device bytes of a tile of side t: the dot products and the column side's partial sums.
int64_t tile_bytes(int64_t t, int64_t k) {
  return t * t * 4 + (t / kPieceRows + std::min(k, t) + 2) * t * 8;
}

// The rows of a row tile cut at cluster boundaries and every kPieceRows rows, for the column side
// of the symmetric pass. Offsets are tile-local rows.
struct TilePieces {
  std::vector<int32_t> piece_start;  // pieces + 1
  std::vector<int32_t> seg_piece;    // segments + 1: first piece of each cluster segment
  std::vector<int32_t> seg_cluster;  // segments
};

TilePieces cut_pieces(const std::vector<int64_t>& start, int64_t i0, int64_t i1) {
  TilePieces t;
  t.piece_start.push_back(0);
  t.seg_piece.push_back(0);
  const int64_t k = static_cast<int64_t>(start.size()) - 1;
  int64_t c = std::upper_bound(start.begin(), start.end(), i0) - start.begin() - 1;
  for (; c < k && start[c] < i1; ++c) {
    const int64_t b = std::max(start[c], i0), e = std::min(start[c + 1], i1);
    if (b >= e) continue;
    for (int64_t p = b; p < e; p += kPieceRows)
      t.piece_start.push_back(static_cast<int32_t>(std::min(e, p + kPieceRows) - i0));
    t.seg_piece.push_back(static_cast<int32_t>(t.piece_start.size() - 1));
    t.seg_cluster.push_back(static_cast<int32_t>(c));
  }
  return t;
}

class CudaClusterSums final : public DeviceClusterSums {
 public:
  // Tiles run on stream 0 of the device's pool (with its cuBLAS handle); streamed columns are
  // copied on stream 1.
  CudaClusterSums(int device, TileMetric metric, int64_t k, int64_t d, int64_t budget)
      : res_(gpu_resources(device)),
        device_(device),
        euclid_(metric == TileMetric::euclidean),
        k_(k),
        d_(d),
        ws_(device, res_.budget(budget)) {
    ws_.adopt(g_, d_start_, cols_, col_norms_, chunk_[0], chunk_[1], chunk_norms_[0],
              chunk_norms_[1], q_, q_norms_, q_sums_, q_self_, all_sums_, partial_, self_,
              d_piece_start_, d_seg_piece_, d_seg_cluster_);
    DeviceScope scope(device_);
    compute_ = res_.stream(0);
    copy_ = res_.stream(1);
    handle_ = res_.blas(0);
    for (int b = 0; b < 2; ++b) {
      copied_[b] = std::make_unique<Event>();
      consumed_[b] = std::make_unique<Event>();
    }
  }

  std::string device_name() const override { return res_.name(); }
  bool columns_resident() const override { return resident_; }
  int64_t tile() const override { return tile_; }

  // One span: few long segments per tile row. 16 bytes per row: the driver's row and position.
  ClusterSumsLayout layout() const override { return ClusterSumsLayout{0, 16, 0}; }

  void set_columns(const ClusterRows& c) override {  // the cluster starts of the one span
    std::vector<int64_t> start(static_cast<size_t>(k_ + 1), 0);
    for (int64_t p = 0; p < c.count; ++p) ++start[c.cluster[p] + 1];
    std::partial_sum(start.begin(), start.end(), start.begin());
    set_columns(c.x, c.count, start.data());
  }

  void add_sums(const ClusterRows& q, const int64_t* self_col, double* sums,
                const Progress& progress) override {
    add_sums(q.x, q.count, self_col, sums, progress);
  }

  void set_columns(const float* x, int64_t count, const int64_t* cluster_start) {
    DeviceScope scope(device_);
    sync_stream(compute_);  // nothing still reads the previous columns
    host_x_ = x;
    count_ = count;
    start_.assign(cluster_start, cluster_start + k_ + 1);
    d_start_.resize(static_cast<size_t>(k_ + 1));
    EMB_CUDA(cudaMemcpyAsync(d_start_.get(), start_.data(), sizeof(int64_t) * (k_ + 1),
                             cudaMemcpyHostToDevice, compute_));
    cols_.release();
    col_norms_.release();
    resident_ = false;
    release_stream_buffers();
    if (count_ <= 0) return;
    ensure_tile(count_);
    const int64_t bytes = count_ * (d_ + 1) * 4;
    if (bytes > ws_.available() / 2) return;  // streamed by every call
    if (!fits_on_device([&] {
          cols_.resize(static_cast<size_t>(count_ * d_));
          col_norms_.resize(static_cast<size_t>(count_));
        })) {
      cols_.release();  // out of device memory: stream the columns instead
      col_norms_.release();
      return;
    }
    EMB_CUDA(cudaMemcpyAsync(cols_.get(), x, sizeof(float) * count_ * d_, cudaMemcpyHostToDevice,
                             compute_));
    norms(cols_.get(), count_, col_norms_.get());
    resident_ = true;
    for (auto& p : pinned_) p.resize(0);
  }

  void add_sums(const float* q, int64_t rows, const int64_t* self_col, double* sums,
                const Progress& progress) {
    DeviceScope scope(device_);
    if (rows <= 0 || count_ <= 0) return;
    ensure_tile(std::max(rows, count_));
    if (!resident_) ensure_stream_buffers();
    const int64_t block = query_block(rows);
    cudaStream_t s = compute_;
    for (int64_t b0 = 0; b0 < rows; b0 += block) {
      const int64_t nb = std::min(block, rows - b0);
      EMB_CUDA(cudaMemcpyAsync(q_.get(), q + b0 * d_, sizeof(float) * nb * d_,
                               cudaMemcpyHostToDevice, s));
      norms(q_.get(), nb, q_norms_.get());
      if (self_col)
        EMB_CUDA(cudaMemcpyAsync(q_self_.get(), self_col + b0, sizeof(int64_t) * nb,
                                 cudaMemcpyHostToDevice, s));
      EMB_CUDA(cudaMemsetAsync(q_sums_.get(), 0, sizeof(double) * nb * k_, s));
      const auto part = [&](double f) {
        if (progress) progress((static_cast<double>(b0) + f * nb) / rows);
      };
      const int64_t* self = self_col ? q_self_.get() : nullptr;
      if (resident_)
        against_resident(nb, self, part);
      else
        against_streamed(nb, self, part);
      add_to_host(q_sums_.get(), nb * k_, sums + b0 * k_);
    }
  }

  void add_all_pair_sums(double* sums, const Progress& progress) override {
    DeviceScope scope(device_);
    if (count_ <= 0) return;
    if (!prepare_symmetric()) {
      // Streamed columns (or no room for every row's sums): the columns are their own queries.
      std::vector<int64_t> self(static_cast<size_t>(count_));
      std::iota(self.begin(), self.end(), int64_t(0));
      add_sums(host_x_, count_, self.data(), sums, progress);
      return;
    }
    cudaStream_t s = compute_;
    const int64_t nt = (count_ + tile_ - 1) / tile_;
    const double total_pairs = static_cast<double>(nt) * (nt + 1) / 2;
    double pairs_done = 0;
    for (int64_t ti = 0; ti < nt; ++ti) {
      const int64_t i0 = ti * tile_, rows = std::min(tile_, count_ - i0);
      const Offsets& o = offsets_[ti];
      for (int64_t tj = ti; tj < nt; ++tj) {
        const int64_t j0 = tj * tile_, m = std::min(tile_, count_ - j0);
        gemm(cols_.get() + i0 * d_, rows, cols_.get() + j0 * d_, m);
        // Row side: tile ti's rows against tile tj's clusters (the row itself on the diagonal).
        kern::launch_row_cluster_sums(
            g_.get(), rows, m, col_norms_.get() + i0, col_norms_.get() + j0, d_start_.get(),
            cluster_of(j0), cluster_of(j0 + m - 1), j0, ti == tj ? self_.get() + i0 : nullptr,
            euclid_, all_sums_.get() + i0 * k_, k_, s);
        if (tj == ti) continue;
        // Column side: tile tj's rows against tile ti's clusters, from the same dot products.
        kern::launch_column_piece_sums(g_.get(), m, col_norms_.get() + i0, col_norms_.get() + j0,
                                       d_piece_start_.get() + o.piece, o.pieces, euclid_,
                                       partial_.get(), s);
        kern::launch_column_combine(partial_.get(), m, d_seg_piece_.get() + o.seg,
                                    d_seg_cluster_.get() + o.seg, o.segments,
                                    all_sums_.get() + j0 * k_, k_, s);
      }
      sync_stream(compute_);  // progress that tells the truth, and errors near their tile
      pairs_done += static_cast<double>(nt - ti);
      if (progress) progress(pairs_done / total_pairs);
    }
    add_to_host(all_sums_.get(), count_ * k_, sums);
    all_sums_.release();
    partial_.release();
  }

 private:
  // Where a row tile's pieces and segments start in the arrays of every tile.
  struct Offsets {
    int64_t piece = 0, seg = 0;
    int32_t pieces = 0, segments = 0;
  };

  int32_t cluster_of(int64_t pos) const {
    return static_cast<int32_t>(std::upper_bound(start_.begin(), start_.end(), pos) -
                                start_.begin() - 1);
  }

  // The GEMM tile buffer for tiles of up to `need` rows: the largest side the budget allows (a
  // quarter of it), shrunk while the allocation fails.
  void ensure_tile(int64_t need) {
    int64_t t = kMaxTile;
    while (t > kMinTile && tile_bytes(t, k_) > ws_.budget() / 4) t /= 2;
    t = std::max(kMinTile, std::min(t, pow2_at_least(need)));
    if (t <= tile_) return;
    tile_ = 0;  // the buffer goes first: a failure leaves no tile behind
    with_shrinking(t, kMinTile, [&](int64_t side) { g_.resize(static_cast<size_t>(side * side)); });
    tile_ = t;
  }

  // The device blocks of streamed columns. The pinned host copies are kept for the next columns
  // of the same size (pinning is slow); they go when the columns are resident.
  void release_stream_buffers() {
    for (int b = 0; b < 2; ++b) {
      chunk_[b].release();
      chunk_norms_[b].release();
    }
    chunk_rows_ = 0;
  }

  // Two device blocks of streamed columns and their pinned host copies: a quarter of what the
  // budget leaves, whole tiles, at most kPinnedBytes of host memory each.
  void ensure_stream_buffers() {
    const int64_t own = static_cast<int64_t>(chunk_[0].bytes() + chunk_[1].bytes() +
                                             chunk_norms_[0].bytes() + chunk_norms_[1].bytes());
    const int64_t avail = ws_.available() + own;
    int64_t rows = std::max<int64_t>(1, avail / 4 / (2 * (d_ + 1) * 4));
    rows = std::min({rows, kPinnedBytes / (d_ * 4) + 1, count_});
    if (rows >= tile_) rows = rows / tile_ * tile_;  // whole tiles per block
    if (rows == chunk_rows_) return;
    chunk_rows_ = 0;  // the buffers go first: a failure leaves none behind
    with_shrinking(rows, 1, [&](int64_t r) {
      for (int b = 0; b < 2; ++b) {
        chunk_[b].resize(static_cast<size_t>(r * d_));
        chunk_norms_[b].resize(static_cast<size_t>(r));
        pinned_[b].resize(static_cast<size_t>(r * d_));
      }
    });
    chunk_rows_ = rows;
  }

  // Query rows per block: what the budget leaves after the columns and the tile, at least one.
  int64_t query_block(int64_t rows) {
    const int64_t per_row = (d_ + 1) * 4 + k_ * 8 + 8;
    const int64_t own =
        static_cast<int64_t>(q_.bytes() + q_norms_.bytes() + q_sums_.bytes() + q_self_.bytes());
    int64_t block = std::max<int64_t>(1, (ws_.available() + own) / per_row);
    block = std::min(block, rows);
    if (block >= tile_ && block < rows) block = block / tile_ * tile_;
    with_shrinking(block, 1, [&](int64_t b) {
      q_.resize(static_cast<size_t>(b * d_));
      q_norms_.resize(static_cast<size_t>(b));
      q_sums_.resize(static_cast<size_t>(b * k_));
      q_self_.resize(static_cast<size_t>(b));
    });
    return block;
  }

  // Squared norms of n rows for the expansion; 1 for the unit rows of cosine.
  void norms(const float* x, int64_t n, float* out) {
    if (n <= 0) return;
    if (euclid_)
      kern::launch_row_sq_norms(x, n, d_, out, compute_);
    else
      kern::launch_fill(out, n, 1.0f, compute_);
  }

  // g_ (rows x m, row-major) = q (rows x d) . c (m x d)^T, i.e. column-major g^T = c q^T.
  void gemm(const float* q, int64_t rows, const float* c, int64_t m) {
    const float one = 1.0f, zero = 0.0f;
    EMB_CUBLAS(cublasSetMathMode(handle_, CUBLAS_DEFAULT_MATH));  // fp32, no TF32
    EMB_CUBLAS(cublasSgemm(handle_, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(m),
                           static_cast<int>(rows), static_cast<int>(d_), &one, c,
                           static_cast<int>(d_), q, static_cast<int>(d_), &zero, g_.get(),
                           static_cast<int>(m)));
  }

  // One tile: query rows (device) against columns at absolute positions [j0, j0 + m).
  void tile_sums(const float* q, int64_t rows, const float* qn, const int64_t* self, const float* c,
                 const float* cn, int64_t j0, int64_t m, double* out) {
    gemm(q, rows, c, m);
    kern::launch_row_cluster_sums(g_.get(), rows, m, qn, cn, d_start_.get(), cluster_of(j0),
                                  cluster_of(j0 + m - 1), j0, self, euclid_, out, k_, compute_);
  }

  // The query block in q_ against the resident columns, a query tile at a time.
  void against_resident(int64_t nb, const int64_t* self, const Progress& part) {
    for (int64_t i0 = 0; i0 < nb; i0 += tile_) {
      const int64_t rows = std::min(tile_, nb - i0);
      for (int64_t j0 = 0; j0 < count_; j0 += tile_)
        tile_sums(q_.get() + i0 * d_, rows, q_norms_.get() + i0, self ? self + i0 : nullptr,
                  cols_.get() + j0 * d_, col_norms_.get() + j0, j0, std::min(tile_, count_ - j0),
                  q_sums_.get() + i0 * k_);
      sync_stream(compute_);
      part(static_cast<double>(i0 + rows) / nb);
    }
  }

  // Copies column block c into device buffer c % 2 on the copy stream, once the buffer's
  // previous block has been used and its pinned copy uploaded.
  void stage(int64_t c) {
    const int b = static_cast<int>(c & 1);
    const int64_t c0 = c * chunk_rows_, rows = std::min(chunk_rows_, count_ - c0);
    EMB_CUDA(cudaEventSynchronize(copied_[b]->get()));
    std::memcpy(pinned_[b].get(), host_x_ + c0 * d_, sizeof(float) * rows * d_);
    EMB_CUDA(cudaStreamWaitEvent(copy_, consumed_[b]->get(), 0));
    EMB_CUDA(cudaMemcpyAsync(chunk_[b].get(), pinned_[b].get(), sizeof(float) * rows * d_,
                             cudaMemcpyHostToDevice, copy_));
    copied_[b]->record(copy_);
  }

  // The query block in q_ against the host's columns, streamed a block at a time. Each query row
  // still meets the column tiles in column order.
  void against_streamed(int64_t nb, const int64_t* self, const Progress& part) {
    cudaStream_t s = compute_;
    const int64_t blocks = (count_ + chunk_rows_ - 1) / chunk_rows_;
    stage(0);
    for (int64_t c = 0; c < blocks; ++c) {
      const int b = static_cast<int>(c & 1);
      const int64_t c0 = c * chunk_rows_, crows = std::min(chunk_rows_, count_ - c0);
      EMB_CUDA(cudaStreamWaitEvent(s, copied_[b]->get(), 0));
      norms(chunk_[b].get(), crows, chunk_norms_[b].get());
      for (int64_t i0 = 0; i0 < nb; i0 += tile_) {
        const int64_t rows = std::min(tile_, nb - i0);
        for (int64_t j = 0; j < crows; j += tile_)
          tile_sums(q_.get() + i0 * d_, rows, q_norms_.get() + i0, self ? self + i0 : nullptr,
                    chunk_[b].get() + j * d_, chunk_norms_[b].get() + j, c0 + j,
                    std::min(tile_, crows - j), q_sums_.get() + i0 * k_);
      }
      consumed_[b]->record(s);
      if (c + 1 < blocks) stage(c + 1);  // overlaps the tiles just queued
      part(static_cast<double>(c + 1) / blocks);
    }
    sync_stream(compute_);
  }

  // host[i] += dev[i] for i < n, through a pinned buffer; waits for the compute stream.
  void add_to_host(const double* dev, int64_t n, double* host) {
    const int64_t chunk = std::min(n, kSumsChunk);
    if (static_cast<int64_t>(host_sums_.size()) < chunk)
      host_sums_.resize(static_cast<size_t>(chunk));
    for (int64_t o = 0; o < n; o += chunk) {
      const int64_t m = std::min(chunk, n - o);
      EMB_CUDA(cudaMemcpyAsync(host_sums_.get(), dev + o, sizeof(double) * m,
                               cudaMemcpyDeviceToHost, compute_));
      sync_stream(compute_);
      const double* src = host_sums_.get();
      for (int64_t i = 0; i < m; ++i) host[o + i] += src[i];
    }
  }

  // Device arrays of the symmetric pass: every row's sums, the self positions, the pieces of each
  // row tile and the column side's partial sums. False when the columns are streamed or these do
  // not fit the budget.
  bool prepare_symmetric() {
    if (!resident_) return false;
    const int64_t nt = (count_ + tile_ - 1) / tile_;
    std::vector<int32_t> piece_start, seg_piece, seg_cluster;
    offsets_.assign(static_cast<size_t>(nt), Offsets{});
    int64_t max_pieces = 0;
    for (int64_t t = 0; t < nt; ++t) {
      const TilePieces p = cut_pieces(start_, t * tile_, std::min(count_, (t + 1) * tile_));
      Offsets& o = offsets_[t];
      o.piece = static_cast<int64_t>(piece_start.size());
      o.seg = static_cast<int64_t>(seg_piece.size());
      o.pieces = static_cast<int32_t>(p.piece_start.size() - 1);
      o.segments = static_cast<int32_t>(p.seg_cluster.size());
      piece_start.insert(piece_start.end(), p.piece_start.begin(), p.piece_start.end());
      seg_piece.insert(seg_piece.end(), p.seg_piece.begin(), p.seg_piece.end());
      seg_cluster.insert(seg_cluster.end(), p.seg_cluster.begin(), p.seg_cluster.end());
      seg_cluster.push_back(0);  // keeps seg_cluster aligned with seg_piece (segments + 1)
      max_pieces = std::max<int64_t>(max_pieces, o.pieces);
    }
    const int64_t need = count_ * k_ * 8 + count_ * 8 + max_pieces * tile_ * 8 +
                         static_cast<int64_t>(piece_start.size() + 2 * seg_piece.size()) * 4;
    if (need > ws_.available()) return false;
    cudaStream_t s = compute_;
    if (!fits_on_device([&] {
          all_sums_.resize(static_cast<size_t>(count_ * k_));
          self_.resize(static_cast<size_t>(count_));
          partial_.resize(static_cast<size_t>(std::max<int64_t>(1, max_pieces * tile_)));
          d_piece_start_.resize(piece_start.size());
          d_seg_piece_.resize(seg_piece.size());
          d_seg_cluster_.resize(seg_cluster.size());
        })) {
      all_sums_.release();
      partial_.release();
      self_.release();
      return false;
    }
    // Pageable copies: the host vectors may go as soon as the calls return.
    EMB_CUDA(cudaMemcpyAsync(d_piece_start_.get(), piece_start.data(),
                             sizeof(int32_t) * piece_start.size(), cudaMemcpyHostToDevice, s));
    EMB_CUDA(cudaMemcpyAsync(d_seg_piece_.get(), seg_piece.data(),
                             sizeof(int32_t) * seg_piece.size(), cudaMemcpyHostToDevice, s));
    EMB_CUDA(cudaMemcpyAsync(d_seg_cluster_.get(), seg_cluster.data(),
                             sizeof(int32_t) * seg_cluster.size(), cudaMemcpyHostToDevice, s));
    EMB_CUDA(cudaMemsetAsync(all_sums_.get(), 0, all_sums_.bytes(), s));
    kern::launch_iota64(self_.get(), count_, s);
    sync_stream(compute_);
    return true;
  }

  GpuResources& res_;
  int device_;
  bool euclid_;
  int64_t k_, d_;
  Workspace ws_;  // before the buffers: they are freed through it
  cudaStream_t compute_ = nullptr, copy_ = nullptr;
  std::unique_ptr<Event> copied_[2], consumed_[2];
  cublasHandle_t handle_ = nullptr;  // bound to compute_

  int64_t tile_ = 0, chunk_rows_ = 0;
  DeviceBuffer<float> g_;
  // Columns: host copy, cluster starts, device copy when resident.
  const float* host_x_ = nullptr;
  int64_t count_ = 0;
  bool resident_ = false;
  std::vector<int64_t> start_;
  DeviceBuffer<int64_t> d_start_;
  DeviceBuffer<float> cols_, col_norms_;
  // Streamed columns.
  DeviceBuffer<float> chunk_[2], chunk_norms_[2];
  PinnedBuffer<float> pinned_[2];
  // A block of queries and its sums.
  DeviceBuffer<float> q_, q_norms_;
  DeviceBuffer<double> q_sums_;
  DeviceBuffer<int64_t> q_self_;
  PinnedBuffer<double> host_sums_;
  // The symmetric pass.
  std::vector<Offsets> offsets_;
  DeviceBuffer<double> all_sums_, partial_;
  DeviceBuffer<int64_t> self_;
  DeviceBuffer<int32_t> d_piece_start_, d_seg_piece_, d_seg_cluster_;
};

}  // namespace

std::unique_ptr<DeviceClusterSums> make_cuda_cluster_sums(int device, TileMetric metric, int64_t k,
                                                          int64_t d, int64_t device_budget) {
  return std::make_unique<CudaClusterSums>(device, metric, k, d, device_budget);
}

}  // namespace embcluster
