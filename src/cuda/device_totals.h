#pragma once
// The per-cluster totals of K-means on the device (as ClusterTotals on the host), so that the
// pieces of a pass are combined along their fixed tree (core/piece_tree.h: PieceTree of these)
// where they were made, and only the few complete subtrees left cross to the host.
#include <cuda_runtime.h>

#include <cstdint>

#include "cuda/cuda_resources.h"
#include "kernels/kmeans_kernels.cuh"

namespace embcluster {

struct DeviceTotals {
  DeviceTotals() = default;
  DeviceTotals(Workspace& ws, int64_t k_, int64_t d_, cudaStream_t s) : k(k_), d(d_), stream(s) {
    ws.adopt(sums, counts, weight, sq_dist);
    sums.resize(static_cast<size_t>(k * d));
    counts.resize(static_cast<size_t>(k));
    weight.resize(static_cast<size_t>(k));
    sq_dist.resize(static_cast<size_t>(k));
  }
  DeviceTotals(DeviceTotals&&) = default;
  DeviceTotals& operator=(DeviceTotals&&) = default;
  // Work queued on `stream` may still read the buffers: it ends before they are freed.
  ~DeviceTotals() {
    if (stream && sums.get()) cudaStreamSynchronize(stream);
  }

  // Zeros, queued on `stream`.
  void zero() {
    EMB_CUDA(cudaMemsetAsync(sums.get(), 0, sums.bytes(), stream));
    EMB_CUDA(cudaMemsetAsync(counts.get(), 0, counts.bytes(), stream));
    EMB_CUDA(cudaMemsetAsync(weight.get(), 0, weight.bytes(), stream));
    EMB_CUDA(cudaMemsetAsync(sq_dist.get(), 0, sq_dist.bytes(), stream));
  }
  kern::ClusterSumsView view() const {
    return {sums.get(), counts.get(), weight.get(), sq_dist.get()};
  }
  // this += right, queued on `stream` (PieceTree's merge of two sibling subtrees).
  void add(const DeviceTotals& right) {
    kern::launch_add_totals(view(), right.view(), k, d, stream);
  }

  int64_t k = 0, d = 0;
  cudaStream_t stream = nullptr;
  DeviceBuffer<double> sums, weight, sq_dist;
  DeviceBuffer<long long> counts;
};

}  // namespace embcluster
