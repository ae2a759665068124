#pragma once
// Range search over the inverted lists of a FAISS IndexIVFFlat (L2) with BLAS distance tiles:
// FAISS assigns the queries to their nprobe nearest lists; the rows of each list then meet the
// queries that probe it in sgemm tiles (as the exact passes do), instead of FAISS's scan of one
// vector at a time. The same neighbours as FAISS's range search over the probed lists, with the
// exact passes' decision at eps (the direct sum's).
#include <faiss/IndexIVFFlat.h>

#include <cstdint>
#include <functional>
#include <vector>

namespace embcluster {

class IvfRangeSearch {
 public:
  using Fn = std::function<void(int64_t, const int64_t*, int64_t)>;

  // index: trained and filled, nprobe set. eps2: squared radius; distances <= eps2 are within.
  IvfRangeSearch(const faiss::IndexIVFFlat& index, float eps2, int threads);

  // Neighbours within eps of each row of x (m x d, rows as added to the index): fn(i, ids,
  // count), called for every i in order; ids are in no particular order and include the row
  // itself when it is in the index.
  void run(const float* x, int64_t m, const Fn& fn);

  // Neighbours found by the last run.
  int64_t last_results() const { return last_results_; }

 private:
  const faiss::IndexIVFFlat& index_;
  float eps2_;
  int threads_;
  int64_t d_;
  std::vector<std::vector<float>> list_norms_;  // squared norms of each list's rows
  int64_t last_results_ = 0;
};

}  // namespace embcluster
