// DBSCAN's rules (kernels/dbscan_rules.cuh), which every implementation of the passes follows, and
// a pass run through the DbscanPasses interface on its own.
#include <gtest/gtest.h>

#include <algorithm>

#include "algo/dbscan/dbscan_internal.h"
#include "backend/dbscan_passes.h"
#include "cpu/dbscan_cpu.h"
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
