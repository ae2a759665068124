#include "algo/dbscan/ivf_range_search.h"

#include <faiss/invlists/InvertedLists.h>
#include <omp.h>

#include "embcluster/error.h"

namespace embcluster {

IvfRangeSearch::IvfRangeSearch(const faiss::IndexIVFFlat& index, const int64_t* probes, float eps2,
                               int threads)
    : eps2_(eps2), threads_(threads), d_(index.d), nlist_(index.nlist) {
  const faiss::InvertedLists& lists = *index.invlists;
  const int64_t n = index.ntotal, nprobe = static_cast<int64_t>(index.nprobe);
  rows_.resize(nlist_);
  ids_.resize(nlist_);
  sizes_.resize(nlist_);
  norms_.resize(nlist_);
  where_.assign(static_cast<size_t>(n), -1);
  offset_.resize(static_cast<size_t>(n));
  static_assert(sizeof(faiss::Index::idx_t) == sizeof(int64_t), "FAISS ids are 64-bit");
  for (int64_t l = 0; l < nlist_; ++l) {
    sizes_[l] = static_cast<int64_t>(lists.list_size(static_cast<size_t>(l)));
    rows_[l] = reinterpret_cast<const float*>(lists.get_codes(static_cast<size_t>(l)));
    ids_[l] = reinterpret_cast<const int64_t*>(lists.get_ids(static_cast<size_t>(l)));
    for (int64_t j = 0; j < sizes_[l]; ++j) {
      const int64_t id = ids_[l][j];
      EMBCLUSTER_ASSERT(id >= 0 && id < n, "IVF index: row id ", id, " out of range");
      where_[id] = static_cast<int32_t>(l);
      offset_[id] = j;
    }
  }
#pragma omp parallel for num_threads(threads_) schedule(dynamic, 4)
  for (int64_t l = 0; l < nlist_; ++l) {
    norms_[l].resize(static_cast<size_t>(sizes_[l]));
    if (sizes_[l] > 0) row_sq_norms(rows_[l], sizes_[l], d_, norms_[l].data());
  }
  // Inverted: the rows probing each list, in row order.
  probe_start_.assign(static_cast<size_t>(nlist_ + 1), 0);
  for (int64_t e = 0; e < n * nprobe; ++e)
    if (probes[e] >= 0) ++probe_start_[probes[e] + 1];
  for (int64_t l = 0; l < nlist_; ++l) probe_start_[l + 1] += probe_start_[l];
  probers_.resize(static_cast<size_t>(probe_start_[nlist_]));
  std::vector<int64_t> fill(probe_start_.begin(), probe_start_.end() - 1);
  for (int64_t id = 0; id < n; ++id)
    for (int64_t p = 0; p < nprobe; ++p) {
      const int64_t l = probes[id * nprobe + p];
      if (l >= 0) probers_[fill[l]++] = id;
    }
}

}  // namespace embcluster
