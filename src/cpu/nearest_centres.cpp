#include "cpu/nearest_centres.h"

#include <algorithm>
#include <limits>
#include <vector>

#include "cpu/distance_tile.h"

namespace embcluster {
namespace {

constexpr int64_t kRows = 256;      // rows per sgemm tile
constexpr int64_t kCentres = 2048;  // centres per sgemm tile

}  // namespace

void nearest_centres(const float* x, int64_t m, const float* c, int64_t k, int64_t d, int64_t p,
                     int threads, int64_t* out) {
  std::vector<float> cn(static_cast<size_t>(k));
  row_sq_norms(c, k, d, cn.data());
  const int64_t tiles = (m + kRows - 1) / kRows, kc = std::min(k, kCentres);
#pragma omp parallel num_threads(threads)
  {
    std::vector<float> xn(kRows), dist(static_cast<size_t>(kRows * kc));
    std::vector<float> best_v(static_cast<size_t>(kRows * p));
#pragma omp for schedule(dynamic, 1)
    for (int64_t t = 0; t < tiles; ++t) {
      const int64_t r0 = t * kRows, rows = std::min(kRows, m - r0);
      row_sq_norms(x + r0 * d, rows, d, xn.data());
      std::fill(best_v.begin(), best_v.end(), std::numeric_limits<float>::infinity());
      std::fill(out + r0 * p, out + (r0 + rows) * p, int64_t(-1));
      for (int64_t j0 = 0; j0 < k; j0 += kc) {
        const int64_t mc = std::min(kc, k - j0);
        sq_distance_tile(x + r0 * d, rows, xn.data(), c + j0 * d, mc, cn.data() + j0, d,
                         dist.data());
        for (int64_t i = 0; i < rows; ++i) {
          float* bv = best_v.data() + i * p;
          int64_t* bi = out + (r0 + i) * p;
          const float* row = dist.data() + i * mc;
          for (int64_t j = 0; j < mc; ++j) {
            const float v = row[j];
            if (!(v < bv[p - 1])) continue;  // ties keep the lower id already held
            int64_t at = p - 1;
            for (; at > 0 && v < bv[at - 1]; --at) {
              bv[at] = bv[at - 1];
              bi[at] = bi[at - 1];
            }
            bv[at] = v;
            bi[at] = j0 + j;
          }
        }
      }
    }
  }
}

}  // namespace embcluster
