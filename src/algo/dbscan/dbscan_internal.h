#pragma once
// Pieces of DBSCAN shared between the driver (dbscan.cpp), the FAISS passes (dbscan_faiss.cpp),
// the sampled check (dbscan_check.cpp) and the k-distance curve (kdist.cpp).
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "algo/dbscan/dbscan_state.h"
#include "algo/spatial/dbscan_tiles.h"
#include "backend/dbscan_passes.h"
#include "embcluster/dbscan.h"

namespace embcluster {

inline double dbscan_now_s() {
  using clock = std::chrono::steady_clock;
  return std::chrono::duration<double>(clock::now().time_since_epoch()).count();
}

// The squared distance, in prepared rows, that distances are compared with: eps^2 for
// euclidean, 2 eps for cosine (1 - cos(a, b) = ||a - b||^2 / 2 for unit rows).
float dbscan_eps2(double eps, Metric metric);

// Whether this build has FAISS (the flat, ivf and hnsw indexes); without it the FAISS path
// (dbscan_faiss.h) is not built and only the exact index runs.
#ifdef EMBCLUSTER_HAVE_FAISS
constexpr bool kHaveFaiss = true;
#else
constexpr bool kHaveFaiss = false;
#endif

// Exact neighbourhoods of the sampled rows (prepared, source rows ascending) against every row,
// compared with the approximate result in res (labels and core flags).
DBSCANCheck dbscan_check(Source& source, const RowPrep& prep, const std::vector<int64_t>& rows,
                         const std::vector<float>& x, const DBSCANResult& res, float eps2,
                         int64_t min_samples, int threads, int64_t budget,
                         const PhaseProgress& progress);

}  // namespace embcluster
