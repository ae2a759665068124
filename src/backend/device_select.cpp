#include "backend/device_select.h"

#include <vector>

#include "core/distributed.h"
#include "cuda/cuda_backend.h"
#include "cuda/device_error.h"
#include "embcluster/device.h"
#include "embcluster/error.h"

namespace embcluster {

namespace {
// The device with the most free memory; the lowest index among equals (device 0 when the free
// memory is unknown).
int most_free_device(const std::vector<DeviceInfo>& devices) {
  size_t best = 0;
  for (size_t i = 1; i < devices.size(); ++i)
    if (devices[i].free_bytes > devices[best].free_bytes) best = i;
  return devices[best].index;
}
}  // namespace

int choose_cuda_device(const DeviceChoice& device, const std::string& on_cpu, std::string* note,
                       int local_rank) {
  if (device.kind == DeviceKind::Cpu) return -1;
  const auto devices = cuda_devices();
  // Ranks of one machine take its devices in turn (auto, or cuda without a number).
  if (local_rank >= 0 && device.index < 0 && !devices.empty())
    return devices[static_cast<size_t>(local_rank) % devices.size()].index;
  if (device.kind == DeviceKind::Auto) {
    if (!devices.empty()) return most_free_device(devices);
    *note = (cuda_built() ? "no CUDA device: " : "built without CUDA: ") + on_cpu;
    return -1;
  }
  const int dev = device.cuda_device();
  require(cuda_built(), "--device ", to_string(device),
          ": this build has no CUDA backend (configure with -DEMBCLUSTER_CUDA=ON)");
  require(dev < static_cast<int>(devices.size()), "--device ", to_string(device),
          ": no such CUDA device (", devices.size(), " found)");
  return dev;
}

std::string auto_fallback_note(const DeviceChoice& device, const Error& e,
                               const std::string& on_cpu) {
  if (device.kind != DeviceKind::Auto) throw;  // cuda[:N] asked for: the user's error
  // Only a device that cannot be used or runs out of memory sends auto to the CPU; a fault on the
  // device (CudaError), a cancelled run, a broken invariant or bad input propagates.
  if (!dynamic_cast<const DeviceUnavailable*>(&e) && !dynamic_cast<const DeviceOutOfMemory*>(&e))
    throw;
  return std::string("CUDA device unusable (") + e.what() + "): " + on_cpu;
}

BackendChoice make_kmeans_backend(const KMeansParams& params, const ExecutionContext& ctx,
                                  int threads) {
  BackendChoice c;
  const Communicator* comm = ranks_of(ctx);
  const int dev =
      choose_cuda_device(ctx.device, "using the CPU", &c.note, comm ? comm->local_rank() : -1);
  if (dev >= 0) {
    try {
      c.backend = make_cuda_kmeans_backend(params, ctx, dev);
      return c;
    } catch (const Error& e) {
      c.note = auto_fallback_note(ctx.device, e, "using the CPU");
    }
  }
  c.backend = make_cpu_kmeans_backend(threads);
  return c;
}

}  // namespace embcluster
