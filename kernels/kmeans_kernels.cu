// K-means kernels: argmin over GEMM tiles, exact distances, cluster sums in the CPU's order.
#include <cuda_bf16.h>

#include <cmath>

#include "kernels/distance.cuh"
#include "kernels/kmeans_kernels.cuh"
#include "kernels/launch.cuh"
#include "kernels/unit_sums.cuh"

namespace embcluster {
namespace kern {
namespace {

constexpr int kThreads = 256;

__global__ void argmin_init_kernel(float* best_v, int32_t* best_i, int64_t n) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i < n) {
    best_v[i] = INFINITY;  // +inf
    best_i[i] = 0;
  }
}

__global__ void argmin_update_kernel(const float* g, int64_t n, int64_t m, int64_t j0,
                                     const float* c_norm, float* best_v, int32_t* best_i) {
  const int lane = threadIdx.x & 31;
  const int64_t row = (blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x) >> 5;
  if (row >= n) return;
  const float* gr = g + row * m;
  float v = INFINITY;
  int64_t idx = 0;
  for (int64_t j = lane; j < m; j += 32) {
    const float t = partial_sq_dist(c_norm[j0 + j], gr[j]);
    if (better(t, j0 + j, v, idx)) {
      v = t;
      idx = j0 + j;
    }
  }
  for (int off = 16; off > 0; off >>= 1) {
    const float ov = __shfl_down_sync(0xffffffffu, v, off);
    const int64_t oi = __shfl_down_sync(0xffffffffu, idx, off);
    if (better(ov, oi, v, idx)) {
      v = ov;
      idx = oi;
    }
  }
  if (lane == 0 && better(v, idx, best_v[row], best_i[row])) {
    best_v[row] = v;
    best_i[row] = static_cast<int32_t>(idx);
  }
}

__global__ void exact_dist_kernel(const float* x, int64_t n, int64_t d, const float* c,
                                  const int32_t* labels, float* dist) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  // The exact distance of the CPU backend too (kern::sq_l2_lanes), so that both report the
  // same inertia for the same labels.
  if (i < n) dist[i] = sq_l2_lanes(x + i * d, c + static_cast<int64_t>(labels[i]) * d, d);
}

__global__ void histogram_kernel(const int32_t* labels, int64_t n, int32_t* counts) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i < n) atomicAdd(counts + labels[i], 1);
}

__global__ void iota_kernel(int32_t* rows, int64_t n) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i < n) rows[i] = static_cast<int32_t>(i);
}

// The sums of the chunk's units into a buffer: block (c, u, jb) makes columns jb x blockDim.x ...
// of cluster c's sums in unit u (kernels/unit_sums.cuh).
__global__ void unit_sums_kernel(const float* x, int64_t d, int64_t k, const int32_t* sorted_rows,
                                 const int32_t* seg_start, const int32_t* seg_count,
                                 const float* dist, const double* w, double* unit_sums,
                                 double* unit_sq, double* unit_w) {
  const int64_t c = blockIdx.x, u = blockIdx.y;
  const int64_t seg = u * k + c;
  const int32_t count = seg_count[seg];
  if (count == 0) return;
  const int32_t* rows = sorted_rows + seg_start[seg];
  const int64_t j = blockIdx.z * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (j < d) unit_sums[(u * k + c) * d + j] = unit_column_sum(x, d, rows, count, j, w);
  if (j == 0) unit_sq_and_weight(dist, rows, count, w, unit_sq + u * k + c, unit_w + u * k + c);
}

// The chunk's buffered units added to the running sums in unit order: one thread per (cluster,
// column).
__global__ void fold_units_kernel(int64_t d, int64_t k, int64_t units, const int32_t* seg_count,
                                  const double* unit_sums, const double* unit_sq,
                                  const double* unit_w, ClusterSumsView out) {
  const int64_t t = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (t >= k * d) return;
  const int64_t c = t / d, j = t - c * d;
  double s = out.sums[t];
  for (int64_t u = 0; u < units; ++u)
    if (seg_count[u * k + c] > 0) s += unit_sums[u * k * d + t];
  out.sums[t] = s;
  if (j != 0) return;
  double sq = out.sq_dist[c], ws = out.weight[c];
  long long n = out.counts[c];
  for (int64_t u = 0; u < units; ++u) {
    const int32_t count = seg_count[u * k + c];
    if (count == 0) continue;
    sq += unit_sq[u * k + c];
    ws += unit_w[u * k + c];
    n += count;
  }
  out.sq_dist[c] = sq;
  out.weight[c] = ws;
  out.counts[c] = n;
}

// Every unit of the chunk straight into the running sums, in unit order, without a buffer:
// block (c, jb) owns columns jb x blockDim.x ... of cluster c. For many clusters, where the
// blocks fill the device by themselves.
__global__ void direct_unit_sums_kernel(const float* x, int64_t d, int64_t k, int64_t units,
                                        const int32_t* sorted_rows, const int32_t* seg_start,
                                        const int32_t* seg_count, const float* dist,
                                        const double* w, ClusterSumsView out) {
  const int64_t c = blockIdx.x;
  const int64_t j = blockIdx.y * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  double s = j < d ? out.sums[c * d + j] : 0.0;
  double sq = 0.0, ws = 0.0;
  long long n = 0;
  if (j == 0) sq = out.sq_dist[c], ws = out.weight[c], n = out.counts[c];
  for (int64_t u = 0; u < units; ++u) {
    const int64_t seg = u * k + c;
    const int32_t count = seg_count[seg];
    if (count == 0) continue;
    const int32_t* rows = sorted_rows + seg_start[seg];
    if (j < d) s += unit_column_sum(x, d, rows, count, j, w);
    if (j == 0) {
      double usq, uw;
      unit_sq_and_weight(dist, rows, count, w, &usq, &uw);
      sq += usq;
      ws += uw;
      n += count;
    }
  }
  if (j < d) out.sums[c * d + j] = s;
  if (j == 0) out.sq_dist[c] = sq, out.weight[c] = ws, out.counts[c] = n;
}

__global__ void to_bf16_kernel(const float* in, int64_t n, uint16_t* out) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i < n) {
    const __nv_bfloat16 b = __float2bfloat16(in[i]);
    out[i] = *reinterpret_cast<const uint16_t*>(&b);
  }
}

// dst += src, element by element (as ClusterTotals::add on the host).
__global__ void add_totals_kernel(ClusterSumsView dst, ClusterSumsView src, int64_t k, int64_t d) {
  const int64_t t = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (t < k * d) dst.sums[t] += src.sums[t];
  if (t < k) {
    dst.counts[t] += src.counts[t];
    dst.weight[t] += src.weight[t];
    dst.sq_dist[t] += src.sq_dist[t];
  }
}

// One thread per column: kern::gemm_shift of the column's k values (their mean added in double in
// row order, their spread).
__global__ void gemm_shift_kernel(const float* x, int64_t k, int64_t d, float* shift) {
  const int64_t j = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (j >= d) return;
  double s = 0.0;
  for (int64_t i = 0; i < k; ++i) s += static_cast<double>(x[i * d + j]);
  const double mean = s / static_cast<double>(k);
  double spread = 0.0;
  for (int64_t i = 0; i < k; ++i)
    spread = fmax(spread, fabs(static_cast<double>(x[i * d + j]) - mean));
  shift[j] = gemm_shift(mean, spread);
}

// out = x - shift per row (float, or bfloat16 stored as raw 16-bit values).
template <typename Out>
__global__ void shift_rows_kernel(const float* x, int64_t n, int64_t d, const float* shift,
                                  Out* out) {
  const int64_t t = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (t >= n * d) return;
  const float v = x[t] - shift[t % d];
  if constexpr (sizeof(Out) == sizeof(float)) {
    out[t] = v;
  } else {
    const __nv_bfloat16 b = __float2bfloat16(v);
    out[t] = *reinterpret_cast<const uint16_t*>(&b);
  }
}

__global__ void expand_sq_dist_kernel(float* g, int64_t n, int64_t m, const float* x_norm,
                                      const float* y_norm) {
  const int64_t t = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (t < n * m) g[t] = expanded_sq_dist(x_norm[t / m], y_norm[t % m], g[t]);
}

}  // namespace

void launch_argmin_init(float* best_v, int32_t* best_i, int64_t n, cudaStream_t s) {
  argmin_init_kernel<<<blocks_for(n, kThreads), kThreads, 0, s>>>(best_v, best_i, n);
  EMB_CUDA_LAUNCH("argmin_init_kernel");
}

void launch_argmin_update(const float* g, int64_t n, int64_t m, int64_t j0, const float* c_norm,
                          float* best_v, int32_t* best_i, cudaStream_t s) {
  argmin_update_kernel<<<blocks_for(n * 32, kThreads), kThreads, 0, s>>>(g, n, m, j0, c_norm,
                                                                         best_v, best_i);
  EMB_CUDA_LAUNCH("argmin_update_kernel");
}

void launch_exact_dist(const float* x, int64_t n, int64_t d, const float* c, const int32_t* labels,
                       float* dist, cudaStream_t s) {
  exact_dist_kernel<<<blocks_for(n, kThreads), kThreads, 0, s>>>(x, n, d, c, labels, dist);
  EMB_CUDA_LAUNCH("exact_dist_kernel");
}

void launch_histogram(const int32_t* labels, int64_t n, int32_t* counts, cudaStream_t s) {
  histogram_kernel<<<blocks_for(n, kThreads), kThreads, 0, s>>>(labels, n, counts);
  EMB_CUDA_LAUNCH("histogram_kernel");
}

void launch_iota(int32_t* rows, int64_t n, cudaStream_t s) {
  iota_kernel<<<blocks_for(n, kThreads), kThreads, 0, s>>>(rows, n);
  EMB_CUDA_LAUNCH("iota_kernel");
}

int64_t unit_sums_buffer(int64_t rows, int64_t k, int64_t d, int64_t cap_bytes) {
  const int64_t units = (rows + kUnitRows - 1) / kUnitRows;
  const int64_t bytes = units * k * d * static_cast<int64_t>(sizeof(double));
  return bytes <= cap_bytes ? units * k * d : 0;
}

void launch_cluster_sums(const float* x, int64_t rows, int64_t d, int64_t k,
                         const int32_t* sorted_rows, const int32_t* seg_start,
                         const int32_t* seg_count, const float* dist, const double* w,
                         UnitBuffer buf, ClusterSumsView out, cudaStream_t s) {
  const int64_t units = (rows + kUnitRows - 1) / kUnitRows;
  const int threads = d >= 128 ? 128 : (d >= 64 ? 64 : 32);
  const unsigned col_blocks = static_cast<unsigned>((d + threads - 1) / threads);
  if (!buf.sums) {
    direct_unit_sums_kernel<<<dim3(static_cast<unsigned>(k), col_blocks), threads, 0, s>>>(
        x, d, k, units, sorted_rows, seg_start, seg_count, dist, w, out);
    EMB_CUDA_LAUNCH("direct_unit_sums_kernel");
    return;
  }
  unit_sums_kernel<<<dim3(static_cast<unsigned>(k), static_cast<unsigned>(units), col_blocks),
                     threads, 0, s>>>(x, d, k, sorted_rows, seg_start, seg_count, dist, w, buf.sums,
                                      buf.sq, buf.weight);
  EMB_CUDA_LAUNCH("unit_sums_kernel");
  fold_units_kernel<<<blocks_for(k * d, kThreads), kThreads, 0, s>>>(
      d, k, units, seg_count, buf.sums, buf.sq, buf.weight, out);
  EMB_CUDA_LAUNCH("fold_units_kernel");
}

void launch_to_bf16(const float* in, int64_t n, uint16_t* out, cudaStream_t s) {
  to_bf16_kernel<<<blocks_for(n, kThreads), kThreads, 0, s>>>(in, n, out);
  EMB_CUDA_LAUNCH("to_bf16_kernel");
}

void launch_add_totals(ClusterSumsView dst, ClusterSumsView src, int64_t k, int64_t d,
                       cudaStream_t s) {
  add_totals_kernel<<<blocks_for(k * d > k ? k * d : k, kThreads), kThreads, 0, s>>>(dst, src, k,
                                                                                     d);
  EMB_CUDA_LAUNCH("add_totals_kernel");
}

void launch_gemm_shift(const float* x, int64_t k, int64_t d, float* shift, cudaStream_t s) {
  gemm_shift_kernel<<<blocks_for(d, kThreads), kThreads, 0, s>>>(x, k, d, shift);
  EMB_CUDA_LAUNCH("gemm_shift_kernel");
}

void launch_shift_rows(const float* x, int64_t n, int64_t d, const float* shift, float* out,
                       cudaStream_t s) {
  shift_rows_kernel<float><<<blocks_for(n * d, kThreads), kThreads, 0, s>>>(x, n, d, shift, out);
  EMB_CUDA_LAUNCH("shift_rows_kernel");
}

void launch_shift_rows_bf16(const float* x, int64_t n, int64_t d, const float* shift, uint16_t* out,
                            cudaStream_t s) {
  shift_rows_kernel<uint16_t><<<blocks_for(n * d, kThreads), kThreads, 0, s>>>(x, n, d, shift, out);
  EMB_CUDA_LAUNCH("shift_rows_kernel (bf16)");
}

void launch_expand_sq_dist(float* g, int64_t n, int64_t m, const float* x_norm, const float* y_norm,
                           cudaStream_t s) {
  expand_sq_dist_kernel<<<blocks_for(n * m, kThreads), kThreads, 0, s>>>(g, n, m, x_norm, y_norm);
  EMB_CUDA_LAUNCH("expand_sq_dist_kernel");
}

}  // namespace kern
}  // namespace embcluster
