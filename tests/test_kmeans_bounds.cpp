// K-means' distance bounds (elkan, hamerly, yinyang, auto) give Lloyd's run bit for bit, and every
// label is the centre of least exact distance (lowest index on ties), whichever path measured it.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "algo/kmeans/kmeans_common.h"
#include "cpu/centre_groups.h"
#include "cpu/exact_distance.h"
#include "embcluster/error.h"
#include "embcluster/kmeans.h"
#include "kernels/distance.cuh"
#include "testutil.h"

using namespace embcluster;
using testutil::make_blobs;

namespace {

const KMeansAlgorithm kBounded[] = {KMeansAlgorithm::Hamerly, KMeansAlgorithm::Elkan,
                                    KMeansAlgorithm::Yinyang, KMeansAlgorithm::Auto};

KMeansResult run(const std::vector<float>& x, int64_t n, int64_t d, int64_t k, KMeansAlgorithm a,
                 int threads = 2, int64_t budget = 0, int max_iter = 40) {
  auto src = memory_source(x.data(), n, d);
  KMeansParams p;
  p.n_clusters = k;
  p.seed = 11;
  p.max_iter = max_iter;
  p.algorithm = a;
  ExecutionContext ctx;
  ctx.device = parse_device("cpu");
  ctx.threads = threads;
  if (budget > 0) ctx.memory_budget = budget;
  return kmeans(*src, p, ctx);
}

std::string note(const KMeansResult& r, const std::string& name) {
  for (const auto& [k, v] : r.notes)
    if (k == name) return v;
  return "";
}

void expect_lloyds_run(const KMeansResult& lloyd, const KMeansResult& r, const std::string& what) {
  EXPECT_EQ(lloyd.labels, r.labels) << what;
  EXPECT_EQ(lloyd.centroids, r.centroids) << what;
  EXPECT_EQ(lloyd.inertia, r.inertia) << what;
  EXPECT_EQ(lloyd.iterations, r.iterations) << what;
  ASSERT_EQ(lloyd.history.size(), r.history.size()) << what;
  for (size_t i = 0; i < r.history.size(); ++i)
    EXPECT_EQ(lloyd.history[i].inertia, r.history[i].inertia) << what << " iteration " << i;
}

// Every row's label is the centre of least sq_l2_lanes, lowest index on ties.
void expect_exact_labels(const std::vector<float>& x, int64_t n, int64_t d, const KMeansResult& r) {
  const int64_t k = static_cast<int64_t>(r.centroids.size()) / d;
  int64_t wrong = 0;
  for (int64_t i = 0; i < n; ++i) {
    float best = std::numeric_limits<float>::infinity();
    int64_t arg = -1;
    for (int64_t j = 0; j < k; ++j) {
      const float v = kern::sq_l2_lanes(x.data() + i * d, r.centroids.data() + j * d, d);
      if (v < best) best = v, arg = j;
    }
    wrong += arg != r.labels[i];
  }
  EXPECT_EQ(wrong, 0);
}

}  // namespace

TEST(KMeansBounds, ExactDistanceIsTheLanesDefinitionBitForBit) {
  std::mt19937 gen(5);
  std::normal_distribution<float> nd(0.0f, 3.0f);
  for (int64_t d : {1, 5, 8, 9, 31, 32, 33, 63, 64, 100, 128, 385, 784, 1024}) {
    std::vector<float> a(static_cast<size_t>(d)), b(static_cast<size_t>(d));
    for (int rep = 0; rep < 20; ++rep) {
      for (auto& v : a) v = nd(gen);
      for (auto& v : b) v = nd(gen) + 1e3f * static_cast<float>(rep % 3);
      const float lanes = kern::sq_l2_lanes(a.data(), b.data(), d);
      EXPECT_EQ(exact_sq_l2(a.data(), b.data(), d), lanes) << "d=" << d;
      double ref = 0;
      for (int64_t t = 0; t < d; ++t) ref += double(a[t] - b[t]) * double(a[t] - b[t]);
      EXPECT_NEAR(lanes, ref, 1e-5 * ref + 1e-30) << "d=" << d;
    }
  }
}

TEST(KMeansBounds, EveryAlgorithmGivesLloydsRun) {
  // Overlapping blobs: many iterations in which rows change clusters.
  auto b = make_blobs(20000, 16, 30, 3, 4.0f, 10.0f);
  const auto lloyd = run(b.x, b.n, b.d, 30, KMeansAlgorithm::Lloyd);
  EXPECT_EQ(note(lloyd, "algorithm"), "lloyd");
  EXPECT_GT(lloyd.iterations, 10);
  for (const auto a : kBounded) {
    const auto r = run(b.x, b.n, b.d, 30, a);
    EXPECT_NE(note(r, "algorithm"), "lloyd") << to_string(a);
    EXPECT_FALSE(note(r, "distances computed").empty()) << to_string(a);
    expect_lloyds_run(lloyd, r, to_string(a));
  }
  expect_exact_labels(b.x, b.n, b.d, lloyd);
}

TEST(KMeansBounds, SameRunWithOneThreadAndStreamed) {
  auto b = make_blobs(30000, 12, 25, 8, 3.0f, 8.0f);
  const auto lloyd = run(b.x, b.n, b.d, 25, KMeansAlgorithm::Lloyd);
  // Blocks of a few thousand rows: each keeps its own bounds.
  const int64_t budget = 8 * 1024 * 1024;
  expect_lloyds_run(lloyd, run(b.x, b.n, b.d, 25, KMeansAlgorithm::Yinyang, 1, budget),
                    "yinyang, 1 thread, streamed");
  expect_lloyds_run(lloyd, run(b.x, b.n, b.d, 25, KMeansAlgorithm::Elkan, 3, budget),
                    "elkan, 3 threads, streamed");
}

TEST(KMeansBounds, FarFromTheOriginAndTiedRowsKeepLloydsLabels) {
  // Embedding-like rows: a large common offset, so that ||x||^2 dwarfs the distances between
  // clusters and the sgemm values carry large rounding errors; plus exact duplicates of a few rows,
  // whose ties every path must break the same way.
  const int64_t n = 12000, d = 96, k = 40;
  auto b = make_blobs(n, d, k, 21, 1.0f, 3.0f);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t t = 0; t < d; ++t) b.x[i * d + t] += 200.0f + static_cast<float>(t % 7);
  for (int64_t i = 0; i < n; i += 97)
    std::copy(b.x.begin() + (i / 2) * d, b.x.begin() + (i / 2 + 1) * d, b.x.begin() + i * d);
  const auto lloyd = run(b.x, n, d, k, KMeansAlgorithm::Lloyd);
  expect_exact_labels(b.x, n, d, lloyd);
  for (const auto a : kBounded) expect_lloyds_run(lloyd, run(b.x, n, d, k, a), to_string(a));
}

TEST(KMeansBounds, IntegerGridTiesBreakToTheLowestCentre) {
  // Rows on a small integer grid: many rows lie at exactly equal distances from two centres.
  const int64_t n = 6000, d = 3, k = 12;
  std::vector<float> x(static_cast<size_t>(n * d));
  std::mt19937 gen(3);
  for (auto& v : x) v = static_cast<float>(gen() % 5);
  const auto lloyd = run(x, n, d, k, KMeansAlgorithm::Lloyd);
  expect_exact_labels(x, n, d, lloyd);
  for (const auto a : kBounded) expect_lloyds_run(lloyd, run(x, n, d, k, a), to_string(a));
}

TEST(KMeansBounds, GroupsFollowTheAlgorithmAndTheBudget) {
  const int64_t gib = int64_t(1) << 30;
  EXPECT_EQ(bound_groups(KMeansAlgorithm::Lloyd, 1000, 50, 128, gib).groups, 0);
  EXPECT_EQ(bound_groups(KMeansAlgorithm::Hamerly, 1000, 50, 128, gib).groups, 1);
  EXPECT_EQ(bound_groups(KMeansAlgorithm::Elkan, 1000, 50, 128, gib).groups, 50);
  EXPECT_EQ(bound_groups(KMeansAlgorithm::Yinyang, 1000, 50, 128, gib).groups, 5);
  EXPECT_EQ(bound_groups(KMeansAlgorithm::Auto, 1000, 50, 1024, gib).name, "elkan");
  EXPECT_EQ(bound_groups(KMeansAlgorithm::Auto, 1000, 1000, 1024, gib).groups, 100);
  // No more than an eighth of a row's size: 128 dimensions, 16 groups.
  EXPECT_EQ(bound_groups(KMeansAlgorithm::Auto, 1000, 1000, 128, gib).groups, 16);
  EXPECT_EQ(bound_groups(KMeansAlgorithm::Yinyang, 1000, 1000, 128, gib).groups, 100);
  EXPECT_EQ(bound_groups(KMeansAlgorithm::Auto, 1000, 1, 128, gib).name, "lloyd");
  // 1,000,000 rows in a 64 MiB budget: 32 MiB for the bounds = 8 values per row.
  const auto fit = bound_groups(KMeansAlgorithm::Auto, 1000000, 1000, 128, 64 << 20);
  EXPECT_EQ(fit.groups, 7);
  EXPECT_EQ(bound_groups(KMeansAlgorithm::Auto, 1000000, 1000, 128, 4 << 20).name, "lloyd");
  try {
    bound_groups(KMeansAlgorithm::Elkan, 1000000, 1000, 128, 64 << 20);
    FAIL() << "elkan over the budget must throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("algorithm='elkan'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("memory budget"), std::string::npos) << e.what();
  }
}

TEST(KMeansBounds, CentreGroupsPartitionTheCentres) {
  auto b = make_blobs(500, 8, 10, 2);
  for (int64_t groups : {1, 3, 7, 500, 1000}) {
    const CentreGroups g = group_centres(b.x.data(), 500, 8, groups);
    ASSERT_LE(g.groups(), std::min<int64_t>(groups, 500));
    ASSERT_GE(g.groups(), 1);
    std::vector<int> seen(500, 0);
    for (int64_t p = 0; p < 500; ++p) {
      ++seen[g.order[p]];
      EXPECT_GE(p, g.start[g.group_of[p]]);
      EXPECT_LT(p, g.start[g.group_of[p] + 1]);
    }
    for (int s : seen) EXPECT_EQ(s, 1);
  }
}
