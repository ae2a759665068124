#pragma once
// Cluster-quality metrics over a Source and its labels, for millions of rows: silhouette (exact,
// sampled or simplified), Davies-Bouldin, Calinski-Harabasz, inertia and cluster sizes.
// Nothing of size rows x rows is ever held: distances are computed in GEMM tiles and reduced at
// once into per-row sums per cluster; data larger than the memory budget is streamed.
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "embcluster/context.h"
#include "embcluster/enums.h"
#include "embcluster/source.h"

namespace embcluster {

// Saving the exact silhouette's progress (the rows scored so far) so that an interrupted
// evaluation (killed, cancelled, a crashed machine) continues where it stopped; the resumed run's
// samples, score and per-cluster means are bit-identical to an uninterrupted checkpointed run.
// The rows are then scored a block at a time against every row (each pair twice): with every
// row's sums in memory an uncheckpointed run scores each pair once, and its figures may differ
// from a checkpointed run's in the last bits. The exact silhouette only: a sample is refused.
struct MetricsCheckpoint {
  // Directory of the checkpoint file (dir/silhouette.ckpt, created with the directory when
  // missing). Empty (default) = no checkpoint.
  std::string dir;
  // Blocks of scored rows between two writes (>= 1); the start and the end are written too. A
  // block scores thousands of rows against every row: a write (4 bytes a row of the data) costs
  // little beside it.
  int every = 1;
  // Continue from dir/silhouette.ckpt. A missing, unreadable or corrupt file, or one made for
  // other data, labels or parameters, throws Error naming the file (and what differs).
  bool resume = false;
  // Facts about the input the source cannot tell (file size, modification time, preparation),
  // compared on resume. The source's name, shape, type, a hash of a sample of its rows, a hash of
  // the labels, the metric and the device kind are always compared.
  std::vector<std::pair<std::string, std::string>> identity;
};

struct MetricsParams {
  // Euclidean (as scikit-learn's default) or Cosine (1 - cosine similarity; rows are
  // L2-normalised as they are read, a zero row is at distance 1 from every row). With Cosine,
  // Davies-Bouldin, Calinski-Harabasz and inertia are computed on the L2-normalised rows.
  Metric metric = Metric::Euclidean;
  // Silhouette: 0 = exact (every row scored against every row). N > 0 = N rows drawn uniformly
  // without replacement (seeded) among the scored rows, each scored exactly against ALL rows, and
  // the mean reported with a 95% confidence interval. N >= the scored rows means exact.
  int64_t sample_size = 0;
  // Seed of the silhouette sample; the same seed gives the same rows and figures.
  uint64_t seed = 0;
  // Label -1 is noise (DBSCAN). false (the default): noise rows are left out of every metric, as
  // if they were not in the data, and their silhouette is NaN. true: -1 is an ordinary cluster.
  bool include_noise = false;
  // Exact cosine silhouette through per-cluster sums of the unit rows:
  //   sum over j in c of (1 - x_i.x_j) = |c| - x_i . (sum over j in c of x_j),
  // O(rows * clusters * d) in double instead of O(rows^2 * d). It is exact in real arithmetic
  // (and closer to it than float tiles). false = pairwise GEMM tiles as for euclidean.
  bool cosine_cluster_sums = true;
  // The exact silhouette's checkpoint (default: none). Not a parameter of the result beyond the
  // pair order noted at MetricsCheckpoint.
  MetricsCheckpoint checkpoint;
};
// The context: data that does not fit its memory budget is streamed (the exact silhouette then
// reads the data once per block of scored rows). The exact and sampled silhouette run on its
// device: auto (a CUDA GPU when one is present, else the CPU, with a one-line note in the
// result), cpu or cuda[:N]. The GPU computes the distance tiles (euclidean, and cosine with
// cosine_cluster_sums = false) within the device memory budget, columns that do not fit being
// streamed from the host; the cosine cluster sums, the simplified silhouette, Davies-Bouldin and
// Calinski-Harabasz run on the CPU. Results do not depend on the threads.

// Progress of a long computation (the exact silhouette): once when it starts (rows_done 0, with
// device_note), then after each slab of rows.
struct MetricsProgress {
  int64_t rows_done = 0;
  int64_t rows_total = 0;
  double elapsed_s = 0;
  std::string device_note;  // at the start: why the silhouette runs on the CPU (else empty)
};
using MetricsCallback = std::function<void(const MetricsProgress&)>;

struct SilhouetteResult {
  std::string method;  // "exact", "sampled" or "simplified"
  Metric metric = Metric::Euclidean;
  double score = 0;    // mean silhouette of the scored rows
  // One value per row of the data; NaN for rows that were not scored (noise left out, rows
  // outside the sample). A row alone in its cluster scores 0, as in scikit-learn.
  std::vector<float> samples;
  int64_t rows_scored = 0;
  // Sampled only: standard error (sd / sqrt(N), sd with N - 1) and the 95% interval
  // score -/+ 1.96 * std_error (normal approximation). Exact methods: 0 and [score, score].
  double std_error = 0;
  double ci_low = 0, ci_high = 0;
  // Per cluster, in ascending label order: the label, its rows, rows scored and mean silhouette
  // of the scored rows (NaN when none was scored).
  std::vector<int64_t> cluster_labels;
  std::vector<int64_t> cluster_sizes;
  std::vector<int64_t> cluster_scored;
  std::vector<double> cluster_means;
  int64_t noise_rows = 0;       // rows labelled -1
  bool noise_included = false;  // whether they counted as a cluster
  bool streamed = false;        // data read in blocks more than once
  int64_t data_passes = 0;      // reads of the whole data
  std::string device;           // what computed it: "cpu" or the GPU's name and index
  std::string device_note;      // one line when the device differs from the one asked for
  int64_t resumed_rows = 0;     // rows scored before a resume, read from the checkpoint
  double seconds = 0;
};

struct ClusterMetrics {
  // Davies-Bouldin (lower is better) and Calinski-Harabasz (higher is better), as scikit-learn
  // (euclidean, centroids are the cluster means).
  double davies_bouldin = 0;
  double calinski_harabasz = 0;
  double inertia = 0;  // within-cluster sum of squared distances to the cluster means (WCSS)
  std::vector<int64_t> cluster_labels;  // ascending
  std::vector<int64_t> cluster_sizes;
  int64_t noise_rows = 0;
  bool noise_included = false;
  double seconds = 0;
};

// Exact or sampled silhouette (params.sample_size). Throws Error for bad labels or parameters:
// length unlike the data's, fewer than 2 or more than rows - 1 clusters (scikit-learn's rule,
// counted over the rows that are scored); non-finite data (the row is named).
SilhouetteResult silhouette(Source& data, const std::vector<int32_t>& labels,
                            const MetricsParams& params, const ExecutionContext& ctx = {},
                            const MetricsCallback& progress = nullptr);

// Davies-Bouldin, Calinski-Harabasz, inertia and sizes in two passes over the data (centroids,
// then distances). When simplified is not null, also the simplified (centroid) silhouette in the
// same passes: a = distance to the row's own centroid, b = distance to the nearest other
// centroid, s = (b - a) / max(a, b); O(rows * clusters * d). params.sample_size is ignored.
// On the CPU (ctx's device is not used).
ClusterMetrics cluster_metrics(Source& data, const std::vector<int32_t>& labels,
                               const MetricsParams& params, const ExecutionContext& ctx = {},
                               SilhouetteResult* simplified = nullptr);

// Reads cluster labels from a one-column source spec ("x.h5:/labels", "labels.npy", "l.csv", a
// 1-D dataset is accepted; "x.h5" alone means its /labels, or its only dataset). Throws Error
// when the row count differs from expected_rows, when a value is not an integer (the row is named) or is at or beyond +/- 2^24 (where float32, through
// which labels are read, stops telling neighbouring integers apart).
std::vector<int32_t> read_labels(const std::string& spec, int64_t expected_rows);

// Cluster profiles for tabular data (customer segments): the mean of every column per cluster
// and over all rows, in the data's own units (pass the source before any scaling). Labels are
// 0..k-1; -1 (noise) counts in the overall mean only.
struct ClusterProfiles {
  int64_t k = 0, d = 0;
  std::vector<double> means;    // k x d, row-major; NaN for an empty cluster
  std::vector<double> overall;  // d
  std::vector<int64_t> sizes;   // k
};
ClusterProfiles cluster_profiles(Source& data, const std::vector<int32_t>& labels, int64_t k,
                                 const ExecutionContext& ctx = {});

}  // namespace embcluster
