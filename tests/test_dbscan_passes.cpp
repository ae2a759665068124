// DBSCAN's rules (kernels/dbscan_rules.cuh), which every implementation of the passes follows, and
// a pass run through the DbscanPasses interface on its own.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "algo/dbscan/dbscan_internal.h"
#include "backend/dbscan_passes.h"
#include "cpu/dbscan_cpu.h"
#include "cpu/dbscan_projection.h"
#include "cpu/distance_tile.h"
#include "dbscan_cases.h"
#include "dbscan_verifier.h"
#include "embcluster/dbscan.h"
#include "kernels/dbscan_rules.cuh"

using namespace embcluster;
using testutil::brute_distances;
using testutil::noisy_blobs;

TEST(DBSCANRules, WhatEachPassDoesWithAPairAndWhichTilePairsItNeeds) {
  EXPECT_TRUE(kern::dbscan_core(0, 1));  // min_samples 1: every row, with no count pass
  EXPECT_FALSE(kern::dbscan_core(4, 5));
  EXPECT_TRUE(kern::dbscan_core(5, 5));
  EXPECT_FALSE(kern::dbscan_counts(int64_t(3), int64_t(3)));  // the row itself counts once
  EXPECT_TRUE(kern::dbscan_counts(int64_t(3), int64_t(4)));
  for (bool a : {false, true}) {
    for (bool b : {false, true}) {
      EXPECT_EQ(kern::dbscan_joins(a, b), a && b);
      EXPECT_EQ(kern::dbscan_attaches(a, b), !a && b);
    }
  }
  EXPECT_EQ(kern::dbscan_attachment(int64_t(5), int64_t(3)), 3);
  EXPECT_EQ(kern::dbscan_attachment(int64_t(2), int64_t(3)), 2);
  // Tiles: core rows cs of ms and ct of mt.
  EXPECT_FALSE(kern::dbscan_tiles_join(1, 1, true));  // one core row alone in its tile
  EXPECT_TRUE(kern::dbscan_tiles_join(2, 2, true));
  EXPECT_TRUE(kern::dbscan_tiles_join(1, 1, false));
  EXPECT_FALSE(kern::dbscan_tiles_join(0, 5, false));
  EXPECT_FALSE(kern::dbscan_tile_attaches(3, 3, 1));  // every row of p core
  EXPECT_TRUE(kern::dbscan_tile_attaches(2, 3, 1));
  EXPECT_FALSE(kern::dbscan_tile_attaches(2, 3, 0));  // no core row in q
  EXPECT_TRUE(kern::dbscan_tiles_wanted(kern::kDbscanCount, 0, 4, 0, 4, false));
  EXPECT_FALSE(kern::dbscan_tiles_wanted(kern::kDbscanUnion, 1, 4, 0, 4, false));
  EXPECT_TRUE(kern::dbscan_tiles_wanted(kern::kDbscanBorder, 4, 4, 0, 4, false));
  EXPECT_TRUE(kern::dbscan_tiles_wanted(kern::kDbscanBorder, 0, 4, 4, 4, false));
  EXPECT_FALSE(kern::dbscan_tiles_wanted(kern::kDbscanBorder, 4, 4, 4, 4, false));
}

TEST(DBSCANPasses, CpuCountThroughTheInterfaceMatchesBruteForce) {
  // Streamed in several blocks; counts may stop growing once a tile's rows all reach
  // min_samples, so they are compared up to min_samples.
  const auto b = noisy_blobs(1500, 8, 4, 5);
  const double eps = 3.0;
  const int64_t min_samples = 6;
  auto src = memory_source(b.x.data(), b.n, b.d);
  DbscanTiles rows(*src, false, int64_t(16) << 10, 2);
  ASSERT_GT(rows.block_count(), 1);
  DbscanState st(b.n, rows.tile_total(), min_samples, dbscan_eps2(eps, Metric::Euclidean));
  const auto passes = make_cpu_dbscan_passes(rows, st, 2);
  EXPECT_EQ(passes->device_name(), "cpu (2 threads)");
  const DBSCANPassStats stats = passes->run(DbscanPass::count, nullptr);
  EXPECT_EQ(stats.pass, "count");
  EXPECT_EQ(stats.far + stats.near + stats.settled + stats.gemm, stats.tile_pairs);
  const auto dist = brute_distances(b.x, b.n, b.d, false);
  for (int64_t i = 0; i < b.n; ++i) {
    int64_t want = 0;
    for (int64_t j = 0; j < b.n; ++j) want += dist[i * b.n + j] <= eps;
    const int64_t got = st.count[i].load();
    ASSERT_EQ(std::min(got, min_samples), std::min(want, min_samples)) << "row " << i;
    ASSERT_LE(got, want) << "row " << i;
  }
}

namespace {

// Rows like image descriptors: blobs whose spread falls off across the dimensions, so that a few
// principal directions carry most of every distance (projections pay), with every 7th row noise.
testutil::Blobs descriptor_like(int64_t n, int64_t d, uint64_t seed) {
  testutil::Blobs b;
  b.n = n;
  b.d = d;
  b.x.resize(static_cast<size_t>(n * d));
  uint64_t s = seed;
  auto uniform = [&s] {  // splitmix64 to [-1, 1)
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return double((z ^ (z >> 31)) >> 11) * 0x1.0p-52 - 1.0;
  };
  const int k = 12;
  std::vector<double> centres(static_cast<size_t>(k * d));
  for (int64_t j = 0; j < k * d; ++j) centres[j] = 40 * uniform() * std::pow(0.9, double(j % d));
  for (int64_t i = 0; i < n; ++i) {
    const double spread = i % 7 == 0 ? 12.0 : 1.0;
    for (int64_t j = 0; j < d; ++j)
      b.x[i * d + j] =
          float(centres[(i % k) * d + j] +
                spread * (uniform() + uniform() + uniform()) * std::pow(0.93, double(j)));
  }
  return b;
}

// eps: the median distance of a row to its 10th nearest row (itself included).
double median_kth(const std::vector<double>& dist, int64_t n, int64_t k) {
  std::vector<double> kth, row;
  for (int64_t i = 0; i < n; ++i) {
    row.assign(dist.begin() + i * n, dist.begin() + (i + 1) * n);
    std::nth_element(row.begin(), row.begin() + (k - 1), row.end());
    kth.push_back(row[k - 1]);
  }
  std::nth_element(kth.begin(), kth.begin() + n / 2, kth.end());
  return kth[n / 2];
}

}  // namespace

// Rows y = x + t u for some rows x of b, with t the largest step that keeps y within eps of x
// (sq_l2 <= eps2): pairs on the edge of eps along direction u (d values).
void add_edge_pairs(testutil::Blobs& b, const std::vector<double>& u, float eps2, int count) {
  const int64_t d = b.d;
  std::vector<float> y(static_cast<size_t>(d));
  for (int c = 0; c < count; ++c) {
    const std::vector<float> x(b.x.begin() + (c * 97) * d, b.x.begin() + (c * 97 + 1) * d);
    auto step = [&](double t) {
      for (int64_t j = 0; j < d; ++j) y[j] = float(x[j] + t * u[j]);
      return kern::sq_l2(x.data(), y.data(), d) <= eps2;
    };
    double lo = 0, hi = 2 * std::sqrt(double(eps2));
    for (int it = 0; it < 100; ++it) (step((lo + hi) / 2) ? lo : hi) = (lo + hi) / 2;
    step(lo);
    b.x.insert(b.x.end(), y.begin(), y.end());
    ++b.n;
  }
}

TEST(DBSCANPasses, ProjectedDistancesNeverExceedTheirLimitForAPairWithinEps) {
  auto b = descriptor_like(2400, 64, 3);
  const double eps = median_kth(brute_distances(b.x, b.n, b.d, false), b.n, 10);
  const float eps2 = dbscan_eps2(eps, Metric::Euclidean);
  {  // pairs on the edge of eps along the leading direction: projected, nearly as far as eps
    const DbscanProjection first = fit_dbscan_projection(b.x.data(), b.n, b.d, eps2, 2);
    ASSERT_TRUE(first.active());
    add_edge_pairs(b, std::vector<double>(first.basis.begin(), first.basis.begin() + b.d), eps2,
                   24);
  }
  auto src = memory_source(b.x.data(), b.n, b.d);
  DbscanTiles rows(*src, false, int64_t(1) << 30, 2);
  const auto blk = rows.load(0);
  const DbscanProjection pr = fit_dbscan_projection(blk->data.data(), blk->rows, b.d, eps2, 2);
  ASSERT_TRUE(pr.active()) << "expected saving " << pr.expected_saving;
  EXPECT_LT(pr.k, b.d);
  const ProjectedBlock pb = project_block(pr, rows, *blk, 2);
  const float scale = static_cast<float>(rounding_scale(b.d));
  std::vector<float> v(static_cast<size_t>(kDbscanTileRows * kDbscanTileRows));
  int64_t within = 0, pruned = 0, pairs = 0, edge = 0;
  for (int64_t s = 0; s < rows.tile_total(); ++s) {
    for (int64_t t = s; t < rows.tile_total(); ++t) {
      const TileInfo &ts = rows.tile(s), &tt = rows.tile(t);
      sq_distance_tile(pb.p.data() + ts.begin * pr.k, ts.rows(), pb.norms.data() + ts.begin,
                       pb.p.data() + tt.begin * pr.k, tt.rows(), pb.norms.data() + tt.begin, pr.k,
                       v.data());
      const float lim = projected_limit(pr, pb, s, pb, t);
      for (int64_t i = 0; i < ts.rows(); ++i) {
        for (int64_t j = 0; j < tt.rows(); ++j) {
          const float* x = blk->data.data() + (ts.begin + i) * b.d;
          const float* y = blk->data.data() + (tt.begin + j) * b.d;
          const bool in = kern::sq_l2(x, y, b.d) <= eps2;
          ASSERT_EQ(within_eps(x, blk->norms[ts.begin + i], y, blk->norms[tt.begin + j], b.d, eps2,
                               scale),
                    in);
          ++pairs;
          within += in;
          pruned += v[i * tt.rows() + j] > lim;
          if (in) ASSERT_LE(v[i * tt.rows() + j], lim) << "tiles " << s << ", " << t;
          edge += in && v[i * tt.rows() + j] > 0.95f * lim;
        }
      }
    }
  }
  EXPECT_GT(within, 0);
  EXPECT_GE(edge, 12);           // the limit is not loose
  EXPECT_GT(pruned, pairs / 2);  // the projections do prune
}

TEST(DBSCANPasses, BorderRowsTakeTheirClusterFromTheNeighboursTheCountPassKept) {
  const auto b = descriptor_like(2400, 64, 5);
  const auto dist = brute_distances(b.x, b.n, b.d, false);
  const double eps = median_kth(dist, b.n, 10);
  const int64_t min_samples = 10;
  // Resident and streamed rows with room beside them for the neighbour slots and the projected
  // rows; then resident rows with none (the full tiles and the border pass's distances).
  const int64_t room = int64_t(4) << 20, rows_bytes = b.n * (b.d * 4 + 4);
  for (const auto [budget, spare] :
       {std::pair{int64_t(1) << 30, room}, {int64_t(500) << 10, room}, {rows_bytes, int64_t(0)}}) {
    auto src = memory_source(b.x.data(), b.n, b.d);
    DbscanTiles rows(*src, false, budget, 2);
    DbscanState st(b.n, rows.tile_total(), min_samples, dbscan_eps2(eps, Metric::Euclidean));
    const auto passes = make_cpu_dbscan_passes(rows, st, 2, budget + spare);
    const auto notes = passes->notes();  // mixed tile pairs through the projections
    ASSERT_EQ(notes.size(), spare ? 1u : 0u);
    if (spare) EXPECT_EQ(notes[0].first, "projection_dims");
    passes->run(DbscanPass::count, nullptr);
    for (int64_t i = 0; i < b.n; ++i)
      st.core[i] = kern::dbscan_core(st.count[i].load(), min_samples);
    passes->run(DbscanPass::union_core, nullptr);
    st.uf.flatten();
    const DBSCANPassStats border = passes->run(DbscanPass::border, nullptr);
    // Blocks of 500 rows or more: projections from the first (resident: every row).
    EXPECT_EQ(rows.resident(), budget >= rows_bytes);
    EXPECT_GE(rows.block_rows(), 512);
    EXPECT_EQ(rows.block_count() > 1, !rows.resident());
    if (spare)
      EXPECT_EQ(border.gemm + border.near, 0);  // the neighbours fit: no distances
    else
      EXPECT_GT(border.gemm, 0);
    DBSCANResult res;
    dbscan_labels(st, &res);
    EXPECT_GT(res.n_core, b.n / 4);
    EXPECT_GT(res.n_noise, 0);
    EXPECT_EQ(testutil::verify_dbscan(dist, b.n, eps, min_samples, res.labels, res.core), "")
        << "budget " << budget << " + " << spare;
  }
}
