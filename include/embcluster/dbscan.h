#pragma once
// DBSCAN over a Source, and the k-distance curve that helps to choose its eps.
//
// Exact DBSCAN keeps no neighbour lists. Rows are arranged in spatially coherent tiles; three
// passes over pairs of tiles (GEMM distance tiles, pairs that cannot hold a neighbour skipped by
// tile bounds) count neighbours (core points), join core points within eps (a concurrent
// union-find) and attach border points. Memory is O(rows) plus the data blocks: data larger than
// the memory budget is streamed in pairs of row blocks. The passes run on the CPU (OpenMP, BLAS)
// or on a CUDA device (cuBLAS tiles, a lock-free union-find on the device; data larger than the
// device budget is streamed in pairs of row chunks), with identical results. Approximate
// neighbourhoods can come from FAISS indexes instead (same passes, neighbours from the index, on
// the CPU).
//
// The result equals scikit-learn's DBSCAN for the same data, eps and min_samples, border points
// included:
// - clusters are numbered in the order of their lowest core row (scikit-learn starts a cluster at
//   each unvisited core point, in row order);
// - a border point (non-core, with a core point within eps) joins the cluster with the lowest
//   number among the clusters of its core neighbours (scikit-learn expands clusters one after
//   another, so the first cluster to reach a border point keeps it);
// - noise is -1.
// Each pair is decided by its squared distance summed directly in float (the GEMM tiles give the
// same answer except within their rounding of eps, and those pairs are recomputed directly), so
// the result does not depend on the thread count, the memory budget, streaming or an offset in
// the data. Only pairs within float rounding of eps may be decided otherwise than scikit-learn's
// float64 arithmetic decides them.
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "embcluster/communicator.h"
#include "embcluster/context.h"
#include "embcluster/enums.h"
#include "embcluster/source.h"

namespace embcluster {

struct DBSCANParams {
  // Neighbourhood radius (scikit-learn eps), > 0: euclidean distance, or for metric Cosine the
  // cosine distance 1 - cos(a, b).
  double eps = 0.5;
  // A row is a core point when at least min_samples rows lie within eps, the row itself included
  // (scikit-learn's meaning; 1 makes every row core). >= 1.
  int64_t min_samples = 5;
  // Euclidean, or Cosine: rows are L2-normalised as they are read and
  // 1 - cos(a, b) = ||a - b||^2 / 2 is used. Zero rows stay zero: at cosine distance 1/2 from
  // every other row (scikit-learn says 1) and 0 from each other.
  Metric metric = Metric::Euclidean;
  // Where neighbourhoods come from:
  //   Exact GEMM distance tiles over pairs of row blocks; exact, streamed under the memory budget.
  //   Flat  FAISS IndexFlatL2 range search: exact as well; the index holds every row in memory.
  //   Ivf   FAISS IndexIVFFlat range search in nprobe of nlist cells: approximate (misses
  //         neighbours in cells not searched), deterministic.
  //   Hnsw  FAISS IndexHNSWFlat k-NN search, results kept within eps: approximate. The graph
  //         is built on all threads, so results may vary slightly from run to run.
  // The FAISS indexes keep every row (and their own structures) in memory: they must fit in the
  // context's memory budget. Only Exact runs on a CUDA device (ExecutionContext::device); the
  // FAISS indexes always run on the CPU.
  DBSCANIndex index = DBSCANIndex::Exact;
  // ivf: number of cells. 0 = auto: about sqrt(rows), at most rows / 39 (FAISS wants 39 training
  // rows per cell). Training uses a uniform sample of min(rows, 64 * nlist) rows.
  int64_t nlist = 0;
  // ivf: cells searched per query. 0 = auto: min(8, nlist).
  int64_t nprobe = 0;
  // hnsw: links per node (FAISS M).
  int hnsw_m = 32;
  // hnsw: beam width while building the graph (FAISS efConstruction).
  int ef_construction = 40;
  // hnsw: beam width of searches (FAISS efSearch). 0 = auto: max(64, hnsw_k).
  int ef_search = 0;
  // hnsw: neighbours retrieved per core row when joining core points (k of the k-NN search; those
  // within eps are used). Counting core points asks for min_samples neighbours, attaching border
  // points too. 0 = auto: max(32, 2 * min_samples).
  int64_t hnsw_k = 0;
  // FAISS indexes: rows of a uniform sample whose exact neighbourhoods (GEMM tiles against every
  // row) are compared with the index's result (DBSCANCheck). 0 = no check.
  int64_t check_sample = 1000;
  // Seed of the check sample and of the ivf training sample and k-means.
  uint64_t seed = 0;
};
// The context's memory budget holds the data blocks (and FAISS indexes): data that fits is read
// once; larger data is streamed in pairs of blocks on every pass. With device auto the exact
// passes run on a CUDA device when one is present, else on the CPU (with a "device_note" in the
// result's notes); the result is the same on either. Data that fits the device budget stays on the
// device for every pass; larger data is streamed in pairs of chunks.

// How an approximate result compares with exact neighbourhoods on a uniform sample of rows.
// The FAISS indexes only ever miss neighbours, so approximate core points are exact core points
// and approximate clusters can only be pieces of exact clusters (border points aside).
struct DBSCANCheck {
  int64_t sample_rows = 0;
  int64_t exact_core = 0;     // sampled rows that are core points with exact neighbourhoods
  int64_t approx_core = 0;    // sampled rows the index made core points
  int64_t core_found = 0;     // sampled rows core in both
  double core_recall = 1;     // core_found / exact_core
  double core_precision = 1;  // core_found / approx_core
  // Sampled exact core rows that the approximate result puts in another cluster than a core
  // neighbour within eps, or leaves out of every cluster: rows whose cluster was split.
  int64_t split_rows = 0;
  // Approximate clusters that exact neighbourhoods seen from the sample join to another one: a
  // lower bound on the number of clusters the index split.
  int64_t clusters_merged = 0;
  double seconds = 0;
};

// Work done by the tile passes of exact DBSCAN.
struct DBSCANPassStats {
  std::string pass;              // "count", "union", "border"
  int64_t tile_pairs = 0;        // pairs of tiles in the pass
  int64_t far = 0;               // skipped: tile bounds further apart than eps
  int64_t near = 0;              // every pair within eps by the bounds: no distances computed
  int64_t settled = 0;           // skipped: nothing left to learn (all counted, joined or attached)
  int64_t gemm = 0;              // distance tiles computed
  int64_t block_pairs_read = 0;  // pairs of row blocks visited (streamed data)
};

struct DBSCANResult {
  std::vector<int32_t> labels;  // one per row: cluster 0..n_clusters-1, noise -1
  std::vector<uint8_t> core;    // one per row: 1 for core points
  int64_t n_clusters = 0;
  int64_t n_noise = 0;
  int64_t n_core = 0;
  std::vector<int64_t> cluster_sizes;  // rows per cluster, border points included
  int64_t rows = 0;
  int64_t dims = 0;
  DBSCANIndex index = DBSCANIndex::Exact;  // as requested
  std::string device;  // "cpu (2 threads)", "NVIDIA H100 80GB HBM3 (cuda:0)"
  bool streamed = false;
  int64_t block_rows = 0;
  int64_t blocks = 0;
  int64_t tiles = 0;
  std::vector<DBSCANPassStats> passes;  // exact index only
  bool checked = false;                 // FAISS indexes with check_sample > 0
  DBSCANCheck check;
  // Seconds per phase: "prepare" (mean, tiles), "count", "union", "border", "labels", "total";
  // FAISS adds "index_train", "index_add"; "check" when checked.
  std::vector<std::pair<std::string, double>> timings;
  // Figures of the run: FAISS parameters chosen ("nlist", ...), "index_bytes", and "device_note"
  // when the device asked for was not used.
  std::vector<std::pair<std::string, std::string>> notes;
};

// Progress within a phase ("prepare", "count", "union", "border", "index", "check").
struct DBSCANProgress {
  std::string phase;     // "device" (once, first), then the phases of the index
  double fraction = 0;   // of the phase, 0..1
  double elapsed_s = 0;  // since the run started
  std::string note;      // "device": why the run is on the CPU although --device asked otherwise
};
using DBSCANCallback = std::function<void(const DBSCANProgress&)>;

// Throws Error naming the parameter when params are invalid (eps <= 0 or not finite,
// min_samples < 1, ...). source (optional) checks sizes against rows.
void check_dbscan_params(const DBSCANParams& params, const Source* source = nullptr);

// Clusters every row of source. Throws Error for bad parameters or context, unreadable data (NaN
// rows included) or a cancelled context, before any result exists.
DBSCANResult dbscan(Source& source, const DBSCANParams& params, const ExecutionContext& ctx = {},
                    const DBSCANCallback& progress = nullptr);

struct KDistParams {
  // Neighbour whose distance is taken, counting the row itself as the first (distance 0), as
  // DBSCAN's min_samples does: a row is a core point exactly when its k-distance with
  // k = min_samples is <= eps. >= 1 and at most rows.
  int64_t k = 5;
  // Rows whose k-distance is computed (each against every row). 0 or >= rows: every row.
  int64_t sample = 10000;
  uint64_t seed = 0;
  Metric metric = Metric::Euclidean;  // as DBSCANParams::metric; distances reported in its units
};

struct KDistResult {
  std::vector<float> kdist;   // sorted ascending
  std::vector<int64_t> rows;  // the row of each kdist value
  // (q, value) for q = 0, 0.1, 0.5, 0.9, 0.99, 1 (linear interpolation, as numpy.quantile).
  std::vector<std::pair<double, double>> quantiles;
  // The knee of the sorted curve: the point farthest below the chord from its first to its last
  // point, both axes scaled to [0, 1], moved on to the first non-zero distance when it falls on
  // zeros (duplicate rows; DBSCAN needs eps > 0). suggested_eps = kdist[knee]: 0 only when every
  // distance is 0.
  int64_t knee = 0;
  double suggested_eps = 0;
  int64_t rows_total = 0;
  int64_t dims = 0;
  std::vector<std::pair<std::string, double>> timings;
  // A distributed run (ExecutionContext::comm of several ranks): every rank's slab and time; the
  // result is the same on every rank.
  std::vector<RankReport> ranks;
};

// On the CPU with ctx's threads; the sample's rows and distances must fit ctx's memory budget.
// With a communicator of several ranks, each rank measures every sampled row against its slab
// of rows and the ranks' k nearest are merged: the same curve as one process's.
KDistResult kdist(Source& source, const KDistParams& params, const ExecutionContext& ctx = {},
                  const DBSCANCallback& progress = nullptr);

}  // namespace embcluster
