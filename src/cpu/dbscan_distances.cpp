// Distance tiles with DBSCAN's decision at eps: the sgemm expansion, recomputed by the direct sum
// where its rounding could put a distance on the wrong side of eps (settle_band), and distances
// from a set of query rows to blocks of rows (sampled checks, the k-distance curve).
#include <omp.h>

#include <algorithm>
#include <vector>

#include "cpu/dbscan_cpu.h"
#include "cpu/distance_tile.h"
#include "kernels/dbscan_math.cuh"

namespace embcluster {

void settle_band(float* d2, const float* x, const float* xn, int64_t ma, const float* y,
                 const float* yn, int64_t mb, int64_t d, float eps2) {
  const float xmax = *std::max_element(xn, xn + ma), ymax = *std::max_element(yn, yn + mb);
  const float e = static_cast<float>(rounding_scale(d) * (double(xmax) + ymax));
  const float lo = eps2 - e, hi = eps2 + e;
  for (int64_t i = 0; i < ma; ++i) {
    float* row = d2 + i * mb;
    int any = 0;
#pragma omp simd reduction(| : any)
    for (int64_t j = 0; j < mb; ++j) any |= (row[j] >= lo) & (row[j] <= hi);
    if (!any) continue;
    for (int64_t j = 0; j < mb; ++j)
      row[j] = kern::settled_sq_dist(row[j], lo, hi, x + i * d, y + j * d, d);
  }
}

void eps_distance_tile(const float* x, const float* xn, int64_t ma, const float* y, const float* yn,
                       int64_t mb, int64_t d, float eps2, float* d2) {
  sq_distance_tile(x, ma, xn, y, mb, yn, d, d2);
  settle_band(d2, x, xn, ma, y, yn, mb, d, eps2);
}

void query_distances(const float* q, const float* qn, int64_t nq, const float* x, const float* xn,
                     int64_t m, int64_t d, int threads,
                     const std::function<void(int64_t, int64_t, const float*, int64_t)>& fn) {
  constexpr int64_t kQ = kDbscanTileRows, kX = 1024;
#pragma omp parallel num_threads(threads)
  {
    std::vector<float> buf(static_cast<size_t>(kQ * kX));
    // Query tiles of kQ rows, each against every row in pieces of kX.
#pragma omp for schedule(dynamic, 1)
    for (int64_t q0 = 0; q0 < nq; q0 += kQ) {
      const int64_t nrows = std::min(kQ, nq - q0);
      for (int64_t j0 = 0; j0 < m; j0 += kX) {
        const int64_t len = std::min(kX, m - j0);
        sq_distance_tile(q + q0 * d, nrows, qn + q0, x + j0 * d, len, xn + j0, d, buf.data());
        for (int64_t i = 0; i < nrows; ++i) fn(q0 + i, j0, buf.data() + i * len, len);
      }
    }
  }
}

}  // namespace embcluster
