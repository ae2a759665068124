// K-means kernels: fused argmin over GEMM tiles, exact distances, ordered centroid sums.
#include <cuda_bf16.h>

#include <cmath>

#include "kernels/distance.cuh"
#include "kernels/kmeans_kernels.cuh"
#include "kernels/launch.cuh"

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

// Grid: one block per cluster; threads stride over dimensions. w: per row of the chunk, or null
// for weight 1 (then the sums are those of the plain rows, as before weights existed).
__global__ void accumulate_sorted_kernel(const float* x, int64_t d, const int32_t* sorted_rows,
                                         const int32_t* seg_start, const int32_t* seg_count,
                                         const float* dist, const double* w, ClusterSumsView out) {
  const int64_t c = blockIdx.x;
  const int32_t start = seg_start[c], count = seg_count[c];
  if (count == 0) return;
  for (int64_t j = threadIdx.x; j < d; j += blockDim.x) {
    double s = out.sums[c * d + j];
    for (int32_t r = 0; r < count; ++r) {
      const int64_t i = sorted_rows[start + r];
      const double v = static_cast<double>(x[i * d + j]);
      s += w ? w[i] * v : v;
    }
    out.sums[c * d + j] = s;
  }
  if (threadIdx.x == 0) {
    double s = out.sq_dist[c], ws = out.weight[c];
    for (int32_t r = 0; r < count; ++r) {
      const int64_t i = sorted_rows[start + r];
      const double v = static_cast<double>(dist[i]);
      s += w ? w[i] * v : v;
      ws += w ? w[i] : 1.0;
    }
    out.sq_dist[c] = s;
    out.weight[c] = ws;
    out.counts[c] += count;
  }
}

__global__ void to_bf16_kernel(const float* in, int64_t n, uint16_t* out) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i < n) {
    const __nv_bfloat16 b = __float2bfloat16(in[i]);
    out[i] = *reinterpret_cast<const uint16_t*>(&b);
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

void launch_accumulate_sorted(const float* x, int64_t d, const int32_t* sorted_rows,
                              const int32_t* seg_start, const int32_t* seg_count, int64_t k,
                              const float* dist, const double* w, ClusterSumsView out,
                              cudaStream_t s) {
  const int threads = d >= 128 ? 128 : 32;
  accumulate_sorted_kernel<<<static_cast<unsigned>(k), threads, 0, s>>>(
      x, d, sorted_rows, seg_start, seg_count, dist, w, out);
  EMB_CUDA_LAUNCH("accumulate_sorted_kernel");
}

void launch_to_bf16(const float* in, int64_t n, uint16_t* out, cudaStream_t s) {
  to_bf16_kernel<<<blocks_for(n, kThreads), kThreads, 0, s>>>(in, n, out);
  EMB_CUDA_LAUNCH("to_bf16_kernel");
}

void launch_expand_sq_dist(float* g, int64_t n, int64_t m, const float* x_norm, const float* y_norm,
                           cudaStream_t s) {
  expand_sq_dist_kernel<<<blocks_for(n * m, kThreads), kThreads, 0, s>>>(g, n, m, x_norm, y_norm);
  EMB_CUDA_LAUNCH("expand_sq_dist_kernel");
}

}  // namespace kern
}  // namespace embcluster
