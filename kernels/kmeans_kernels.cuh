#pragma once
// Launchers of the K-means kernels (device pointers, asynchronous on `stream`).
#include <cuda_runtime.h>

#include <cstdint>

namespace embcluster {
namespace kern {

// best_v = +inf, best_i = 0 for n rows.
void launch_argmin_init(float* best_v, int32_t* best_i, int64_t n, cudaStream_t stream);

// For rows [0, n) of the dot-product tile g (n x m, row-major, g[i*m + j] = x_i . c_{j0+j}):
// v = c_norm[j0 + j] - 2 g; keeps the lowest (v, index) in best_v/best_i. One warp per row.
void launch_argmin_update(const float* g, int64_t n, int64_t m, int64_t j0, const float* c_norm,
                          float* best_v, int32_t* best_i, cudaStream_t stream);

// dist[i] = sum_j (x_i - c_label_i)^2 in index order, as the CPU computes it.
void launch_exact_dist(const float* x, int64_t n, int64_t d, const float* c,
                       const int32_t* labels, float* dist, cudaStream_t stream);

// counts[labels[i]] += 1 (int32 counts, for the segment offsets of the sorted rows).
void launch_histogram(const int32_t* labels, int64_t n, int32_t* counts, cudaStream_t stream);

// rows[i] = i for i < n.
void launch_iota(int32_t* rows, int64_t n, cudaStream_t stream);

// The running per-cluster sums on the device (as ClusterSums on the host).
struct ClusterSumsView {
  double* sums;       // k x d: sum of weight * row
  long long* counts;  // k: rows
  double* weight;     // k: sum of the rows' weights
  double* sq_dist;    // k: sum of weight * squared distance
};

// dst += src, element by element, for k clusters of d columns (as ClusterTotals::add).
void launch_add_totals(ClusterSumsView dst, ClusterSumsView src, int64_t k, int64_t d,
                       cudaStream_t stream);

// Where the units' sums wait before they are added in unit order (null sums: no buffer).
struct UnitBuffer {
  double* sums;    // units x k x d
  double* sq;      // units x k
  double* weight;  // units x k
};

// Doubles of UnitBuffer::sums for a chunk of `rows` rows, or 0 when that would pass cap_bytes
// (then the sums are made without a buffer, one block per cluster walking every unit in turn).
int64_t unit_sums_buffer(int64_t rows, int64_t k, int64_t d, int64_t cap_bytes);

// Adds a chunk's rows to the running sums exactly as the CPU does (kernels/unit_sums.cuh): per
// unit of kUnitRows rows and cluster, in row order, then the units in order. The chunk starts at
// a unit of the whole data; its rows are grouped by group_by_unit_label (sorted_rows, seg_start,
// seg_count). dist: the rows' squared distances; w: per row of the chunk, or null (weight 1).
// With a buffer the units are made in parallel, then added; without, one block per cluster.
// Both give the same bits.
void launch_cluster_sums(const float* x, int64_t rows, int64_t d, int64_t k,
                         const int32_t* sorted_rows, const int32_t* seg_start,
                         const int32_t* seg_count, const float* dist, const double* w,
                         UnitBuffer buf, ClusterSumsView out, cudaStream_t stream);

// out[i] = bfloat16(in[i]) stored as raw 16-bit values.
void launch_to_bf16(const float* in, int64_t n, uint16_t* out, cudaStream_t stream);

// shift (d) = kern::gemm_shift of every column of the centres x (k x d): their mean, added in
// double, rounded to a grid of a sixteenth of their spread.
void launch_gemm_shift(const float* x, int64_t k, int64_t d, float* shift, cudaStream_t stream);

// out (n x d) = x - shift on every row, in float or as bfloat16 (raw 16-bit values). Reduced
// precision GEMMs run on rows and centres shifted by about the centres' mean (launch_gemm_shift):
// distances do not change, and the rounding of a dot product scales with the shifted norms, small
// where the data lie far from the origin.
void launch_shift_rows(const float* x, int64_t n, int64_t d, const float* shift, float* out,
                       cudaStream_t stream);
void launch_shift_rows_bf16(const float* x, int64_t n, int64_t d, const float* shift, uint16_t* out,
                            cudaStream_t stream);

// out (n x m) = max(0, x_norm[i] + y_norm[j] - 2 g[i*m + j]) in place on g.
void launch_expand_sq_dist(float* g, int64_t n, int64_t m, const float* x_norm,
                           const float* y_norm, cudaStream_t stream);

}  // namespace kern
}  // namespace embcluster
