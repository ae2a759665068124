#pragma once
// The contract between the library and its CUDA module (libembcluster_cuda.so): one exported
// C function returns a table of the backend's entry points. The library loads the module with
// dlopen on first use (backend/cuda_loader.cpp), so a process that never uses a GPU never maps
// the CUDA runtime or cuBLAS. No CUDA types here.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "backend/covariance.h"
#include "cuda/cuda_backend.h"
#include "cuda/cuda_dbscan.h"
#include "cuda/cuda_metrics.h"
#include "embcluster/device.h"

namespace embcluster {

// Changes whenever the table or a type that crosses it changes; with the version string it
// keeps the library from using a module of another build.
constexpr int kCudaModuleAbi = 2;

struct CudaModuleTable {
  int abi = kCudaModuleAbi;
  const char* version = "";  // EMBCLUSTER_VERSION of the module's build
  std::vector<DeviceInfo> (*devices)() = nullptr;
  std::string (*self_test)(int device) = nullptr;
  std::unique_ptr<KMeansBackend> (*make_kmeans_backend)(const KMeansParams& params,
                                                        const ExecutionContext& ctx,
                                                        int device) = nullptr;
  std::unique_ptr<DeviceClusterSums> (*make_cluster_sums)(int device, TileMetric metric, int64_t k,
                                                          int64_t d,
                                                          int64_t device_budget) = nullptr;
  std::unique_ptr<DbscanPasses> (*make_dbscan_passes)(DbscanTiles& rows, DbscanState& st,
                                                      int device, int64_t device_budget,
                                                      int threads) = nullptr;
  std::unique_ptr<CovarianceBackend> (*make_covariance)(int device,
                                                        const std::vector<double>& shift,
                                                        int64_t device_budget) = nullptr;
};

}  // namespace embcluster

// The module's one exported symbol.
#define EMBCLUSTER_CUDA_MODULE_ENTRY "embcluster_cuda_module"
extern "C" const embcluster::CudaModuleTable* embcluster_cuda_module();
