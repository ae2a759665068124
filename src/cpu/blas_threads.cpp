#include "cpu/blas_threads.h"

#include <cblas.h>

namespace embcluster {
void blas_single_threaded() { openblas_set_num_threads(1); }
void blas_set_threads(int n) { openblas_set_num_threads(n); }
}  // namespace embcluster
