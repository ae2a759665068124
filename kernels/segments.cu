#include <cub/device/device_radix_sort.cuh>
#include <cub/device/device_scan.cuh>

#include "kernels/kmeans_kernels.cuh"
#include "kernels/segments.cuh"

namespace embcluster {
namespace kern {
namespace {
int key_bits(int64_t k) {
  int bits = 1;
  while ((int64_t(1) << bits) < k) ++bits;
  return bits;
}
}  // namespace

size_t group_by_label_scratch(int64_t n, int64_t k) {
  size_t sort_bytes = 0, scan_bytes = 0;
  cub::DeviceRadixSort::SortPairs(nullptr, sort_bytes, static_cast<const int32_t*>(nullptr),
                                  static_cast<int32_t*>(nullptr), static_cast<const int32_t*>(nullptr),
                                  static_cast<int32_t*>(nullptr), static_cast<int>(n), 0,
                                  key_bits(k));
  cub::DeviceScan::ExclusiveSum(nullptr, scan_bytes, static_cast<const int32_t*>(nullptr),
                                static_cast<int32_t*>(nullptr), static_cast<int>(k));
  return sort_bytes > scan_bytes ? sort_bytes : scan_bytes;
}

cudaError_t group_by_label(const int32_t* labels, int64_t n, int64_t k, int32_t* labels_tmp,
                           int32_t* rows_tmp, int32_t* sorted_rows, int32_t* seg_count,
                           int32_t* seg_start, void* scratch, size_t scratch_bytes,
                           cudaStream_t stream) {
  launch_iota(rows_tmp, n, stream);
  cudaError_t e = cub::DeviceRadixSort::SortPairs(scratch, scratch_bytes, labels, labels_tmp,
                                                  rows_tmp, sorted_rows, static_cast<int>(n), 0,
                                                  key_bits(k), stream);
  if (e != cudaSuccess) return e;
  e = cudaMemsetAsync(seg_count, 0, sizeof(int32_t) * k, stream);
  if (e != cudaSuccess) return e;
  launch_histogram(labels, n, seg_count, stream);
  return cub::DeviceScan::ExclusiveSum(scratch, scratch_bytes, seg_count, seg_start,
                                       static_cast<int>(k), stream);
}

}  // namespace kern
}  // namespace embcluster
