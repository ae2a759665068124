#pragma once
// The passes of DBSCAN behind one interface, whatever finds the pairs of rows within eps: GEMM
// tiles on the CPU (cpu/dbscan_cpu.h), a batched SGEMM on a CUDA device (cuda/cuda_dbscan.h) or a
// FAISS index (algo/dbscan/dbscan_faiss.h). The driver (algo/dbscan/dbscan.cpp) chooses one and
// runs count, union and border through it; what each pass does with a pair is written once in
// kernels/dbscan_rules.cuh.
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "embcluster/dbscan.h"

namespace embcluster {

enum class DbscanPass { count, union_core, border };

// "count", "union", "border": the pass's name in reports and progress.
inline const char* dbscan_pass_name(DbscanPass p) {
  return p == DbscanPass::count ? "count" : p == DbscanPass::union_core ? "union" : "border";
}

// Reports progress of a phase as a fraction.
using PhaseProgress = std::function<void(const std::string& phase, double fraction)>;

class DbscanPasses {
 public:
  virtual ~DbscanPasses() = default;

  // Runs one pass over every pair of rows within eps, into the state the implementation was made
  // with (algo/dbscan/dbscan_state.h). count: st.count, each row counted once among its own
  // neighbours; union (core flags set): joins st.uf; border (union-find flattened): st.border.
  // Passes run in that order. Implementations without tiles return stats with an empty pass name
  // (the driver reports only tile passes).
  virtual DBSCANPassStats run(DbscanPass pass, const PhaseProgress& progress) = 0;

  // Where the passes ran, for the report: "cpu (8 threads)", "NVIDIA H100 80GB HBM3 (cuda:0)".
  virtual std::string device_name() const = 0;

  // Figures of the run for the report, as (name, value) notes.
  virtual std::vector<std::pair<std::string, std::string>> notes() const { return {}; }
};

}  // namespace embcluster
