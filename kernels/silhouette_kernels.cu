// Silhouette kernels: GEMM tiles turned into distances and reduced at once into per-cluster sums
// (double), by rows (contiguous cluster segments of a tile row) and by columns (pieces of rows).
#include "kernels/launch.cuh"
#include "kernels/silhouette_kernels.cuh"
#include "kernels/silhouette_math.cuh"

namespace embcluster {
namespace kern {
namespace {

constexpr int kThreads = 256;

// One warp per tile row; the warp walks the cluster segments of the tile's columns, its lanes
// striding over each segment, and adds the segment's total to the row's sum for that cluster.
__global__ void row_cluster_sums_kernel(const float* g, int64_t rows, int64_t m,
                                        const float* q_norms, const float* c_norms,
                                        const int64_t* cluster_start, int32_t c_first,
                                        int32_t c_last, int64_t j0, const int64_t* self_col,
                                        bool euclidean, double* sums, int64_t k) {
  const int lane = threadIdx.x & 31;
  const int64_t row = (blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x) >> 5;
  if (row >= rows) return;  // the whole warp leaves together: row is the same for its lanes
  const float* gr = g + row * m;
  const float qn = q_norms[row];
  int64_t self = -1;  // tile column of the row itself
  if (self_col) {
    const int64_t s = self_col[row];
    if (s >= j0 && s < j0 + m) self = s - j0;
  }
  double* out = sums + row * k;
  for (int32_t c = c_first; c <= c_last; ++c) {
    int64_t b = cluster_start[c] - j0, e = cluster_start[c + 1] - j0;
    b = b < 0 ? 0 : b;
    e = e > m ? m : e;
    if (b >= e) continue;  // the same for every lane
    double acc = 0;
    for (int64_t j = b + lane; j < e; j += 32)
      acc += j == self ? 0.0 : static_cast<double>(tile_distance(qn, c_norms[j], gr[j], euclidean));
    for (int off = 16; off > 0; off >>= 1) acc += __shfl_down_sync(0xffffffffu, acc, off);
    if (lane == 0) out[c] += acc;
  }
}

// One thread per (tile column, piece of rows): consecutive threads read consecutive columns of
// the same row, so the reads of the tile are coalesced.
__global__ void column_piece_sums_kernel(const float* g, int64_t m, const float* q_norms,
                                         const float* c_norms, const int32_t* piece_start,
                                         bool euclidean, double* partial) {
  const int64_t j = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (j >= m) return;
  const int64_t p = blockIdx.y;
  const int32_t r0 = piece_start[p], r1 = piece_start[p + 1];
  const float cn = c_norms[j];
  double acc = 0;
  for (int32_t r = r0; r < r1; ++r)
    acc += static_cast<double>(tile_distance(q_norms[r], cn, g[r * m + j], euclidean));
  partial[p * m + j] = acc;
}

__global__ void column_combine_kernel(const double* partial, int64_t m, const int32_t* seg_piece,
                                      const int32_t* seg_cluster, int32_t segments, double* sums,
                                      int64_t k) {
  const int64_t j = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (j >= m) return;
  double* out = sums + j * k;
  for (int32_t s = 0; s < segments; ++s) {
    double t = 0;
    for (int64_t p = seg_piece[s]; p < seg_piece[s + 1]; ++p) t += partial[p * m + j];
    out[seg_cluster[s]] += t;
  }
}

__global__ void fill_kernel(float* out, int64_t n, float value) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i < n) out[i] = value;
}

__global__ void iota64_kernel(int64_t* out, int64_t n) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i < n) out[i] = i;
}

}  // namespace

void launch_row_cluster_sums(const float* g, int64_t rows, int64_t m, const float* q_norms,
                             const float* c_norms, const int64_t* cluster_start, int32_t c_first,
                             int32_t c_last, int64_t j0, const int64_t* self_col, bool euclidean,
                             double* sums, int64_t k, cudaStream_t s) {
  if (rows <= 0 || m <= 0) return;
  row_cluster_sums_kernel<<<blocks_for(rows * 32, kThreads), kThreads, 0, s>>>(
      g, rows, m, q_norms, c_norms, cluster_start, c_first, c_last, j0, self_col, euclidean, sums,
      k);
  EMB_CUDA_LAUNCH("row_cluster_sums_kernel");
}

void launch_column_piece_sums(const float* g, int64_t m, const float* q_norms, const float* c_norms,
                              const int32_t* piece_start, int32_t pieces, bool euclidean,
                              double* partial, cudaStream_t s) {
  if (m <= 0 || pieces <= 0) return;
  const dim3 grid(blocks_for(m, kThreads), static_cast<unsigned>(pieces));
  column_piece_sums_kernel<<<grid, kThreads, 0, s>>>(g, m, q_norms, c_norms, piece_start, euclidean,
                                                     partial);
  EMB_CUDA_LAUNCH("column_piece_sums_kernel");
}

void launch_column_combine(const double* partial, int64_t m, const int32_t* seg_piece,
                           const int32_t* seg_cluster, int32_t segments, double* sums, int64_t k,
                           cudaStream_t s) {
  if (m <= 0 || segments <= 0) return;
  column_combine_kernel<<<blocks_for(m, kThreads), kThreads, 0, s>>>(
      partial, m, seg_piece, seg_cluster, segments, sums, k);
  EMB_CUDA_LAUNCH("column_combine_kernel");
}

void launch_fill(float* out, int64_t n, float value, cudaStream_t s) {
  if (n <= 0) return;
  fill_kernel<<<blocks_for(n, kThreads), kThreads, 0, s>>>(out, n, value);
  EMB_CUDA_LAUNCH("fill_kernel");
}

void launch_iota64(int64_t* out, int64_t n, cudaStream_t s) {
  if (n <= 0) return;
  iota64_kernel<<<blocks_for(n, kThreads), kThreads, 0, s>>>(out, n);
  EMB_CUDA_LAUNCH("iota64_kernel");
}

}  // namespace kern
}  // namespace embcluster
