#pragma once
// Launchers of the k-means++ rounds on the device (kernels/kmeanspp.cuh's arithmetic): a round
// picks its candidates, the caller measures their distances (GEMM and expand_sq_dist into g), and
// the potentials, the choice and the nearest distances follow, all on one stream without a
// return to the host.
#include <cuda_runtime.h>

#include <cstdint>

namespace embcluster {
namespace kern {

constexpr int64_t kMaxPlusPlusTrials = 64;

// The device state of the rounds (n sample rows of d columns).
struct PlusPlusView {
  const float* sample;  // n x d
  const float* norms;   // n: squared norms of the sample's rows
  const double* w;      // n weights, or null
  int64_t n, d;
  float* closest;     // n: squared distance to the nearest chosen row
  float* g;           // n x trials: squared distances to the round's candidates
  float* cand;        // trials x d: the candidates' rows
  float* cand_norms;  // trials
  int64_t* cand_idx;  // trials
  double* part;       // chunks x trials: potentials per chunk and candidate
  double* off;        // chunks + 1: offsets of the chunks' potentials
  int64_t* best;      // 1: the candidate the round kept
  int64_t* picks;     // k: the chosen rows
};

// closest = +inf (before round 0, whose one candidate is `first`).
void launch_pp_reset(PlusPlusView v, cudaStream_t stream);

// The round's candidates: `first` when draws is null, else for t < trials the row that draws[t] x
// the total potential lands on. Copies their rows and norms to cand and cand_norms.
void launch_pp_pick(PlusPlusView v, int64_t trials, const double* draws, int64_t first,
                    cudaStream_t stream);

// part[ch x trials + t]: the potential of chunk ch with candidate t added (g holds distances).
void launch_pp_potentials(PlusPlusView v, int64_t trials, cudaStream_t stream);

// The candidate of least potential (the first on ties) into best and picks[round]; the chunks'
// offsets with it.
void launch_pp_choose(PlusPlusView v, int64_t trials, int64_t round, cudaStream_t stream);

// closest = min(closest, distance to the kept candidate).
void launch_pp_update(PlusPlusView v, int64_t trials, cudaStream_t stream);

}  // namespace kern
}  // namespace embcluster
