#pragma once
// The arithmetic of K-means' cluster sums, shared by the CPU backend (cpu/unit_sums.h) and the
// CUDA kernels, so that both make the same bits and the CPU tests check what the GPU runs.
//
// Rows are summed per unit of kUnitRows rows at a fixed place of the whole data. Within a unit,
// the rows of one cluster are added in row order: without weights, kFloatRun rows at a time in
// float, each such short sum then added in double; with weights, weight x row in double by a
// fused multiply-add. The units of a piece (backend/kmeans_backend.h) are then added in unit order.
#include <cmath>
#include <cstdint>

#include "kernels/distance.cuh"

namespace embcluster {
namespace kern {

constexpr int64_t kUnitRows = 4096;  // rows of a unit (the CPU's kAssignGrain)
constexpr int kFloatRun = 8;         // rows added in float before the run goes into double

// a * b + c rounded once, on the host and on the device.
EMB_HD double fma_d(double a, double b, double c) {
#if defined(__CUDA_ARCH__)
  return __fma_rn(a, b, c);
#else
  return std::fma(a, b, c);
#endif
}

// Column j of the sum of rows[0..count) (indices into x, d columns, in row order) as a unit makes
// it; w: per row of x, or null for weight 1.
EMB_HD double unit_column_sum(const float* x, int64_t d, const int32_t* rows, int32_t count,
                              int64_t j, const double* w) {
  double s = 0.0;
  if (w) {
    for (int32_t r = 0; r < count; ++r) {
      const int64_t i = rows[r];
      s = fma_d(w[i], static_cast<double>(x[i * d + j]), s);
    }
    return s;
  }
  float run = 0.0f;
  int in_run = 0;
  for (int32_t r = 0; r < count; ++r) {
    run += x[static_cast<int64_t>(rows[r]) * d + j];
    if (++in_run == kFloatRun) {
      s += static_cast<double>(run);
      run = 0.0f;
      in_run = 0;
    }
  }
  if (in_run > 0) s += static_cast<double>(run);
  return s;
}

// The unit's sum of weight x squared distance, and of the weights, for the same rows.
EMB_HD void unit_sq_and_weight(const float* dist, const int32_t* rows, int32_t count,
                               const double* w, double* sq, double* weight) {
  double s = 0.0, ws = 0.0;
  for (int32_t r = 0; r < count; ++r) {
    const int64_t i = rows[r];
    if (w) {
      s = fma_d(w[i], static_cast<double>(dist[i]), s);
      ws += w[i];
    } else {
      s += static_cast<double>(dist[i]);
      ws += 1.0;
    }
  }
  *sq = s;
  *weight = ws;
}

}  // namespace kern
}  // namespace embcluster
