#pragma once
// A k sweep: K-means for each k of a list over the same data, with the quality of each
// clustering (inertia for the elbow, sampled silhouette with its interval, Davies-Bouldin,
// Calinski-Harabasz), the elbow found by the Kneedle method and a suggested k.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "embcluster/context.h"
#include "embcluster/kmeans.h"
#include "embcluster/source.h"

namespace embcluster {

struct SweepParams {
  std::vector<int64_t> ks;  // the k values, ascending, each in [2, rows - 1]
  // The K-means run of every k: everything but n_clusters (seed, init, n_init, max_iter, tol,
  // metric, precision). A checkpoint is not taken.
  KMeansParams kmeans;
  // Rows of each k's silhouette (0 = exact), drawn with the same seed for every k.
  int64_t silhouette_sample = 10000;
};

struct SweepPoint {
  int64_t k = 0;
  double inertia = 0;  // the K-means inertia (cosine distances for the cosine metric)
  int iterations = 0;
  bool converged = false;
  double silhouette = 0, silhouette_low = 0, silhouette_high = 0;  // with its 95% interval
  double davies_bouldin = 0, calinski_harabasz = 0;
  std::vector<int64_t> sizes;
  double seconds = 0;  // K-means and scores of this k (without a shared silhouette's time)
};

struct SweepResult {
  std::vector<SweepPoint> points;  // in the order of ks
  // Kneedle (Satopaa et al. 2011) on the inertia curve, both axes scaled to [0, 1]: the k where
  // the curve is farthest below the line from its first to its last point; 0 with fewer than 3 k.
  int64_t elbow_k = 0;
  int64_t best_silhouette_k = 0;  // the k of the highest silhouette
  // The suggestion: the k of the highest silhouette (the elbow is reported beside it).
  int64_t suggested_k = 0;
  bool data_in_memory = false;  // read once and kept for every k (it fitted the budget)
  // Seconds of the silhouettes of every k computed together (0 when they were computed per k):
  // on the CPU with the data in memory and a sampled silhouette, the sample's distances to all
  // rows are computed once and reduced for every k's labels.
  double shared_silhouette_s = 0;
  std::string device;
  double seconds = 0;
};

// Progress: the k that starts (its index among ks).
using SweepCallback = std::function<void(int64_t k, size_t index, size_t count)>;

// The Kneedle elbow of points' inertia over k (as SweepResult::elbow_k); 0 with fewer than 3 points
// or a curve that does not fall.
int64_t kneedle_elbow(const std::vector<SweepPoint>& points);

// Parses "2:30", "2:30:2" (first:last[:step], inclusive) or "5,10,20" into ascending distinct k.
std::vector<int64_t> parse_k_list(const std::string& text);

SweepResult sweep(Source& data, const SweepParams& params, const ExecutionContext& ctx = {},
                  const SweepCallback& progress = {});

}  // namespace embcluster
