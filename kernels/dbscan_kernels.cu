// Exact DBSCAN kernels: tile-pair classification by bounds, and the count, union and border
// passes over the dot-product tiles of a batched SGEMM. Every "within eps" decision is
// kern::dbscan_within (the direct sum's decision), as on the CPU, and what a pass does with a pair
// within eps follows kernels/dbscan_rules.cuh.
#include <climits>

#include "kernels/dbscan_kernels.cuh"
#include "kernels/dbscan_math.cuh"
#include "kernels/dbscan_rules.cuh"
#include "kernels/launch.cuh"

namespace embcluster {
namespace kern {
namespace {

constexpr int kThreads = 256;
constexpr int kTile = kDbscanGpuTile;
constexpr int64_t kTileFloats = int64_t(kTile) * kTile;
constexpr unsigned kFullMask = 0xffffffffu;
static_assert(kThreads == kTile, "one thread per row of tile t");

// The union-find's parent accessor on the device: fresh loads (the array changes under other
// threads) and atomicCAS for both halving and linking.
struct DeviceParents {
  int32_t* p;
  __device__ int32_t load(int32_t i) const { return *(reinterpret_cast<volatile int32_t*>(p) + i); }
  __device__ void halve(int32_t i, int32_t expect, int32_t to) { atomicCAS(p + i, expect, to); }
  __device__ bool link(int32_t i, int32_t expect, int32_t to) {
    return atomicCAS(p + i, expect, to) == expect;
  }
};

__device__ bool pair_wanted(const DbscanTileSet& tiles, int filter, int32_t s, int32_t t) {
  if (filter == kPairsAll) return true;
  return dbscan_tiles_wanted(filter, tiles.core[s], tiles.rows[s], tiles.core[t], tiles.rows[t],
                             s == t);
}

// One thread per pair of tiles. Every thread of a warp reaches the ballots (no early return).
__global__ void classify_kernel(DbscanTileSet tiles, int64_t d, int32_t s0, int32_t ns, int32_t t0,
                                int32_t nt, bool same, float eps2, double err_scale, int filter,
                                int2* pairs, unsigned long long* counters) {
  const int64_t idx = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  int state = -1;  // -1: not a pair, 0: far, 1: filtered out, 2: kept
  int32_t s = 0, t = 0;
  if (idx < static_cast<int64_t>(ns) * nt) {
    s = s0 + static_cast<int32_t>(idx / nt);
    t = t0 + static_cast<int32_t>(idx % nt);
    if (!same || t >= s) {
      const double* ca = tiles.centre + s * d;
      const double* cb = tiles.centre + t * d;
      double c2 = 0;
      for (int64_t j = 0; j < d; ++j) c2 += (ca[j] - cb[j]) * (ca[j] - cb[j]);
      const int kind = tile_pair_kind(c2, tiles.radius[s], tiles.radius[t], tiles.max_norm[s],
                                      tiles.max_norm[t], eps2, err_scale);
      state = kind == kTilesFar ? 0 : (pair_wanted(tiles, filter, s, t) ? 2 : 1);
    }
  }
  const int lane = threadIdx.x & 31;
  const unsigned far = __ballot_sync(kFullMask, state == 0);
  const unsigned dropped = __ballot_sync(kFullMask, state == 1);
  const unsigned kept = __ballot_sync(kFullMask, state == 2);
  unsigned long long base = 0;
  if (lane == 0) {
    if (far) atomicAdd(counters + 1, static_cast<unsigned long long>(__popc(far)));
    if (dropped) atomicAdd(counters + 2, static_cast<unsigned long long>(__popc(dropped)));
    if (kept) base = atomicAdd(counters, static_cast<unsigned long long>(__popc(kept)));
  }
  base = __shfl_sync(kFullMask, base, 0);
  if (state == 2) {
    const unsigned below = kept & ((1u << lane) - 1u);
    pairs[base + __popc(below)] = make_int2(s, t);
  }
}

__global__ void gemm_pointers_kernel(DbscanPairBatch b, float* g, const float** a_ptr,
                                     const float** b_ptr, float** c_ptr) {
  const int64_t p = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (p >= b.count) return;
  const int2 st = b.pairs[p];
  a_ptr[p] = b.b.x + (b.tile_begin[st.y] - b.b.pos0) * b.d;
  b_ptr[p] = b.a.x + (b.tile_begin[st.x] - b.a.pos0) * b.d;
  c_ptr[p] = g + p * kTileFloats;
}

// What a pass kernel's thread block knows about its pair: row j of tile t is this thread's.
struct PairView {
  int32_t s, t;
  int ms, mt;
  int64_t a0, b0;  // local rows of the tiles' first rows in sides a and b
  bool diag;
  const float* g;  // this thread's column of the dot-product tile
};

__device__ PairView view_pair(const DbscanPairBatch& b) {
  PairView v;
  const int2 st = b.pairs[blockIdx.x];
  v.s = st.x;
  v.t = st.y;
  v.ms = b.tile_rows[v.s];
  v.mt = b.tile_rows[v.t];
  v.a0 = b.tile_begin[v.s] - b.a.pos0;
  v.b0 = b.tile_begin[v.t] - b.b.pos0;
  v.diag = v.s == v.t;
  v.g = b.g + blockIdx.x * kTileFloats + threadIdx.x;
  return v;
}

// Whether row i of tile s and row j (this thread's) of tile t lie within eps.
__device__ bool within(const DbscanPairBatch& b, const PairView& v, int i, float na, float nb,
                       const float* yb) {
  return dbscan_within(v.g[static_cast<int64_t>(i) * kTile], na, nb, b.eps2, b.scale,
                       b.a.x + (v.a0 + i) * b.d, yb, b.d);
}

__global__ void __launch_bounds__(kThreads) count_kernel(DbscanPairBatch b, int32_t* counts) {
  __shared__ float na[kTile];
  __shared__ int32_t row_count[kTile];
  const PairView v = view_pair(b);
  const int j = threadIdx.x, lane = j & 31;
  na[j] = j < v.ms ? b.a.norms[v.a0 + j] : 0.0f;
  row_count[j] = 0;
  __syncthreads();
  const bool valid = j < v.mt;
  const float nb = valid ? b.b.norms[v.b0 + j] : 0.0f;
  const float* yb = b.b.x + (v.b0 + j) * b.d;
  int32_t col = 0;
  for (int i = 0; i < v.ms; ++i) {
    // A row is its own neighbour whatever rounding says (as on the CPU).
    const bool w = valid && ((v.diag && i == j) || within(b, v, i, na[i], nb, yb));
    col += w;
    const unsigned ballot = __ballot_sync(kFullMask, w);
    if (lane == 0 && ballot) atomicAdd(row_count + i, __popc(ballot));
  }
  __syncthreads();
  // Rows of s count every column; columns of t count every row, except on the diagonal, where
  // the rows have counted every pair already.
  if (j < v.ms && row_count[j]) atomicAdd(counts + b.ids[b.tile_begin[v.s] + j], row_count[j]);
  if (!v.diag && valid && col) atomicAdd(counts + b.ids[b.tile_begin[v.t] + j], col);
}

__global__ void __launch_bounds__(kThreads)
    union_kernel(DbscanPairBatch b, const uint8_t* core, int32_t* parent) {
  __shared__ float na[kTile];
  __shared__ int32_t id_a[kTile];
  __shared__ uint8_t core_a[kTile];
  __shared__ int32_t lowest, highest;  // roots of the pair's core rows
  const PairView v = view_pair(b);
  const int j = threadIdx.x;
  DeviceParents parents{parent};
  if (j == 0) {
    lowest = INT_MAX;
    highest = -1;
  }
  __syncthreads();
  if (j < v.ms) {
    id_a[j] = b.ids[b.tile_begin[v.s] + j];
    core_a[j] = core[id_a[j]];
    na[j] = b.a.norms[v.a0 + j];
    if (core_a[j]) {
      const int32_t r = uf_find(parents, id_a[j]);
      atomicMin(&lowest, r);
      atomicMax(&highest, r);
    }
  }
  const bool valid = j < v.mt;
  const int32_t id_b = valid ? b.ids[b.tile_begin[v.t] + j] : 0;
  const bool core_b = valid && core[id_b];
  if (core_b) {
    const int32_t r = uf_find(parents, id_b);
    atomicMin(&lowest, r);
    atomicMax(&highest, r);
  }
  __syncthreads();
  // Every core row of both tiles in one set already (sets only grow): nothing to join.
  if (lowest == highest || !core_b) return;  // no barrier below
  const float nb = b.b.norms[v.b0 + j];
  const float* yb = b.b.x + (v.b0 + j) * b.d;
  // On the diagonal each unordered pair once (i < j).
  const int end = v.diag ? j : v.ms;
  for (int i = 0; i < end; ++i)
    if (dbscan_joins(core_a[i], core_b) && within(b, v, i, na[i], nb, yb))
      uf_unite(parents, id_a[i], id_b);
}

__global__ void __launch_bounds__(kThreads)
    border_kernel(DbscanPairBatch b, const uint8_t* core, const int32_t* root, int32_t* border) {
  __shared__ float na[kTile];
  __shared__ int32_t id_a[kTile];
  __shared__ int32_t root_a[kTile];  // root of core rows, INT_MAX for the others
  __shared__ int32_t row_min[kTile];
  const PairView v = view_pair(b);
  const int j = threadIdx.x, lane = j & 31;
  if (j < v.ms) {
    id_a[j] = b.ids[b.tile_begin[v.s] + j];
    root_a[j] = core[id_a[j]] ? root[id_a[j]] : INT_MAX;
    na[j] = b.a.norms[v.a0 + j];
  }
  row_min[j] = INT_MAX;
  __syncthreads();
  const bool valid = j < v.mt;
  const int32_t id_b = valid ? b.ids[b.tile_begin[v.t] + j] : 0;
  const bool core_b = valid && core[id_b];
  const int32_t root_b = core_b ? root[id_b] : INT_MAX;
  const float nb = valid ? b.b.norms[v.b0 + j] : 0.0f;
  const float* yb = b.b.x + (v.b0 + j) * b.d;
  int32_t col_min = INT_MAX;  // lowest root of a core row of s within eps of this (non-core) row
  for (int i = 0; i < v.ms; ++i) {
    int32_t offer = INT_MAX;  // the root this thread offers to row i of s
    const bool core_i = root_a[i] != INT_MAX;
    const bool takes = dbscan_attaches(core_i, core_b);  // row i of s, from this core row
    const bool gives = dbscan_attaches(core_b, core_i);  // this row, from core row i of s
    if (valid && (takes || gives) && within(b, v, i, na[i], nb, yb)) {
      if (takes)
        offer = root_b;
      else
        col_min = dbscan_attachment(col_min, root_a[i]);
    }
    const int32_t lowest = __reduce_min_sync(kFullMask, offer);
    if (lane == 0 && lowest != INT_MAX) atomicMin(row_min + i, lowest);
  }
  __syncthreads();
  if (j < v.ms && root_a[j] == INT_MAX && row_min[j] != INT_MAX)
    atomicMin(border + id_a[j], row_min[j]);
  if (valid && !core_b && col_min != INT_MAX) atomicMin(border + id_b, col_min);
}

__global__ void reset_kernel(int32_t* parent, int32_t* border, int64_t n) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i < n) {
    parent[i] = static_cast<int32_t>(i);
    border[i] = INT_MAX;
  }
}

__global__ void flatten_kernel(int32_t* parent, int64_t n) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= n) return;
  DeviceParents parents{parent};
  parent[i] = uf_find(parents, static_cast<int32_t>(i));
}

}  // namespace

void launch_dbscan_classify(const DbscanTileSet& tiles, int64_t d, int32_t s0, int32_t s1,
                            int32_t t0, int32_t t1, bool same, float eps2, double err_scale,
                            int filter, int2* pairs, unsigned long long* counters,
                            cudaStream_t stream) {
  const int32_t ns = s1 - s0, nt = t1 - t0;
  if (ns <= 0 || nt <= 0) return;
  classify_kernel<<<blocks_for(int64_t(ns) * nt, kThreads), kThreads, 0, stream>>>(
      tiles, d, s0, ns, t0, nt, same, eps2, err_scale, filter, pairs, counters);
  EMB_CUDA_LAUNCH("classify_kernel");
}

void launch_dbscan_gemm_pointers(const DbscanPairBatch& batch, float* g, const float** a_ptr,
                                 const float** b_ptr, float** c_ptr, cudaStream_t stream) {
  if (batch.count <= 0) return;
  gemm_pointers_kernel<<<blocks_for(batch.count, kThreads), kThreads, 0, stream>>>(batch, g, a_ptr,
                                                                                   b_ptr, c_ptr);
  EMB_CUDA_LAUNCH("gemm_pointers_kernel");
}

void launch_dbscan_count(const DbscanPairBatch& batch, int32_t* counts, cudaStream_t stream) {
  if (batch.count <= 0) return;
  count_kernel<<<static_cast<unsigned>(batch.count), kThreads, 0, stream>>>(batch, counts);
  EMB_CUDA_LAUNCH("count_kernel");
}

void launch_dbscan_union(const DbscanPairBatch& batch, const uint8_t* core, int32_t* parent,
                         cudaStream_t stream) {
  if (batch.count <= 0) return;
  union_kernel<<<static_cast<unsigned>(batch.count), kThreads, 0, stream>>>(batch, core, parent);
  EMB_CUDA_LAUNCH("union_kernel");
}

void launch_dbscan_border(const DbscanPairBatch& batch, const uint8_t* core, const int32_t* root,
                          int32_t* border, cudaStream_t stream) {
  if (batch.count <= 0) return;
  border_kernel<<<static_cast<unsigned>(batch.count), kThreads, 0, stream>>>(batch, core, root,
                                                                             border);
  EMB_CUDA_LAUNCH("border_kernel");
}

void launch_dbscan_reset(int32_t* parent, int32_t* border, int64_t n, cudaStream_t stream) {
  reset_kernel<<<blocks_for(n, kThreads), kThreads, 0, stream>>>(parent, border, n);
  EMB_CUDA_LAUNCH("reset_kernel");
}

void launch_dbscan_flatten(int32_t* parent, int64_t n, cudaStream_t stream) {
  flatten_kernel<<<blocks_for(n, kThreads), kThreads, 0, stream>>>(parent, n);
  EMB_CUDA_LAUNCH("flatten_kernel");
}

}  // namespace kern
}  // namespace embcluster
