#pragma once
// The few nearest centres of each row: BLAS sgemm distance tiles with a running top-p per row.
#include <cstdint>

namespace embcluster {

// For each row of x (m x d), the ids of its p nearest centres among c (k x d), nearest first
// (ties: the lower id), into out (m x p; -1 where k < p). OpenMP over tiles of rows with
// `threads` threads, BLAS single-threaded.
void nearest_centres(const float* x, int64_t m, const float* c, int64_t k, int64_t d, int64_t p,
                     int threads, int64_t* out);

}  // namespace embcluster
