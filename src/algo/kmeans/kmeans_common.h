#pragma once
// What the K-means variants share (Lloyd and its distance bounds; mini-batch to come), as
// scikit-learn's _k_means_common and cuVS's kmeans_common do: the centres from the per-cluster
// sums, the relocation of empty clusters, and the shift and convergence test.
#include <cstdint>
#include <string>
#include <vector>

#include "backend/kmeans_backend.h"
#include "core/distributed.h"
#include "embcluster/enums.h"
#include "embcluster/source.h"

namespace embcluster {

// The distance bounds of an algorithm (KMeansAlgorithm) for `rows` rows of d values: groups per
// row (0: Lloyd) and the name for the report. The bounds take 4 (1 + groups) bytes per row, kept
// within half the memory budget: auto takes a group per centre up to 64 centres, else Yinyang's
// ceil(k / 10) groups, at most d / 8 (an eighth of a row's size) and as many as fit (Lloyd when
// not one fits, or for k = 1); an explicit choice that does not fit throws Error.
struct BoundGroups {
  int64_t groups = 0;
  std::string name;
};
BoundGroups bound_groups(KMeansAlgorithm a, int64_t rows, int64_t k, int64_t d, int64_t budget);

// The `count` rows farthest from their centres (largest distance first, lower row first on ties).
std::vector<int64_t> farthest_rows(const std::vector<float>& dist, int64_t count);

// Empty clusters (no weight) take the rows farthest from their centres, as scikit-learn does:
// each such row leaves its cluster's sums and becomes the empty cluster's only row (read again
// from src). labels and dist: per row of the slab that starts at first_row (all rows in one
// process), its cluster and squared distance (unweighted) of the pass that made s; row_weights:
// per row of the source, or null for 1. With a communicator of several ranks the rows are chosen
// among every rank's (a collective call), the same as one process. Returns the number of clusters
// relocated.
int64_t relocate_empty_clusters(ClusterSums& s, const std::vector<int32_t>& labels,
                                const std::vector<float>& dist, int64_t first_row, Source& src,
                                const double* row_weights, Communicator* comm = nullptr);

// New centres: the weighted mean of each cluster's rows (sums in double, rounded once); a cluster
// without weight keeps its centre.
std::vector<float> centres_from_sums(const std::vector<float>& centres, const ClusterSums& s);

// Scales every row of the row-major centres (d columns) to unit length (norm in double); a zero
// row stays zero. The spherical K-means update.
void normalise_centres(std::vector<float>& centres, int64_t d);

// Sum over centres of the squared move, in double.
double centre_shift(const std::vector<float>& from, const std::vector<float>& to);

// Converged when no label changed (strict convergence; on any rank) or the shift is within
// tol_abs.
inline bool converged(const std::vector<int32_t>& labels, const std::vector<int32_t>& old,
                      double shift, double tol_abs, Communicator* comm = nullptr) {
  if (shift <= tol_abs) return true;
  return all_ranks(labels == old, comm);
}

}  // namespace embcluster
