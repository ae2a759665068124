#pragma once
// Chooses the K-means backend from --device: auto (a GPU when one is present), cpu, cuda[:N].
#include <memory>
#include <string>

#include "backend/kmeans_backend.h"
#include "embcluster/context.h"
#include "embcluster/error.h"
#include "embcluster/kmeans.h"

namespace embcluster {

struct BackendChoice {
  std::unique_ptr<KMeansBackend> backend;
  std::string note;  // one line for the user when auto fell back to the CPU, else empty
};

// The backend on ctx.device; threads: the CPU backend's threads (ctx's, resolved).
BackendChoice make_kmeans_backend(const KMeansParams& params, const ExecutionContext& ctx,
                                  int threads);

// The CUDA device that `device` names: N for cuda[:N]; for auto, when a device is present, the
// one with the most free memory (device 0 when that is unknown); -1 for the CPU (cpu, or auto
// without a device: *note then says "no CUDA device: <on_cpu>" or "built without CUDA: <on_cpu>").
// A cuda device that does not exist, or any cuda device in a build without CUDA, throws Error
// naming --device. local_rank >= 0 (a rank of a distributed run): auto and cuda without a number
// take device local_rank mod the devices, so that the ranks of a machine share its devices.
int choose_cuda_device(const DeviceChoice& device, const std::string& on_cpu, std::string* note,
                       int local_rank = -1);

// For a catch block around the work on the device choose_cuda_device chose: rethrows the error
// when `device` named a CUDA device, and for auto unless it is DeviceUnavailable or
// DeviceOutOfMemory (cuda/device_error.h: a fault on the device or a cancelled run is never
// hidden by a fall-back); for those two, returns the note of the fall-back to the CPU, "CUDA
// device unusable (<error>): <on_cpu>".
std::string auto_fallback_note(const DeviceChoice& device, const Error& e,
                               const std::string& on_cpu);

}  // namespace embcluster
