// The CUDA module's entry point: the table of the backend's functions that the library's loader
// (backend/cuda_loader.cpp) forwards to. The module is linked with -Bsymbolic-functions, so the
// addresses taken here are the module's own functions, never the loader's of the same names.
#include "backend/cuda_module.h"
#include "cuda/cuda_backend.h"
#include "cuda/cuda_dbscan.h"
#include "cuda/cuda_metrics.h"
#include "embcluster/device.h"

extern "C" __attribute__((visibility("default"))) const embcluster::CudaModuleTable*
embcluster_cuda_module() {
  using namespace embcluster;
  static const CudaModuleTable table = [] {
    CudaModuleTable t;
    t.abi = kCudaModuleAbi;
    t.version = EMBCLUSTER_VERSION;
    t.devices = &cuda_devices;
    t.self_test = &cuda_self_test;
    t.make_kmeans_backend = &make_cuda_kmeans_backend;
    t.make_cluster_sums = &make_cuda_cluster_sums;
    t.make_dbscan_passes = &make_cuda_dbscan_passes;
    t.make_covariance = &make_cuda_covariance;
    return t;
  }();
  return &table;
}
