#include <cub/device/device_radix_sort.cuh>
#include <cub/device/device_scan.cuh>

#include "kernels/kmeans_kernels.cuh"
#include "kernels/launch.cuh"
#include "kernels/segments.cuh"
#include "kernels/unit_sums.cuh"

namespace embcluster {
namespace kern {
namespace {

int key_bits(int64_t segments) {
  int bits = 1;
  while ((int64_t(1) << bits) < segments) ++bits;
  return bits;
}

__global__ void unit_keys_kernel(const int32_t* labels, int64_t n, int64_t k, int32_t* keys) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i < n) keys[i] = static_cast<int32_t>((i / kUnitRows) * k + labels[i]);
}

}  // namespace

int64_t unit_segments(int64_t n, int64_t k) { return (n + kUnitRows - 1) / kUnitRows * k; }

size_t group_by_unit_label_scratch(int64_t n, int64_t k) {
  const int64_t segments = unit_segments(n, k);
  size_t sort_bytes = 0, scan_bytes = 0;
  cub::DeviceRadixSort::SortPairs(
      nullptr, sort_bytes, static_cast<const int32_t*>(nullptr), static_cast<int32_t*>(nullptr),
      static_cast<const int32_t*>(nullptr), static_cast<int32_t*>(nullptr), static_cast<int>(n), 0,
      key_bits(segments));
  cub::DeviceScan::ExclusiveSum(nullptr, scan_bytes, static_cast<const int32_t*>(nullptr),
                                static_cast<int32_t*>(nullptr), static_cast<int>(segments));
  return sort_bytes > scan_bytes ? sort_bytes : scan_bytes;
}

cudaError_t group_by_unit_label(const int32_t* labels, int64_t n, int64_t k, int32_t* keys,
                                int32_t* keys_tmp, int32_t* rows_tmp, int32_t* sorted_rows,
                                int32_t* seg_count, int32_t* seg_start, void* scratch,
                                size_t scratch_bytes, cudaStream_t stream) {
  const int64_t segments = unit_segments(n, k);
  unit_keys_kernel<<<blocks_for(n, 256), 256, 0, stream>>>(labels, n, k, keys);
  cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) return e;
  launch_iota(rows_tmp, n, stream);
  e = cub::DeviceRadixSort::SortPairs(scratch, scratch_bytes, keys, keys_tmp, rows_tmp, sorted_rows,
                                      static_cast<int>(n), 0, key_bits(segments), stream);
  if (e != cudaSuccess) return e;
  e = cudaMemsetAsync(seg_count, 0, sizeof(int32_t) * segments, stream);
  if (e != cudaSuccess) return e;
  launch_histogram(keys, n, seg_count, stream);
  return cub::DeviceScan::ExclusiveSum(scratch, scratch_bytes, seg_count, seg_start,
                                       static_cast<int>(segments), stream);
}

}  // namespace kern
}  // namespace embcluster
