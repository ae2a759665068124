// How far an approximate DBSCAN (FAISS indexes) is from the exact one, measured on a uniform
// sample of rows: their exact neighbourhoods come from GEMM tiles against every row.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "algo/dbscan/dbscan_internal.h"
#include "cpu/dbscan_cpu.h"
#include "io/row_blocks.h"
#include "kernels/distance.cuh"

namespace embcluster {

namespace {
// Union-find over cluster numbers (small; sequential).
struct Merges {
  explicit Merges(int64_t k) : parent(static_cast<size_t>(k)) {
    std::iota(parent.begin(), parent.end(), int64_t(0));
  }
  int64_t find(int64_t x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  }
  bool unite(int64_t a, int64_t b) {
    a = find(a);
    b = find(b);
    if (a == b) return false;
    parent[std::max(a, b)] = std::min(a, b);
    return true;
  }
  std::vector<int64_t> parent;
};
}  // namespace

DBSCANCheck dbscan_check(Source& source, const RowPrep& prep, const std::vector<int64_t>& rows,
                         const std::vector<float>& x, const DBSCANResult& res, float eps2,
                         int64_t min_samples, int threads, int64_t budget,
                         const PhaseProgress& progress) {
  const int64_t m = static_cast<int64_t>(rows.size()), d = source.cols(), n = source.rows();
  std::vector<float> qn(static_cast<size_t>(m));
  for (int64_t i = 0; i < m; ++i) qn[i] = kern::sq_norm(x.data() + i * d, d);
  std::vector<int64_t> count(static_cast<size_t>(m), 1);  // the row itself
  // Distinct approximate clusters among each sampled row's core neighbours within eps.
  std::vector<std::vector<int32_t>> seen(static_cast<size_t>(m));

  const float scale = static_cast<float>(rounding_scale(d));
  auto visit = [&](const Block& b, const float* xb, const float* norms) {
    query_distances(x.data(), qn.data(), m, xb, norms, b.rows, d, threads,
                    [&](int64_t qi, int64_t j0, const float* d2, int64_t len) {
                      for (int64_t j = 0; j < len; ++j) {
                        const int64_t id = b.start + j0 + j;
                        float v = d2[j];
                        // Near eps: the direct sum decides, as in the exact passes.
                        if (std::abs(v - eps2) <= scale * (qn[qi] + norms[j0 + j]))
                          v = kern::sq_l2(x.data() + qi * d, xb + (j0 + j) * d, d);
                        if (v > eps2 || id == rows[qi]) continue;
                        ++count[qi];
                        if (!res.core[id]) continue;
                        auto& s = seen[qi];
                        const int32_t l = res.labels[id];
                        if (std::find(s.begin(), s.end(), l) == s.end()) s.push_back(l);
                      }
                    });
    if (progress) progress("check", double(b.start + b.rows) / n);
  };
  for_prepared_blocks(source, prep, std::max<int64_t>(budget, 1 << 20), threads, visit);

  DBSCANCheck c;
  c.sample_rows = m;
  Merges merges(std::max<int64_t>(res.n_clusters, 1));
  for (int64_t i = 0; i < m; ++i) {
    const int64_t id = rows[i];
    const bool exact = count[i] >= min_samples, approx = res.core[id] != 0;
    c.exact_core += exact;
    c.approx_core += approx;
    c.core_found += exact && approx;
    if (!exact) continue;
    // An exact core row belongs to one exact cluster with all its core neighbours.
    const int32_t own = res.labels[id];
    bool split = own < 0;
    for (int32_t l : seen[i]) {
      if (l != own) split = true;
      if (own >= 0) c.clusters_merged += merges.unite(own, l);
    }
    for (size_t k = 1; own < 0 && k < seen[i].size(); ++k)
      c.clusters_merged += merges.unite(seen[i][0], seen[i][k]);
    c.split_rows += split;
  }
  c.core_recall = c.exact_core ? double(c.core_found) / c.exact_core : 1.0;
  c.core_precision = c.approx_core ? double(c.core_found) / c.approx_core : 1.0;
  return c;
}

}  // namespace embcluster
