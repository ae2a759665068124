#pragma once
// Exact DBSCAN's count, union and border passes on a CUDA device (host side; no CUDA types).
//
// The rows are those of DbscanTiles (prepared and tiled on the host). Tile pairs are classified
// by their bounds on the device; the pairs that are not far apart (and that the pass needs) become
// 256 x 256 dot-product tiles of a batched cuBLAS SGEMM, read by the pass kernels. Per-row arrays
// (neighbour counts, core flags, the union-find, border attachments) stay on the device, O(rows);
// the rows themselves stay resident when they fit the device budget, and are otherwise streamed
// in pairs of chunks through pinned buffers. Decisions are those of the CPU passes, so the state
// they leave (counts, core flags, roots, border attachments) gives identical labels.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "algo/dbscan/dbscan_internal.h"
#include "backend/dbscan_passes.h"
#include "cpu/dbscan_cpu.h"

namespace embcluster {

class CudaDbscanPasses final : public DbscanPasses {
 public:
  // Prepares CUDA device `device` for the passes over rows into st. device_budget: bytes of
  // device memory (0 = 85% of the free memory; at most 90 %). Throws DeviceUnavailable when the
  // device cannot be used, DeviceOutOfMemory when the budget cannot hold the per-row arrays and
  // one pair of tiles (cuda/device_error.h).
  CudaDbscanPasses(DbscanTiles& rows, DbscanState& st, int device, int64_t device_budget,
                   int threads);
  ~CudaDbscanPasses() override;
  CudaDbscanPasses(const CudaDbscanPasses&) = delete;
  CudaDbscanPasses& operator=(const CudaDbscanPasses&) = delete;

  // Runs one pass over every pair of tiles. count fills st.count; union reads st.core and joins
  // st.uf (each core row with its root); border fills st.border. Passes run in that order (union
  // after the core flags are set; border after union).
  DBSCANPassStats run(DbscanPass pass, const PhaseProgress& progress) override;

  // "NVIDIA H100 80GB HBM3 (cuda:0)".
  std::string device_name() const override;
  // Figures of the run, as (name, integer) notes: device memory budget, chunk rows, chunks,
  // whether the rows were streamed.
  std::vector<std::pair<std::string, std::string>> notes() const override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The passes of exact DBSCAN on CUDA device `device` (CudaDbscanPasses; in a build without CUDA,
// an Error saying so). Arguments as CudaDbscanPasses's constructor.
std::unique_ptr<DbscanPasses> make_cuda_dbscan_passes(DbscanTiles& rows, DbscanState& st,
                                                      int device, int64_t device_budget,
                                                      int threads);

}  // namespace embcluster
