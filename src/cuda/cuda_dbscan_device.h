#pragma once
// The CUDA implementation of DBSCAN's passes (cuda_dbscan.cpp); make_cuda_dbscan_passes
// (module.cpp) hands it to the library behind the CudaDbscanPasses interface.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cuda/cuda_dbscan.h"

namespace embcluster {

class CudaDevicePasses final : public CudaDbscanPasses {
 public:
  CudaDevicePasses(DbscanTiles& rows, DbscanState& st, int device, int64_t budget, int threads);
  ~CudaDevicePasses() override;
  DBSCANPassStats run(DbscanPass pass, const PhaseProgress& progress) override;
  std::string device_name() const override;
  std::vector<std::pair<std::string, std::string>> notes() const override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace embcluster
