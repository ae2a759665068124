#pragma once
// Host-side entry points of the CUDA backend (no CUDA types here).
#include <memory>

#include "backend/kmeans_backend.h"
#include "embcluster/context.h"
#include "embcluster/kmeans.h"

namespace embcluster {

// A K-means backend on CUDA device `device` with params.precision and ctx's device memory budget
// (capped at 90 % of the free memory; 0 = 85 %). Throws DeviceUnavailable (cuda/device_error.h)
// when the device cannot be used; faults on the device later throw CudaError.
std::unique_ptr<KMeansBackend> make_cuda_kmeans_backend(const KMeansParams& params,
                                                        const ExecutionContext& ctx, int device);

}  // namespace embcluster
