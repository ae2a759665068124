#include "core/thread_guard.h"

#include <cblas.h>
#include <omp.h>

namespace embcluster {

// BLAS first: an OpenMP build of OpenBLAS sets OpenMP's team along with its own.
ThreadGuard::ThreadGuard(int omp_threads, int blas_threads) {
  if (blas_threads > 0) {
    saved_blas_ = openblas_get_num_threads();
    openblas_set_num_threads(blas_threads);
  }
  if (omp_threads > 0) {
    saved_omp_ = omp_get_max_threads();
    omp_set_num_threads(omp_threads);
  }
}

ThreadGuard::~ThreadGuard() {
  if (saved_blas_ > 0) openblas_set_num_threads(saved_blas_);
  if (saved_omp_ > 0) omp_set_num_threads(saved_omp_);
}

int blas_thread_count() { return openblas_get_num_threads(); }

}  // namespace embcluster
