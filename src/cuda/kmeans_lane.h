#pragma once
// The CUDA K-means backend's per-stream working set: one chunk of rows in flight on one stream of
// the device's pool, with its device buffers and pinned staging buffers.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "cuda/cuda_resources.h"
#include "cuda/gpu_phases.h"
#include "cuda/gpu_resources.h"

namespace embcluster {

// Per-stream working set: one chunk of rows in flight, on stream `i` of the device's pool.
struct KMeansLane {
  KMeansLane(GpuResources& res, Workspace& ws, int i) : stream(res.stream(i)), blas(res.blas(i)) {
    ws.adopt(x, xs, g, best_v, dist, xb, labels, keys, keys_tmp, rows_tmp, sorted_rows, seg_count,
             seg_start, scratch, w, unit_sums, unit_sq, unit_w);
  }
  cudaStream_t stream;
  // One cuBLAS handle per stream: a handle shared by streams that run at the same time picks its
  // internal workspace per call, and cuBLAS then does not promise the same bits on every run.
  cublasHandle_t blas;
  Event accumulated;
  PhaseTimer timer;
  DeviceBuffer<float> x, g, best_v, dist;
  DeviceBuffer<float> xs;  // tf32: the chunk's rows shifted by the centres' mean
  DeviceBuffer<uint16_t> xb;
  DeviceBuffer<int32_t> labels, keys, keys_tmp, rows_tmp, sorted_rows, seg_count, seg_start;
  // The units' sums before they are added in order (empty: the sums are made without them).
  DeviceBuffer<double> unit_sums, unit_sq, unit_w;
  DeviceBuffer<char> scratch;
  DeviceBuffer<double> w;  // the chunk's row weights (with weights only)
  PinnedBuffer<double> host_w;
  PinnedBuffer<float> host_x, host_dist;
  PinnedBuffer<int32_t> host_labels;
  // Results waiting in host_labels/host_dist for the caller's arrays.
  int32_t* out_labels = nullptr;
  float* out_dist = nullptr;
  int64_t out_rows = 0;
};

}  // namespace embcluster
