#pragma once
// K-means (Lloyd) over a Source, in memory or streamed block by block under a memory budget.
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

// Saving a K-means run's state to a directory so that an interrupted run (killed, cancelled, a
// crashed machine) continues where it stopped. A resumed run gives labels, centroids, inertia,
// iterations, history and run inertias bit-identical to an uninterrupted run.
struct KMeansCheckpoint {
  // Directory of the checkpoint file (dir/kmeans.ckpt, created with the directory when missing).
  // Empty (default) = no checkpoint.
  std::string dir;
  // Lloyd iterations between two writes (>= 1). The state after the first pass over the data and
  // at the end of every run is written too.
  int every = 10;
  // Continue from dir/kmeans.ckpt. A missing, unreadable or corrupt file, or one made for other
  // data or other parameters, throws Error naming the file (and what differs). Without resume an
  // existing checkpoint is replaced once the run writes its first state.
  bool resume = false;
  // Facts about the input the source cannot tell (file size, modification time, how the data were
  // prepared): stored with the state and compared on resume, each one named when it differs. The
  // source's name, shape, type and a hash of a sample of its rows are always compared.
  std::vector<std::pair<std::string, std::string>> identity;
};

struct KMeansParams {
  // Number of clusters (scikit-learn n_clusters). Must be in [1, rows].
  int64_t n_clusters = 8;
  // KMeansPlusPlus (greedy, as scikit-learn), KMeansParallel (k-means||), Random (distinct rows),
  // or File: the data spec in init_file holds the n_clusters x d initial centres.
  InitMethod init = InitMethod::KMeansPlusPlus;
  // k-means|| only (cuML's oversampling_factor): each round draws every sample row with
  // probability min(1, oversampling_factor x n_clusters x weight x its squared distance to the
  // nearest candidate / the sample's potential), about oversampling_factor x n_clusters rows a
  // round. 0.5 (cuML: 2): 2.5 k candidates in 5 rounds gave initialisations as good as 10 k, in
  // a third of the time or less (README).
  double oversampling_factor = 0.5;
  // k-means|| only: rounds of candidate draws (Bahmani et al. use 5); more are run while there are
  // fewer candidates of weight > 0 than n_clusters and the sample is not exhausted.
  int init_rounds = 5;
  // init File: "centres.h5:/c", "c.npy", ... (ignored otherwise).
  std::string init_file;
  // Number of runs from different seeds; the run with the lowest inertia wins.
  // 0 means auto: 1 for k-means++, k-means|| or a file, 10 for random (as scikit-learn). A file
  // runs once.
  int n_init = 0;
  // Maximum Lloyd iterations per run.
  int max_iter = 300;
  // Relative tolerance on the centre shift: converged when sum of squared centre moves
  // <= tol * mean feature variance (as scikit-learn).
  double tol = 1e-4;
  // Seed of every random choice; the result is identical for a seed whatever the threads or blocks.
  uint64_t seed = 0;
  // Rows in the initialisation sample (k-means++, k-means|| and random run on a uniform sample of
  // this many rows, read in one streamed pass). 0 = auto: min(rows, max(100000, 100 * n_clusters)),
  // capped at 256 MiB of rows. It never depends on the memory budget, so streamed and in-memory
  // runs start from the same centres.
  int64_t init_sample = 0;
  // How each row's nearest centre is found (see KMeansAlgorithm; scikit-learn's `algorithm`).
  // Every choice gives the same labels from the same centres; the bounds (elkan, hamerly,
  // yinyang, auto) skip most distances after the first iterations, at 4 (1 + groups) bytes per
  // row kept within half the memory budget. The CUDA backend runs Lloyd.
  KMeansAlgorithm algorithm = KMeansAlgorithm::Auto;
  // GEMM precision on the GPU (the CPU always runs fp32).
  Precision precision = Precision::Fp32;
  // Euclidean (Lloyd), or Cosine: spherical K-means (Dhillon & Modha 2001, FAISS's `spherical`):
  // rows L2-normalised as they are read (a zero row is an error naming it), centres (initial ones
  // too) renormalised after every update; inertia, history and run inertias are then cosine
  // distances, sum of 1 - cos(row, centre).
  Metric metric = Metric::Euclidean;
  // Weight of every row (scikit-learn's sample_weight): one per row, finite and >= 0, at least
  // n_clusters of them > 0. Rows count with their weight in k-means++ (first centre drawn by
  // weight, candidates by weight x squared distance, potentials weighted), in random init (rows
  // drawn by weight without replacement), in the centres (weighted means; a cluster without
  // weight is empty) and in the inertia. Empty (default) = every row weighs 1.
  std::vector<double> sample_weight;
  // Where the run's state is saved and whether it resumes from there (default: not saved). Not a
  // parameter of the result: a checkpointed or resumed run gives the same result.
  KMeansCheckpoint checkpoint;
};

// Progress of a run: phase "device" once the backend is chosen, "read" after every block of the
// first pass over the data (feature variance and the initialisation sample), "init" when an
// initialisation starts, "iterate" once per Lloyd iteration.
struct KMeansProgress {
  std::string phase = "iterate";
  int64_t rows_done = 0;   // "read": rows read so far
  int64_t rows_total = 0;  // every phase: rows of the data
  int run = 0;  // 0-based index among n_init
  int n_init = 1;
  int iteration = 0;  // 1-based
  int max_iter = 0;
  double inertia = 0;
  double shift = 0;  // sum of squared centre moves relative to the tolerance scale
  double rows_per_s = 0;
  double elapsed_s = 0;
  std::string device;       // "device": where the run goes
  std::string device_note;  // "device": why --device auto runs on the CPU (else empty)
};
using KMeansCallback = std::function<void(const KMeansProgress&)>;

struct KMeansIteration {
  double inertia;       // sum of squared distances to the centres the rows were assigned to
  double centre_shift;  // sum over centres of the squared move
};

struct KMeansResult {
  std::vector<float> centroids;   // n_clusters x d, row-major
  std::vector<int32_t> labels;    // one per row
  std::vector<int64_t> sizes;     // rows per cluster
  double inertia = 0;             // of the final centres and labels
  int iterations = 0;             // Lloyd iterations of the best run
  bool converged = false;
  int best_run = 0;
  std::vector<double> run_inertia;         // final inertia of every run
  std::vector<KMeansIteration> history;    // per iteration of the best run
  int64_t rows = 0;
  int64_t dims = 0;
  double tol_abs = 0;  // tol * mean feature variance
  std::string device;  // "cpu (2 threads)", "NVIDIA H100 ..." etc.
  bool streamed = false;
  int64_t block_rows = 0;
  int64_t init_sample_rows = 0;
  int64_t empty_cluster_relocations = 0;
  // Seconds per phase: "read", "stats", "init", "assign", "update", "total"; GPU backends add
  // theirs ("transfer", "gemm", "argmin", ...).
  std::vector<std::pair<std::string, double>> timings;
  // Backend facts for the report (device memory used, precision notes, ...).
  std::vector<std::pair<std::string, std::string>> notes;
  // A distributed run (ExecutionContext::comm of several ranks): every rank's slab, device and
  // time; empty in a one-process run. Rank 0's result holds every row's label; the other ranks'
  // labels are empty (everything else is the same on every rank).
  std::vector<RankReport> ranks;
};

// Clusters every row of source, with the threads, memory budgets and device of ctx (streamed when
// the data exceed ctx's memory budget). Throws Error for bad parameters (named), unreadable data or
// a cancelled context.
KMeansResult kmeans(Source& source, const KMeansParams& params, const ExecutionContext& ctx = {},
                    const KMeansCallback& progress = nullptr);

// Sample weights from a file of one value per row (HDF5 /weights or its only dataset, .npy, CSV
// column with a header, ...), read exactly as double. Throws Error naming the file and row for
// another row count, more than one column, or a weight that is not a finite number >= 0.
std::vector<double> read_sample_weight(const std::string& spec, int64_t expected_rows);

}  // namespace embcluster
