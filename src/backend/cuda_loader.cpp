#include "backend/cuda_loader.h"

#include <dlfcn.h>
#include <sys/stat.h>

#include <atomic>
#include <cstdlib>
#include <cstring>

#include "backend/cuda_module.h"
#include "cuda/cuda_backend.h"
#include "cuda/cuda_dbscan.h"
#include "cuda/cuda_metrics.h"
#include "cuda/device_error.h"
#include "embcluster/device.h"
#include "embcluster/error.h"

namespace embcluster {
namespace {

constexpr const char* kModuleFile = "libembcluster_cuda.so";
constexpr const char* kNotBuilt = "this build has no CUDA backend";

bool is_file(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string dir_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

// CUDA devices the driver reports, asked through the driver library itself: neither the CUDA
// runtime nor cuBLAS is mapped and no context is created. 0 (and *why) without a driver or device.
int driver_device_count(std::string* why) {
  void* driver = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!driver) {
    *why = "no CUDA driver";
    return 0;
  }
  using InitFn = int (*)(unsigned);
  using CountFn = int (*)(int*);
  auto init = reinterpret_cast<InitFn>(dlsym(driver, "cuInit"));
  auto count_fn = reinterpret_cast<CountFn>(dlsym(driver, "cuDeviceGetCount"));
  if (!init || !count_fn || init(0) != 0) {
    *why = "the CUDA driver reports no device";
    dlclose(driver);  // not initialised: nothing of it runs
    return 0;
  }
  int count = 0;  // the driver stays open: the runtime uses it next
  if (count_fn(&count) != 0 || count <= 0) {
    *why = "the CUDA driver reports no device";
    return 0;
  }
  return count;
}

CudaModuleStatus open_module(const CudaModuleTable** table) {
  CudaModuleStatus s;
  s.path = find_cuda_module();
  if (s.path.empty()) {
    s.detail = kNotBuilt;
    return s;
  }
  if (driver_device_count(&s.detail) == 0) {
    s.state = CudaModuleState::no_device;
    return s;
  }
  s.state = CudaModuleState::failed;
  // Never closed: backends made by the module may live until the process ends.
  void* module = dlopen(s.path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!module) {
    s.detail = dlerror();
    return s;
  }
  using EntryFn = const CudaModuleTable* (*)();
  auto entry = reinterpret_cast<EntryFn>(dlsym(module, EMBCLUSTER_CUDA_MODULE_ENTRY));
  const CudaModuleTable* t = entry ? entry() : nullptr;
  if (!t || t->abi != kCudaModuleAbi || std::strcmp(t->version, EMBCLUSTER_VERSION) != 0) {
    s.detail = s.path + " is not the CUDA module of this build (embcluster " EMBCLUSTER_VERSION ")";
    return s;
  }
  *table = t;
  s.state = CudaModuleState::loaded;
  s.detail.clear();
  return s;
}

struct Loaded {
  const CudaModuleTable* table = nullptr;
  CudaModuleStatus status;
};

std::atomic<bool> looked_up{false};

const Loaded& loaded() {
  static const Loaded once = [] {
    Loaded l;
    l.status = open_module(&l.table);
    looked_up = true;
    return l;
  }();
  return once;
}

// The table, or DeviceUnavailable naming --device that says why there is none.
const CudaModuleTable& table_or_throw() {
  const Loaded& l = loaded();
  if (l.table) return *l.table;
  switch (l.status.state) {
    case CudaModuleState::no_device:
      throw DeviceUnavailable("--device: no CUDA device (" + l.status.detail + ")");
    case CudaModuleState::failed:
      throw DeviceUnavailable("--device: the CUDA backend could not be loaded: " + l.status.detail);
    default:
      throw DeviceUnavailable(std::string("--device: ") + kNotBuilt +
                              " (configure with -DEMBCLUSTER_CUDA=ON)");
  }
}

}  // namespace

std::string find_cuda_module() {
  if (const char* env = std::getenv("EMBCLUSTER_CUDA_MODULE"); env && *env)
    return is_file(env) ? env : "";
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&find_cuda_module), &info) && info.dli_fname) {
    const std::string beside = dir_of(info.dli_fname) + "/" + kModuleFile;
    if (is_file(beside)) return beside;
  }
#ifdef EMBCLUSTER_INSTALL_LIBDIR
  const std::string installed = std::string(EMBCLUSTER_INSTALL_LIBDIR) + "/" + kModuleFile;
  if (is_file(installed)) return installed;
#endif
  return "";
}

const CudaModuleStatus& cuda_module_status() { return loaded().status; }

bool cuda_module_looked_up() { return looked_up; }

bool cuda_built() {
  const auto state = cuda_module_status().state;
  return state == CudaModuleState::loaded || state == CudaModuleState::no_device;
}

std::vector<DeviceInfo> cuda_devices() {
  const Loaded& l = loaded();
  return l.table ? l.table->devices() : std::vector<DeviceInfo>{};
}

std::string cuda_self_test(int device) {
  const Loaded& l = loaded();
  if (l.table) return l.table->self_test(device);
  return l.status.state == CudaModuleState::absent ? kNotBuilt : l.status.detail;
}

std::unique_ptr<KMeansBackend> make_cuda_kmeans_backend(const KMeansParams& params,
                                                        const ExecutionContext& ctx, int device) {
  return table_or_throw().make_kmeans_backend(params, ctx, device);
}

std::unique_ptr<DeviceClusterSums> make_cuda_cluster_sums(int device, TileMetric metric, int64_t k,
                                                          int64_t d, int64_t device_budget) {
  return table_or_throw().make_cluster_sums(device, metric, k, d, device_budget);
}

std::unique_ptr<DbscanPasses> make_cuda_dbscan_passes(DbscanTiles& rows, DbscanState& st,
                                                      int device, int64_t budget, int threads) {
  return table_or_throw().make_dbscan_passes(rows, st, device, budget, threads);
}

std::unique_ptr<CovarianceBackend> make_cuda_covariance(int device,
                                                        const std::vector<double>& shift,
                                                        int64_t device_budget) {
  return table_or_throw().make_covariance(device, shift, device_budget);
}

}  // namespace embcluster
