#pragma once
// Range search over the inverted lists of a FAISS IndexIVFFlat (L2) with BLAS distance tiles,
// list by list: given the nprobe nearest lists of every row of the index (nearest_centres), each
// list's rows meet the rows that probe it in sgemm tiles (as the exact passes do), instead of
// FAISS's scan of one vector at a time per query. The neighbours are those of FAISS's range search
// over the probed lists, with the exact passes' decision at eps (the direct sum's).
#include <faiss/IndexIVFFlat.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <vector>

#include "cpu/dbscan_cpu.h"
#include "cpu/distance_tile.h"

namespace embcluster {

class IvfRangeSearch {
 public:
  // index: trained and filled with rows 0..n-1, nprobe set; probes (n x nprobe): the lists each
  // row probes (-1: none). eps2: squared radius; distances <= eps2 are within eps.
  IvfRangeSearch(const faiss::IndexIVFFlat& index, const int64_t* probes, float eps2, int threads);

  // Calls fn(q, id) for every pair within eps of a row q with wanted(q) and a row id in one of
  // the lists q probes (q itself included), from several threads at once. progress(fraction)
  // is called now and then from one thread.
  template <class Wanted, class Fn>
  void for_pairs(Wanted&& wanted, Fn&& fn, const std::function<void(double)>& progress = nullptr);

  // Bytes the search uses beside the index for n rows, the probes included.
  static int64_t extra_bytes(int64_t n, int64_t nprobe) { return n * (16 + 16 * nprobe); }

  // Pairs found by the last for_pairs.
  int64_t last_pairs() const { return last_pairs_; }

 private:
  static constexpr int64_t kQueryTile = 256;  // querying rows per sgemm tile
  static constexpr int64_t kListTile = 1024;  // list rows per sgemm tile

  const float* row(int64_t id) const { return rows_[where_[id]] + offset_[id] * d_; }
  float norm(int64_t id) const { return norms_[where_[id]][offset_[id]]; }

  float eps2_;
  int threads_;
  int64_t d_, nlist_;
  std::vector<const float*> rows_;         // each list's rows
  std::vector<const int64_t*> ids_;        // each list's row ids
  std::vector<int64_t> sizes_;             // each list's length
  std::vector<std::vector<float>> norms_;  // squared norms of each list's rows
  std::vector<int32_t> where_;             // per row id: its list
  std::vector<int64_t> offset_;            // per row id: its place in the list
  std::vector<int64_t> probe_start_;       // per list: first entry of probers_
  std::vector<int64_t> probers_;           // rows that probe each list, in row order
  int64_t last_pairs_ = 0;
};

template <class Wanted, class Fn>
void IvfRangeSearch::for_pairs(Wanted&& wanted, Fn&& fn,
                               const std::function<void(double)>& progress) {
  const int64_t d = d_;
  std::atomic<int64_t> done{0}, pairs{0};
#pragma omp parallel num_threads(threads_)
  {
    std::vector<float> q(static_cast<size_t>(kQueryTile * d)), qn(kQueryTile);
    std::vector<int64_t> qid(kQueryTile);
    std::vector<float> tile(static_cast<size_t>(kQueryTile * kListTile));
    int64_t found = 0;
#pragma omp for schedule(dynamic, 1)
    for (int64_t l = 0; l < nlist_; ++l) {
      const int64_t size = sizes_[l];
      const float* lrows = rows_[l];
      const float* lnorms = norms_[l].data();
      const int64_t* lids = ids_[l];
      int64_t p = probe_start_[l];
      const int64_t end = probe_start_[l + 1];
      while (size > 0 && p < end) {
        int64_t nq = 0;  // a tile of wanted rows probing l
        for (; p < end && nq < kQueryTile; ++p) {
          const int64_t id = probers_[p];
          if (!wanted(id)) continue;
          std::copy(row(id), row(id) + d, q.begin() + nq * d);
          qn[nq] = norm(id);
          qid[nq++] = id;
        }
        if (nq == 0) break;
        for (int64_t j0 = 0; j0 < size; j0 += kListTile) {
          const int64_t nr = std::min(kListTile, size - j0);
          eps_distance_tile(q.data(), qn.data(), nq, lrows + j0 * d, lnorms + j0, nr, d, eps2_,
                            tile.data());
          for (int64_t a = 0; a < nq; ++a) {
            const float* t = tile.data() + a * nr;
            for (int64_t j = 0; j < nr; ++j)
              if (t[j] <= eps2_) {
                fn(qid[a], lids[j0 + j]);
                ++found;
              }
          }
        }
      }
      const int64_t now = done.fetch_add(1) + 1;
      if (progress && (now & 63) == 0 && omp_get_thread_num() == 0) progress(double(now) / nlist_);
    }
    pairs.fetch_add(found);
  }
  last_pairs_ = pairs.load();
  if (progress) progress(1.0);
}

}  // namespace embcluster
