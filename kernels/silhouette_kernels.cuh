#pragma once
// Launchers of the silhouette kernels (device pointers, asynchronous on `stream`). Each kernel
// turns a GEMM tile of dot products into distances (silhouette_math.cuh) and reduces them at once
// into per-cluster sums in double; the tile is never stored as distances.
//
// A tile g is row-major, rows x m: g[i * m + j] = q_i . c_j for query rows q (tile rows) and
// column rows c (tile columns). Column rows are grouped by cluster: the rows of cluster c are the
// positions [cluster_start[c], cluster_start[c + 1]) of the column set; the tile covers the
// positions [j0, j0 + m).
#include <cuda_runtime.h>

#include <cstdint>

namespace embcluster {
namespace kern {

// sums[i * k + c] += sum over the tile columns j of cluster c of dist(q_i, c_j), for clusters
// c_first..c_last (the clusters the tile's columns belong to). One warp per row, columns summed
// in a fixed order, so the result does not vary from run to run. self_col (may be null): per
// tile row, the position of the row itself among the columns (its distance is 0), or -1.
void launch_row_cluster_sums(const float* g, int64_t rows, int64_t m, const float* q_norms,
                             const float* c_norms, const int64_t* cluster_start, int32_t c_first,
                             int32_t c_last, int64_t j0, const int64_t* self_col, bool euclidean,
                             double* sums, int64_t k, cudaStream_t stream);

// The column side of a tile whose rows are grouped by cluster too: the rows are cut into pieces
// (piece p = tile rows [piece_start[p], piece_start[p + 1]), inside one cluster) and
// partial[p * m + j] = sum over the rows of piece p of dist(q_r, c_j).
void launch_column_piece_sums(const float* g, int64_t m, const float* q_norms,
                              const float* c_norms, const int32_t* piece_start, int32_t pieces,
                              bool euclidean, double* partial, cudaStream_t stream);

// sums[j * k + seg_cluster[s]] += the pieces [seg_piece[s], seg_piece[s + 1]) of column j, added
// in piece order, for every segment s < segments and tile column j < m.
void launch_column_combine(const double* partial, int64_t m, const int32_t* seg_piece,
                           const int32_t* seg_cluster, int32_t segments, double* sums, int64_t k,
                           cudaStream_t stream);

// out[i] = value for i < n.
void launch_fill(float* out, int64_t n, float value, cudaStream_t stream);

// out[i] = i for i < n.
void launch_iota64(int64_t* out, int64_t n, cudaStream_t stream);

}  // namespace kern
}  // namespace embcluster
