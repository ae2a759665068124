#pragma once
// The silhouette's helpers on the CPU besides the cluster sums backend (backend/cluster_sums.h,
// make_cpu_cluster_sums): the one normalisation of cosine, the dot products of the cosine
// shortcut and the simplified silhouette's distances to the centroids.
#include <cstdint>

#include "backend/cluster_sums.h"

namespace embcluster {

// Rows per tile of the CPU backend: the rows of a set are grouped by cluster within spans of
// kSilTileRows rows, so that its tiles are the same whatever block a range is read in (results
// do not depend on the memory budget); query tiles are cut into GEMM tiles of kSilQueryRows rows.
constexpr int64_t kSilTileRows = 1024;
constexpr int64_t kSilQueryRows = 256;

// dst = src / ||src|| (norm in double); a zero row stays zero. The one normalisation of cosine.
void unit_row(const float* src, int64_t d, float* dst);
// unit_row for the n rows of src (n x d) into dst, OpenMP over rows.
void unit_rows(const float* src, int64_t n, int64_t d, float* dst, int threads);

// out (n x k) = x (n x d, float) . s^T (s: k x d, double), in double, for the cosine shortcut.
void dot_rows_double(const float* x, int64_t n, int64_t d, const double* s, int64_t k, double* out,
                     int threads);

// Simplified silhouette's distances: for each of the n rows of x (n x d), a[i] = distance to the
// centroid own[i] and b[i] = distance to the nearest other centroid (centroids: k x d; for
// cosine they and the rows must be unit length or zero). GEMM tiles, float.
void own_and_nearest_other(const float* x, int64_t n, int64_t d, const float* centroids, int64_t k,
                           const int32_t* own, TileMetric metric, float* a, float* b, int threads);

}  // namespace embcluster
