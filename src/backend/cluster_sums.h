#pragma once
// The silhouette's backend primitive: for query rows and a set of column rows grouped by
// cluster, the sum of the distances from every query row to the column rows of each cluster,
// |queries| x k, in double. The |queries| x |columns| distances exist one tile at a time and are
// reduced at once; never n x n. The CPU (cpu/cluster_distance_sums.h) and CUDA
// (cuda/cuda_metrics.h) implement it; the driver (algo/metrics/silhouette_run.h) is written once.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace embcluster {

enum class TileMetric {
  euclidean,  // sqrt(||a - b||^2)
  cosine,     // 1 - a.b on unit rows (= ||a - b||^2 / 2), clipped to [0, 2] as scikit-learn
};

// Rows handed to a backend: count x d, row-major, as the distances see them (unit rows for
// cosine), grouped by cluster inside each span (ascending cluster; a cluster's rows keep their
// order). Spans are consecutive runs of rows: span s holds span_rows[s] rows; a null span_rows is
// one span of every row. A backend that groups the whole set (span 0 in its layout) gets one span.
struct ClusterRows {
  const float* x = nullptr;
  const int32_t* cluster = nullptr;  // per row: dense cluster id in [0, k)
  int64_t count = 0;
  const int64_t* span_rows = nullptr;
  int64_t spans = 0;
};

// How a backend wants its rows, and what it holds on the host, for the driver's plans.
struct ClusterSumsLayout {
  // Rows are grouped by cluster within spans of this many consecutive rows of a set (source rows
  // for the data, entries for a sample, counted before rows are left out); 0 = the whole set.
  int64_t span = 0;
  // Host bytes per held row beyond its data (norms, cluster, source row, bookkeeping).
  int64_t row_bytes = 0;
  // Host bytes add_all_pair_sums needs beyond the sums (per-thread partial sums).
  int64_t all_pairs_bytes = 0;
};

class ClusterDistanceSums {
 public:
  // Fraction of the call's work done, in [0, 1].
  using Progress = std::function<void(double)>;

  virtual ~ClusterDistanceSums() = default;
  // "cpu (2 threads)", "NVIDIA H100 80GB HBM3 (cuda:0)".
  virtual std::string device_name() const = 0;
  virtual ClusterSumsLayout layout() const = 0;

  // The column rows. Their memory must stay valid and unchanged until the next set_columns (a
  // backend may read them again on every call).
  virtual void set_columns(const ClusterRows& columns) = 0;

  // sums[i * k + c] += the sum of dist(query i, b) over the column rows b of cluster c. self_col
  // (may be null): per query, its own position among the columns, where its distance is 0
  // whatever the rounding, or -1. For each query row the column tiles are added in column order:
  // the result does not depend on how the queries are cut into calls.
  virtual void add_sums(const ClusterRows& queries, const int64_t* self_col, double* sums,
                        const Progress& progress = nullptr) = 0;

  // sums[p * k + c] += the sum of dist(column p, b) over the column rows b of cluster c, for every
  // column position p (count x k), each pair of tiles computed once where the backend can.
  virtual void add_all_pair_sums(double* sums, const Progress& progress = nullptr) = 0;
};

// The CPU implementation for k clusters of d-dimensional rows: BLAS sgemm tiles, OpenMP over
// tiles with `threads` threads; deterministic for any thread count.
std::unique_ptr<ClusterDistanceSums> make_cpu_cluster_sums(TileMetric metric, int64_t k, int64_t d,
                                                           int threads);

}  // namespace embcluster
