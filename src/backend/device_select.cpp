#include "backend/device_select.h"

#include <climits>
#include <cstdlib>
#include <vector>

#include "cuda/cuda_backend.h"
#include "cuda/device_error.h"
#include "embcluster/device.h"
#include "embcluster/error.h"

namespace embcluster {

int parse_device(const std::string& device) {
  if (device == "auto") return -2;
  if (device == "cpu") return -1;
  if (device == "cuda") return 0;
  if (device.rfind("cuda:", 0) == 0) {
    const std::string num = device.substr(5);
    char* end = nullptr;
    const long v = std::strtol(num.c_str(), &end, 10);
    if (!num.empty() && *end == '\0' && v >= 0 && v <= INT_MAX) return static_cast<int>(v);
  }
  throw_error("--device '", device, "' must be auto, cpu, cuda or cuda:N");
}

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

int choose_cuda_device(const std::string& device, const std::string& on_cpu, std::string* note) {
  const int dev = parse_device(device);
  if (dev == -1) return -1;
  const auto devices = cuda_devices();
  if (dev == -2) {
    if (!devices.empty()) return most_free_device(devices);
    *note = (cuda_built() ? "no CUDA device: " : "built without CUDA: ") + on_cpu;
    return -1;
  }
  require(cuda_built(), "--device ", device,
          ": this build has no CUDA backend (configure with -DEMBCLUSTER_CUDA=ON)");
  require(dev < static_cast<int>(devices.size()), "--device ", device, ": no such CUDA device (",
          devices.size(), " found)");
  return dev;
}

std::string auto_fallback_note(const std::string& device, const Error& e,
                               const std::string& on_cpu) {
  if (parse_device(device) != -2) throw;  // cuda[:N] asked for: the user's error
  // Only a device that cannot be used or runs out of memory sends auto to the CPU; a fault on the
  // device (CudaError), a broken invariant or bad input propagates.
  if (!dynamic_cast<const DeviceUnavailable*>(&e) && !dynamic_cast<const DeviceOutOfMemory*>(&e))
    throw;
  return std::string("CUDA device unusable (") + e.what() + "): " + on_cpu;
}

BackendChoice make_kmeans_backend(const KMeansParams& params, int threads) {
  BackendChoice c;
  const int dev = choose_cuda_device(params.device, "using the CPU", &c.note);
  if (dev >= 0) {
    try {
      c.backend = make_cuda_kmeans_backend(params, dev);
      return c;
    } catch (const Error& e) {
      c.note = auto_fallback_note(params.device, e, "using the CPU");
    }
  }
  c.backend = make_cpu_kmeans_backend(threads);
  return c;
}

}  // namespace embcluster
