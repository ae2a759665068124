#pragma once
// Rows grouped by (unit, label) with CUB: a stable radix sort on the key unit x k + label (rows
// keep their order inside a segment) and the start of each segment. A unit is kUnitRows rows of
// the chunk (kernels/unit_sums.cuh); segment u x k + c holds the rows of cluster c in unit u.
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

namespace embcluster {
namespace kern {

// Segments of n rows: units(n) x k.
int64_t unit_segments(int64_t n, int64_t k);

// Bytes of scratch that group_by_unit_label needs for n rows and k clusters.
size_t group_by_unit_label_scratch(int64_t n, int64_t k);

// labels (n) -> sorted_rows (n: row indices ordered by segment, stable), seg_count and seg_start
// (unit_segments(n, k) each). keys, keys_tmp (n) and rows_tmp (n) are work arrays.
cudaError_t group_by_unit_label(const int32_t* labels, int64_t n, int64_t k, int32_t* keys,
                                int32_t* keys_tmp, int32_t* rows_tmp, int32_t* sorted_rows,
                                int32_t* seg_count, int32_t* seg_start, void* scratch,
                                size_t scratch_bytes, cudaStream_t stream);

}  // namespace kern
}  // namespace embcluster
