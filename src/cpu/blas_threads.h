#pragma once
// OpenBLAS runs its own thread pool; drivers parallelise with OpenMP over tiles and call BLAS
// from each thread, so BLAS must stay single-threaded there.
namespace embcluster {
void blas_single_threaded();
// Restores BLAS's own threading with n threads (benchmarks measuring the sgemm peak).
void blas_set_threads(int n);
}  // namespace embcluster
