#include "cuda/cuda_kmeanspp.h"

#include "embcluster/error.h"
#include "kernels/kmeans_kernels.cuh"
#include "kernels/kmeanspp.cuh"
#include "kernels/kmeanspp_kernels.cuh"

namespace embcluster {

void device_plus_plus_rounds(Workspace& ws, cudaStream_t s, cublasHandle_t blas,
                             const DeviceSample& sample, int64_t first, int64_t k, int64_t trials,
                             const double* draws, const double* w, int64_t* picks) {
  EMBCLUSTER_ASSERT(trials >= 1 && trials <= kern::kMaxPlusPlusTrials, "k-means++ trials ", trials);
  const int64_t n = sample.n, d = sample.d;
  const int64_t chunks = (n + kern::kPlusPlusChunk - 1) / kern::kPlusPlusChunk;
  const auto sz = [](int64_t v) { return static_cast<size_t>(v); };
  DeviceBuffer<float> closest(ws, sz(n)), g(ws, sz(n * trials)), cand(ws, sz(trials * d)),
      cand_norms(ws, sz(trials));
  DeviceBuffer<double> part(ws, sz(chunks * trials)), off(ws, sz(chunks + 1)),
      dev_draws(ws, sz((k - 1) * trials)), dev_w(ws, sz(w ? n : 0));
  DeviceBuffer<int64_t> cand_idx(ws, sz(trials)), best(ws, 1), dev_picks(ws, sz(k));
  if (k > 1)
    EMB_CUDA(cudaMemcpyAsync(dev_draws.get(), draws, dev_draws.bytes(), cudaMemcpyHostToDevice, s));
  if (w) EMB_CUDA(cudaMemcpyAsync(dev_w.get(), w, dev_w.bytes(), cudaMemcpyHostToDevice, s));
  const kern::PlusPlusView v{sample.rows,
                             sample.norms,
                             w ? dev_w.get() : nullptr,
                             n,
                             d,
                             closest.get(),
                             g.get(),
                             cand.get(),
                             cand_norms.get(),
                             cand_idx.get(),
                             part.get(),
                             off.get(),
                             best.get(),
                             dev_picks.get()};
  // k-means++ distances are fp32, whatever the precision of the Lloyd passes.
  EMB_CUBLAS(cublasSetMathMode(blas, CUBLAS_DEFAULT_MATH));
  kern::launch_pp_reset(v, s);
  const float alpha = 1.0f, beta = 0.0f;
  for (int64_t round = 0; round < k; ++round) {
    const int64_t m = round == 0 ? 1 : trials;  // round 0 measures the given first row
    kern::launch_pp_pick(v, m, round == 0 ? nullptr : dev_draws.get() + (round - 1) * trials, first,
                         s);
    // Row-major g (n x m) = X Y^T is column-major g^T = Y X^T.
    EMB_CUBLAS(cublasSgemm(blas, CUBLAS_OP_T, CUBLAS_OP_N, int(m), int(n), int(d), &alpha,
                           cand.get(), int(d), sample.rows, int(d), &beta, g.get(), int(m)));
    kern::launch_expand_sq_dist(g.get(), n, m, sample.norms, cand_norms.get(), s);
    kern::launch_pp_potentials(v, m, s);
    kern::launch_pp_choose(v, m, round, s);
    kern::launch_pp_update(v, m, s);
  }
  EMB_CUDA(cudaMemcpyAsync(picks, dev_picks.get(), dev_picks.bytes(), cudaMemcpyDeviceToHost, s));
  sync_stream(s);  // before the buffers go and the caller reads picks
}

}  // namespace embcluster
