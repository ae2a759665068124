#pragma once
// Centres in groups for K-means' distance bounds: every row keeps one lower bound per group on its
// distances to the group's centres (Ding et al., "Yinyang K-Means", ICML 2015). One group is
// Hamerly's single bound, a group per centre Elkan's bounds; one mechanism covers the three.
#include <cstdint>
#include <vector>

namespace embcluster {

struct CentreGroups {
  // The centres in group order: position p holds centre order[p]; group g is the positions
  // [start[g], start[g + 1]), in increasing centre index within a group.
  std::vector<int32_t> order;
  std::vector<int64_t> start;
  std::vector<int32_t> group_of;  // position -> group
  int64_t groups() const { return static_cast<int64_t>(start.size()) - 1; }
};

// The k centres (k x d, row-major) in at most `groups` groups of nearby centres (a few Lloyd
// iterations over the centres themselves, from evenly spaced ones; empty groups dropped).
// groups >= k: a group per centre; groups <= 1: one group. Deterministic.
CentreGroups group_centres(const float* c, int64_t k, int64_t d, int64_t groups);

}  // namespace embcluster
