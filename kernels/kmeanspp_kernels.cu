// k-means++ rounds on the device: the arithmetic of kernels/kmeanspp.cuh, which the host loop
// runs too.
#include <cmath>

#include "kernels/kmeanspp.cuh"
#include "kernels/kmeanspp_kernels.cuh"
#include "kernels/launch.cuh"

namespace embcluster {
namespace kern {
namespace {

constexpr int kThreads = 256;

__host__ __device__ int64_t chunks_of(int64_t n) {
  return (n + kPlusPlusChunk - 1) / kPlusPlusChunk;
}

__global__ void pp_reset_kernel(float* closest, int64_t n) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i < n) closest[i] = INFINITY;
}

// Block t: candidate t. The chunk a draw lands on is staged in shared memory and walked by one
// thread, in row order.
__global__ void pp_pick_kernel(PlusPlusView v, const double* draws, int64_t first) {
  __shared__ float closest[kPlusPlusChunk];
  __shared__ double w[kPlusPlusChunk];
  __shared__ int64_t row;
  const int64_t t = blockIdx.x;
  if (!draws) {
    if (threadIdx.x == 0) row = first;
  } else {
    const int64_t chunks = chunks_of(v.n);
    const bool upper = v.w != nullptr;  // a row of weight 0 is never picked
    const double r = draws[t] * v.off[chunks];
    const int64_t ch = find_chunk(v.off, chunks, r, upper);  // the same in every thread
    if (ch == chunks) {
      if (threadIdx.x == 0) row = v.n - 1;
    } else {
      const int64_t b = ch * kPlusPlusChunk;
      const int64_t count = (v.n - b < kPlusPlusChunk) ? v.n - b : kPlusPlusChunk;
      for (int64_t i = threadIdx.x; i < count; i += blockDim.x) {
        closest[i] = v.closest[b + i];
        if (v.w) w[i] = v.w[b + i];
      }
      __syncthreads();
      if (threadIdx.x == 0)
        row = b + walk_chunk(closest, v.w ? w : nullptr, count, v.off[ch], r, upper);
    }
  }
  __syncthreads();
  const int64_t i = row;
  for (int64_t j = threadIdx.x; j < v.d; j += blockDim.x)
    v.cand[t * v.d + j] = v.sample[i * v.d + j];
  if (threadIdx.x == 0) {
    v.cand_idx[t] = i;
    v.cand_norms[t] = v.norms[i];
  }
}

__global__ void pp_potentials_kernel(PlusPlusView v, int64_t trials) {
  const int64_t id = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (id >= chunks_of(v.n) * trials) return;
  const int64_t ch = id / trials, t = id - ch * trials;
  const int64_t b = ch * kPlusPlusChunk;
  const int64_t e = (v.n - b < kPlusPlusChunk) ? v.n : b + kPlusPlusChunk;
  v.part[id] = chunk_potential(v.closest, v.g + t, trials, b, e, v.w);
}

__global__ void pp_choose_kernel(PlusPlusView v, int64_t trials, int64_t round) {
  __shared__ double pot[kMaxPlusPlusTrials];
  __shared__ int64_t best;
  const int64_t chunks = chunks_of(v.n);
  for (int64_t t = threadIdx.x; t < trials; t += blockDim.x) {
    double p = 0;
    for (int64_t ch = 0; ch < chunks; ++ch) p += v.part[ch * trials + t];
    pot[t] = p;
  }
  __syncthreads();
  if (threadIdx.x != 0) return;
  best = 0;
  for (int64_t t = 1; t < trials; ++t)
    if (pot[t] < pot[best]) best = t;
  *v.best = best;
  v.picks[round] = v.cand_idx[best];
  v.off[0] = 0.0;
  for (int64_t ch = 0; ch < chunks; ++ch) v.off[ch + 1] = v.off[ch] + v.part[ch * trials + best];
}

__global__ void pp_update_kernel(PlusPlusView v, int64_t trials) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= v.n) return;
  const float dist = v.g[i * trials + *v.best];
  if (dist < v.closest[i]) v.closest[i] = dist;
}

}  // namespace

void launch_pp_reset(PlusPlusView v, cudaStream_t s) {
  pp_reset_kernel<<<blocks_for(v.n, kThreads), kThreads, 0, s>>>(v.closest, v.n);
  EMB_CUDA_LAUNCH("pp_reset_kernel");
}

void launch_pp_pick(PlusPlusView v, int64_t trials, const double* draws, int64_t first,
                    cudaStream_t s) {
  pp_pick_kernel<<<static_cast<unsigned>(trials), 128, 0, s>>>(v, draws, first);
  EMB_CUDA_LAUNCH("pp_pick_kernel");
}

void launch_pp_potentials(PlusPlusView v, int64_t trials, cudaStream_t s) {
  pp_potentials_kernel<<<blocks_for(chunks_of(v.n) * trials, kThreads), kThreads, 0, s>>>(v,
                                                                                          trials);
  EMB_CUDA_LAUNCH("pp_potentials_kernel");
}

void launch_pp_choose(PlusPlusView v, int64_t trials, int64_t round, cudaStream_t s) {
  pp_choose_kernel<<<1, kMaxPlusPlusTrials, 0, s>>>(v, trials, round);
  EMB_CUDA_LAUNCH("pp_choose_kernel");
}

void launch_pp_update(PlusPlusView v, int64_t trials, cudaStream_t s) {
  pp_update_kernel<<<blocks_for(v.n, kThreads), kThreads, 0, s>>>(v, trials);
  EMB_CUDA_LAUNCH("pp_update_kernel");
}

}  // namespace kern
}  // namespace embcluster
