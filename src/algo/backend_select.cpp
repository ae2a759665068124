#include "algo/backend_select.h"

#include <climits>
#include <cstdlib>

#include "cuda/cuda_backend.h"
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

BackendChoice make_kmeans_backend(const KMeansParams& params, int threads) {
  BackendChoice c;
  const int dev = parse_device(params.device);
  if (dev == -1) {
    c.backend = make_cpu_kmeans_backend(threads);
    return c;
  }
  const auto devices = cuda_devices();
  if (dev == -2) {
    if (devices.empty()) {
      c.note = cuda_built() ? "no CUDA device: using the CPU"
                            : "built without CUDA: using the CPU";
    } else {
      try {
        c.backend = make_cuda_kmeans_backend(params, 0);
        return c;
      } catch (const Error& e) {
        c.note = std::string("CUDA device unusable (") + e.what() + "): using the CPU";
      }
    }
    c.backend = make_cpu_kmeans_backend(threads);
    return c;
  }
  require(cuda_built(), "--device ", params.device,
          ": this build has no CUDA backend (configure with -DEMBCLUSTER_CUDA=ON)");
  require(dev < static_cast<int>(devices.size()), "--device ", params.device,
          ": no such CUDA device (", devices.size(), " found)");
  c.backend = make_cuda_kmeans_backend(params, dev);
  return c;
}

}  // namespace embcluster
