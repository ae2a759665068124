#include "algo/ivf_range_search.h"

#include <faiss/IndexFlat.h>
#include <faiss/invlists/InvertedLists.h>
#include <omp.h>

#include <algorithm>
#include <utility>

#include "cpu/blas_threads.h"
#include "cpu/dbscan_cpu.h"
#include "cpu/distance_tile.h"

namespace embcluster {
namespace {

constexpr int64_t kQueryTile = 256;  // queries per sgemm tile
constexpr int64_t kListTile = 1024;  // list rows per sgemm tile

const float* list_rows(const faiss::InvertedLists& lists, int64_t l) {
  return reinterpret_cast<const float*>(lists.get_codes(static_cast<size_t>(l)));
}

}  // namespace

IvfRangeSearch::IvfRangeSearch(const faiss::IndexIVFFlat& index, float eps2, int threads)
    : index_(index), eps2_(eps2), threads_(threads), d_(index.d) {
  const faiss::InvertedLists& lists = *index.invlists;
  list_norms_.resize(index.nlist);
#pragma omp parallel for num_threads(threads_) schedule(dynamic, 4)
  for (int64_t l = 0; l < static_cast<int64_t>(index.nlist); ++l) {
    const int64_t size = static_cast<int64_t>(lists.list_size(static_cast<size_t>(l)));
    list_norms_[l].resize(static_cast<size_t>(size));
    if (size > 0) row_sq_norms(list_rows(lists, l), size, d_, list_norms_[l].data());
  }
}

void IvfRangeSearch::run(const float* x, int64_t m, const Fn& fn) {
  const int64_t d = d_, nprobe = static_cast<int64_t>(index_.nprobe);
  const int64_t nlist = static_cast<int64_t>(index_.nlist);
  const faiss::InvertedLists& lists = *index_.invlists;
  // The lists each query probes (FAISS's coarse quantizer, BLAS on every core).
  std::vector<float> coarse_d(static_cast<size_t>(m * nprobe));
  std::vector<faiss::Index::idx_t> coarse(static_cast<size_t>(m * nprobe));
  blas_set_threads(threads_);
  index_.quantizer->search(m, x, nprobe, coarse_d.data(), coarse.data());
  blas_single_threaded();
  // The queries of each list, in query order.
  std::vector<int64_t> start(static_cast<size_t>(nlist + 1), 0);
  for (auto l : coarse)
    if (l >= 0) ++start[l + 1];
  for (int64_t l = 0; l < nlist; ++l) start[l + 1] += start[l];
  std::vector<int32_t> queries(static_cast<size_t>(start[nlist]));
  {
    std::vector<int64_t> fill(start.begin(), start.end() - 1);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t p = 0; p < nprobe; ++p) {
        const auto l = coarse[i * nprobe + p];
        if (l >= 0) queries[fill[l]++] = static_cast<int32_t>(i);
      }
  }
  std::vector<float> qnorms(static_cast<size_t>(m));
  row_sq_norms(x, m, d, qnorms.data());

  // Pairs (query, row id) within eps, per thread.
  std::vector<std::vector<std::pair<int32_t, int64_t>>> found(static_cast<size_t>(threads_));
#pragma omp parallel num_threads(threads_)
  {
    auto& mine = found[omp_get_thread_num()];
    std::vector<float> q(static_cast<size_t>(kQueryTile * d)), qn(kQueryTile);
    std::vector<float> tile(static_cast<size_t>(kQueryTile * kListTile));
#pragma omp for schedule(dynamic, 1)
    for (int64_t l = 0; l < nlist; ++l) {
      const int64_t size = static_cast<int64_t>(lists.list_size(static_cast<size_t>(l)));
      if (size == 0 || start[l] == start[l + 1]) continue;
      const float* rows = list_rows(lists, l);
      const faiss::Index::idx_t* ids = lists.get_ids(static_cast<size_t>(l));
      const float* norms = list_norms_[l].data();
      for (int64_t q0 = start[l]; q0 < start[l + 1]; q0 += kQueryTile) {
        const int64_t nq = std::min(kQueryTile, start[l + 1] - q0);
        for (int64_t a = 0; a < nq; ++a) {
          const int64_t i = queries[q0 + a];
          std::copy(x + i * d, x + (i + 1) * d, q.begin() + a * d);
          qn[a] = qnorms[i];
        }
        for (int64_t j0 = 0; j0 < size; j0 += kListTile) {
          const int64_t nr = std::min(kListTile, size - j0);
          sq_distance_tile(q.data(), nq, qn.data(), rows + j0 * d, nr, norms + j0, d, tile.data());
          settle_band(tile.data(), q.data(), qn.data(), nq, rows + j0 * d, norms + j0, nr, d,
                      eps2_);
          for (int64_t a = 0; a < nq; ++a) {
            const float* row = tile.data() + a * nr;
            for (int64_t j = 0; j < nr; ++j)
              if (row[j] <= eps2_) mine.emplace_back(queries[q0 + a], ids[j0 + j]);
          }
        }
      }
    }
  }
  // Gathered by query (counting sort), then handed over in query order.
  std::vector<int64_t> at(static_cast<size_t>(m + 1), 0);
  for (const auto& f : found)
    for (const auto& pr : f) ++at[pr.first + 1];
  for (int64_t i = 0; i < m; ++i) at[i + 1] += at[i];
  std::vector<int64_t> nbr(static_cast<size_t>(at[m]));
  {
    std::vector<int64_t> fill(at.begin(), at.end() - 1);
    for (const auto& f : found)
      for (const auto& pr : f) nbr[fill[pr.first]++] = pr.second;
  }
  last_results_ = at[m];
  for (int64_t i = 0; i < m; ++i) fn(i, nbr.data() + at[i], at[i + 1] - at[i]);
}

}  // namespace embcluster
