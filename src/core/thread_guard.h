#pragma once
// Thread counts change only for the length of a call: a ThreadGuard sets OpenMP's default team
// size and OpenBLAS's thread count and gives the caller's values back when it goes out of scope
// (a host such as Python keeps its own BLAS threading). Drivers parallelise with OpenMP over tiles
// and call BLAS from each thread, so entry points hold ThreadGuard(threads, 1): the run's OpenMP
// team, single-threaded BLAS.
namespace embcluster {

class ThreadGuard {
 public:
  // omp_threads: OpenMP's default team for the calling thread; blas_threads: OpenBLAS's threads.
  // 0 leaves that setting as it is.
  ThreadGuard(int omp_threads, int blas_threads);
  ~ThreadGuard();
  ThreadGuard(const ThreadGuard&) = delete;
  ThreadGuard& operator=(const ThreadGuard&) = delete;

 private:
  int saved_omp_ = 0;   // 0: not changed
  int saved_blas_ = 0;  // 0: not changed
};

// OpenBLAS's current thread count (for tests and reports).
int blas_thread_count();

}  // namespace embcluster
