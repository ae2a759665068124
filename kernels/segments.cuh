#pragma once
// Rows grouped by label with CUB: a stable radix sort (rows keep their order inside a cluster)
// and the start of each cluster's segment.
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

namespace embcluster {
namespace kern {

// Bytes of scratch that group_by_label needs for n rows and k clusters.
size_t group_by_label_scratch(int64_t n, int64_t k);

// labels (n) -> sorted_rows (n: row indices ordered by label, stable), seg_count (k) and
// seg_start (k). labels_tmp (n) and rows_tmp (n) are work arrays.
cudaError_t group_by_label(const int32_t* labels, int64_t n, int64_t k, int32_t* labels_tmp,
                           int32_t* rows_tmp, int32_t* sorted_rows, int32_t* seg_count,
                           int32_t* seg_start, void* scratch, size_t scratch_bytes,
                           cudaStream_t stream);

}  // namespace kern
}  // namespace embcluster
