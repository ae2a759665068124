// The cluster sums as the CUDA backend makes them (rows grouped per unit and cluster, the units
// made apart then added in unit order, with kernels/unit_sums.cuh's arithmetic) equal the CPU
// backend's bit for bit, on real-valued data, with and without weights, across pieces and blocks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "backend/kmeans_backend.h"
#include "core/piece_tree.h"
#include "kernels/unit_sums.cuh"

using namespace embcluster;

namespace {

struct Pass {
  std::vector<int32_t> labels;
  std::vector<float> dist;
  ClusterSums sums;
};

// One pass of the CPU backend over blocks of block_rows rows.
Pass cpu_pass(const std::vector<float>& x, int64_t n, int64_t d, const std::vector<float>& centres,
              int64_t k, int64_t block_rows, const double* w, int threads) {
  auto be = make_cpu_kmeans_backend(threads);
  if (w) be->set_weights(w);
  Pass p;
  p.labels.assign(static_cast<size_t>(n), -1);
  p.dist.assign(static_cast<size_t>(n), -1.0f);
  be->set_centroids(centres.data(), k, d);
  p.sums.reset(k, d);
  be->begin_pass(&p.sums);
  for (int64_t b = 0, start = 0; start < n; ++b, start += block_rows) {
    const Block blk{b, start, std::min(block_rows, n - start), d, x.data() + start * d};
    be->assign(blk, p.labels.data() + start, p.dist.data() + start, &p.sums);
  }
  be->end_pass(&p.sums);
  p.sums.finish();
  return p;
}

// The device's schedule on the host: chunks of chunk_rows rows (within a piece); per chunk the
// rows of each (unit, cluster) in row order; each unit's sums made from zero with the shared
// arithmetic, then added to the piece in unit order.
ClusterSums device_schedule(const std::vector<float>& x, int64_t n, int64_t d, int64_t k,
                            const Pass& cpu, const double* w, int64_t chunk_rows) {
  ClusterSums s;
  s.reset(k, d);
  for (int64_t c0 = 0, rows = 0; c0 < n; c0 += rows) {
    const int64_t piece = c0 / kSumPieceRows;
    rows = std::min({chunk_rows, n - c0, (piece + 1) * kSumPieceRows - c0});
    s.start_piece(piece);
    const float* xc = x.data() + c0 * d;
    const double* wc = w ? w + c0 : nullptr;
    for (int64_t u0 = 0; u0 < rows; u0 += kern::kUnitRows) {
      const int64_t u1 = std::min(rows, u0 + kern::kUnitRows);
      for (int64_t c = 0; c < k; ++c) {
        std::vector<int32_t> seg;  // chunk-local rows of cluster c in this unit, in row order
        for (int64_t i = u0; i < u1; ++i)
          if (cpu.labels[c0 + i] == c) seg.push_back(static_cast<int32_t>(i));
        if (seg.empty()) continue;
        const int32_t count = static_cast<int32_t>(seg.size());
        for (int64_t j = 0; j < d; ++j)
          s.sums[c * d + j] += kern::unit_column_sum(xc, d, seg.data(), count, j, wc);
        double sq = 0, weight = 0;
        kern::unit_sq_and_weight(cpu.dist.data() + c0, seg.data(), count, wc, &sq, &weight);
        s.sq_dist[c] += sq;
        s.weight[c] += weight;
        s.counts[c] += count;
      }
    }
  }
  s.finish();
  return s;
}

TEST(UnitSums, TheDeviceScheduleEqualsTheCpuBitForBit) {
  // Rows across two pieces (the second partial), blocks of three units, centres at different
  // scales so that float runs round; one cluster holds most rows.
  const int64_t n = kSumPieceRows + 5 * kern::kUnitRows + 123, d = 37, k = 9;
  std::mt19937 gen(7);
  std::normal_distribution<float> noise(0.0f, 1.0f);
  std::vector<float> centres(static_cast<size_t>(k * d));
  for (int64_t c = 0; c < k; ++c)
    for (int64_t j = 0; j < d; ++j) centres[c * d + j] = 3.0f * (c + 1) * noise(gen);
  std::vector<float> x(static_cast<size_t>(n * d));
  std::uniform_int_distribution<int> pick(0, 3 * static_cast<int>(k));
  for (int64_t i = 0; i < n; ++i) {
    const int64_t c = pick(gen) < 2 * k ? 0 : pick(gen) % k;  // two thirds in cluster 0
    for (int64_t j = 0; j < d; ++j) x[i * d + j] = centres[c * d + j] + 0.7f * noise(gen);
  }
  std::vector<double> w(static_cast<size_t>(n));
  std::uniform_real_distribution<double> uw(0.05, 3.0);
  for (auto& v : w) v = uw(gen);

  const double* no_weights = nullptr;
  for (const double* weights : {no_weights, static_cast<const double*>(w.data())}) {
    const Pass cpu = cpu_pass(x, n, d, centres, k, 3 * kern::kUnitRows, weights, 2);
    const Pass one = cpu_pass(x, n, d, centres, k, 7 * kern::kUnitRows, weights, 1);
    ASSERT_EQ(one.sums.sums, cpu.sums.sums) << "threads and blocks must not change the sums";
    const int64_t big = *std::max_element(cpu.sums.counts.begin(), cpu.sums.counts.end());
    EXPECT_GT(big, n / 3) << "one cluster holds most rows";
    for (const int64_t chunk : {kern::kUnitRows, 4 * kern::kUnitRows, kSumPieceRows}) {
      const ClusterSums dev = device_schedule(x, n, d, k, cpu, weights, chunk);
      const char* what = weights ? "weighted" : "plain";
      EXPECT_EQ(dev.sums, cpu.sums.sums) << what << " chunk " << chunk;
      EXPECT_EQ(dev.sq_dist, cpu.sums.sq_dist) << what << " chunk " << chunk;
      EXPECT_EQ(dev.weight, cpu.sums.weight) << what << " chunk " << chunk;
      EXPECT_EQ(dev.counts, cpu.sums.counts) << what << " chunk " << chunk;
    }
  }
}

// The order matters: the same rows summed in one double chain (no float runs) differ from the
// unit sums in some bits, so the test above can tell a schedule that is not the CPU's.
TEST(UnitSums, FloatRunsChangeTheBits) {
  const int64_t n = 4000, d = 1;
  std::mt19937 gen(3);
  std::normal_distribution<float> v(10.0f, 3.0f);
  std::vector<float> x(static_cast<size_t>(n));
  for (auto& e : x) e = v(gen);
  std::vector<int32_t> rows(static_cast<size_t>(n));
  for (int32_t i = 0; i < n; ++i) rows[i] = i;
  double chain = 0;
  for (const float e : x) chain += static_cast<double>(e);
  EXPECT_NE(kern::unit_column_sum(x.data(), d, rows.data(), int32_t(n), 0, nullptr), chain);
}

}  // namespace
