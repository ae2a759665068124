// K-means on the CPU: exactness against scikit-learn, determinism, streaming, bad parameters.
#include <gtest/gtest.h>

#include <limits>

#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "backend/kmeans_backend.h"
#include "core/feature_stats.h"
#include "algo/kmeans/kmeans_common.h"
#include "algo/kmeans/kmeans_init.h"
#include "cpu/distance_tile.h"
#include "embcluster/error.h"
#include "embcluster/kmeans.h"
#include "embcluster/prepare.h"
#include "testutil.h"

using namespace embcluster;
using testutil::adjusted_rand_index;
using testutil::cpu_context;
using testutil::make_blobs;

namespace {

KMeansParams cpu_params(int64_t k) {
  KMeansParams p;
  p.n_clusters = k;
  p.seed = 7;
  return p;
}

// Two runs that must agree bit for bit.
void expect_same_run(const KMeansResult& a, const KMeansResult& b) {
  EXPECT_EQ(a.labels, b.labels);
  EXPECT_EQ(a.centroids, b.centroids);
  EXPECT_EQ(a.inertia, b.inertia);
  EXPECT_EQ(a.iterations, b.iterations);
}

}  // namespace

TEST(KMeans, SeparatedBlobsAreRecoveredExactly) {
  auto b = make_blobs(6000, 24, 6, 1);
  auto src = memory_source(b.x.data(), b.n, b.d);
  auto p = cpu_params(6);
  ExecutionContext ctx = cpu_context();
  auto r = kmeans(*src, p, ctx);
  EXPECT_DOUBLE_EQ(adjusted_rand_index(r.labels, b.labels), 1.0);
  EXPECT_TRUE(r.converged);
  int64_t total = 0;
  for (auto s : r.sizes) total += s;
  EXPECT_EQ(total, b.n);
  EXPECT_EQ(r.centroids.size(), size_t(6 * 24));
}

TEST(KMeans, WineStandardisedMatchesScikitLearn) {
  const std::string dir = EMBCLUSTER_TEST_DATA;
  auto src = prepare_source(open_source(dir + "/wine.csv"), "standard");
  ASSERT_EQ(src->rows(), 178);
  ASSERT_EQ(src->cols(), 13);
  const auto ref = nlohmann::json::parse(testutil::read_text(dir + "/wine_kmeans_ref.json"));
  // Initial centres: the same rows scikit-learn started from, written to a file.
  testutil::TempDir tmp;
  const auto x = read_all(*src);
  std::vector<float> init;
  for (int r : ref["init_rows"])
    init.insert(init.end(), x.begin() + r * 13, x.begin() + (r + 1) * 13);
  testutil::write_h5_f32(tmp.file("init.h5"), "/c", init, 3, 13);
  auto p = cpu_params(3);
  ExecutionContext ctx = cpu_context();
  p.init = InitMethod::File;
  p.init_file = tmp.file("init.h5") + ":/c";
  auto r = kmeans(*src, p, ctx);
  const double want = ref["inertia"];
  EXPECT_NEAR(r.inertia, want, 1e-5 * want);
  EXPECT_EQ(r.iterations, ref["n_iter"].get<int>());
  std::vector<int32_t> want_labels = ref["labels"].get<std::vector<int32_t>>();
  EXPECT_EQ(r.labels, want_labels);
  const auto centers = ref["centers"];
  for (int c = 0; c < 3; ++c)
    for (int j = 0; j < 13; ++j)
      EXPECT_NEAR(r.centroids[c * 13 + j], centers[c][j].get<double>(), 1e-4);
}

TEST(KMeans, DeterministicAcrossThreadCounts) {
  auto b = make_blobs(20000, 16, 30, 3, 4.0f, 10.0f);  // overlapping blobs: many iterations
  auto src = memory_source(b.x.data(), b.n, b.d);
  auto p = cpu_params(30);
  ExecutionContext ctx = cpu_context();
  p.max_iter = 25;
  ctx.threads = 1;
  auto one = kmeans(*src, p, ctx);
  ctx.threads = 2;
  auto two = kmeans(*src, p, ctx);
  ctx.threads = 3;
  auto three = kmeans(*src, p, ctx);
  EXPECT_EQ(one.labels, two.labels);
  EXPECT_EQ(one.centroids, two.centroids);
  EXPECT_EQ(one.inertia, two.inertia);
  EXPECT_EQ(one.centroids, three.centroids);
  EXPECT_EQ(one.inertia, three.inertia);
}

TEST(KMeansCommon, RelocationCentresAndShift) {
  // Four rows, three clusters, cluster 2 empty: it takes the farthest row (row 2, the lower of
  // the two farthest), which leaves cluster 1's sums.
  std::vector<float> x = {0, 0, 2, 0, 10, 0, 12, 0};
  auto src = memory_source(x.data(), 4, 2);
  const std::vector<int32_t> labels = {0, 0, 1, 1};
  const std::vector<float> dist = {1, 1, 4, 4};
  EXPECT_EQ(farthest_rows(dist, 3), (std::vector<int64_t>{2, 3, 0}));
  ClusterSums s;
  s.reset(3, 2);
  s.sums = {2, 0, 22, 0, 0, 0};
  s.counts = {2, 2, 0};
  s.weight = {2, 2, 0};
  EXPECT_EQ(relocate_empty_clusters(s, labels, dist, 0, *src, nullptr), 1);
  EXPECT_EQ(s.counts, (std::vector<int64_t>{2, 1, 1}));
  EXPECT_EQ(s.weight, (std::vector<double>{2, 1, 1}));
  const std::vector<float> old = {5, 5, 5, 5, 5, 5};
  const std::vector<float> next = centres_from_sums(old, s);
  EXPECT_EQ(next, (std::vector<float>{1, 0, 12, 0, 10, 0}));
  s.weight[2] = 0;  // a cluster that stays empty (no weight) keeps its centre
  EXPECT_EQ(centres_from_sums(old, s)[4], 5.0f);
  EXPECT_DOUBLE_EQ(centre_shift(old, next), 16 + 25 + 49 + 25 + 25 + 25);
  EXPECT_TRUE(converged(labels, labels, 1e9, 0));
  EXPECT_TRUE(converged(labels, {}, 1.0, 1.0));
  EXPECT_FALSE(converged(labels, {}, 1.5, 1.0));
}

TEST(KMeans, StreamedEqualsInMemory) {
  auto b = make_blobs(50000, 8, 20, 4, 3.0f, 6.0f);
  auto src = memory_source(b.x.data(), b.n, b.d);
  auto p = cpu_params(20);
  ExecutionContext ctx = cpu_context();
  p.max_iter = 30;
  p.init_sample = 20000;
  auto resident = kmeans(*src, p, ctx);
  EXPECT_FALSE(resident.streamed);
  ctx.memory_budget = 300 * 1024;  // far below the 1.6 MB of data: blocks of 4096 rows
  auto streamed = kmeans(*src, p, ctx);
  EXPECT_TRUE(streamed.streamed);
  expect_same_run(resident, streamed);
}

TEST(KMeans, InertiaIsTheSumOfSquaredDistances) {
  auto b = make_blobs(3000, 5, 4, 9, 2.0f, 5.0f);
  auto src = memory_source(b.x.data(), b.n, b.d);
  auto r = kmeans(*src, cpu_params(4), cpu_context());
  double want = 0;
  for (int64_t i = 0; i < b.n; ++i) {
    const int c = r.labels[i];
    double best = 1e300, mine = 0;
    for (int cc = 0; cc < 4; ++cc) {
      double s = 0;
      for (int j = 0; j < 5; ++j) {
        const double t = b.x[i * 5 + j] - r.centroids[cc * 5 + j];
        s += t * t;
      }
      if (cc == c) mine = s;
      best = std::min(best, s);
    }
    // Every row's label is its nearest centre.
    ASSERT_LE(mine, best * (1 + 1e-5) + 1e-6) << "row " << i;
    want += mine;
  }
  EXPECT_NEAR(r.inertia, want, 1e-5 * want);
}

TEST(KMeans, EmptyClustersTakeTheFarthestRows) {
  // Two identical initial centres: the second gets no rows and must be re-seeded.
  auto b = make_blobs(2000, 4, 3, 11);
  auto src = memory_source(b.x.data(), b.n, b.d);
  testutil::TempDir tmp;
  std::vector<float> init = {b.x[0], b.x[1], b.x[2], b.x[3], b.x[0], b.x[1],
                             b.x[2], b.x[3], b.x[4], b.x[5], b.x[6], b.x[7]};
  testutil::write_h5_f32(tmp.file("init.h5"), "/c", init, 3, 4);
  auto p = cpu_params(3);
  ExecutionContext ctx = cpu_context();
  p.init = InitMethod::File;
  p.init_file = tmp.file("init.h5") + ":/c";
  auto r = kmeans(*src, p, ctx);
  EXPECT_GE(r.empty_cluster_relocations, 1);
  for (auto s : r.sizes) EXPECT_GT(s, 0);
  EXPECT_DOUBLE_EQ(adjusted_rand_index(r.labels, b.labels), 1.0);
}

TEST(KMeans, RandomInitAndSeveralRunsKeepTheBest) {
  auto b = make_blobs(4000, 6, 8, 12, 1.5f, 8.0f);
  auto src = memory_source(b.x.data(), b.n, b.d);
  auto p = cpu_params(8);
  ExecutionContext ctx = cpu_context();
  p.init = InitMethod::Random;
  p.n_init = 4;
  auto r = kmeans(*src, p, ctx);
  ASSERT_EQ(r.run_inertia.size(), 4u);
  for (double v : r.run_inertia) EXPECT_LE(r.inertia, v);
  EXPECT_EQ(r.inertia, r.run_inertia[r.best_run]);
}

TEST(KMeans, KMeansPlusPlusPicksDistinctValidRows) {
  auto b = make_blobs(5000, 10, 12, 13);
  auto be = make_cpu_kmeans_backend(2);
  Rng rng(5);
  auto rows = kmeans_plus_plus(b.x.data(), b.n, b.d, 12, rng, *be, 2);
  ASSERT_EQ(rows.size(), 12u);
  std::set<int64_t> distinct(rows.begin(), rows.end());
  EXPECT_EQ(distinct.size(), 12u);
  std::set<int32_t> blobs;
  for (auto r : rows) {
    ASSERT_GE(r, 0);
    ASSERT_LT(r, b.n);
    blobs.insert(b.labels[r]);
  }
  EXPECT_GE(blobs.size(), 11u);  // on separated blobs, k-means++ spreads over (almost) all blobs
}

TEST(KMeans, DistancesToFewRowsEqualTheSgemmTile) {
  // The k-means++ candidates' distances (no sgemm) against the BLAS tile, for every remainder of
  // the four-row groups.
  const auto b = testutil::make_blobs(300, 37, 3, 4);
  std::vector<float> xn(b.n);
  row_sq_norms(b.x.data(), b.n, b.d, xn.data());
  for (int64_t m : {1, 3, 4, 5, 9, 13}) {
    const float* y = b.x.data() + 100 * b.d;  // rows 100.. as the candidates
    std::vector<float> want(b.n * m), got(b.n * m, -1.0f);
    sq_distance_tile(b.x.data(), b.n, xn.data(), y, m, xn.data() + 100, b.d, want.data());
    sq_distances_to_few(b.x.data(), b.n, xn.data(), y, m, xn.data() + 100, b.d, got.data());
    // Both are expansions ||x||^2 + ||y||^2 - 2 x.y: they differ by the dot products' rounding.
    for (int64_t i = 0; i < b.n; ++i)
      for (int64_t j = 0; j < m; ++j)
        ASSERT_NEAR(got[i * m + j], want[i * m + j], 1e-6f * (xn[i] + xn[100 + j]))
            << "m " << m << " row " << i << " candidate " << j;
    EXPECT_LE(got[100 * m], 1e-6f * 2 * xn[100]);  // a row against itself
  }
}

TEST(KMeans, SampleRowsAreDistinctSortedAndUniform) {
  Rng rng(1);
  auto s = sample_rows(1000, 500, rng);
  ASSERT_EQ(s.size(), 500u);
  for (size_t i = 1; i < s.size(); ++i) ASSERT_LT(s[i - 1], s[i]);
  int64_t low = 0;
  for (auto v : s) low += v < 500;
  EXPECT_NEAR(low, 250, 60);
  EXPECT_EQ(sample_rows(10, 20, rng).size(), 10u);
}

TEST(KMeans, FeatureStatsMatchTwoPassFormulas) {
  auto b = make_blobs(10000, 3, 3, 14, 2.0f, 100.0f);
  auto src = memory_source(b.x.data(), b.n, b.d);
  RowBlocks blocks(*src, 50 * 1024, kAssignGrain);
  FeatureStats stats(3);
  blocks.for_each([&](const Block& blk) { stats.add(blk, kAssignGrain, 2); });
  stats.finish();
  for (int j = 0; j < 3; ++j) {
    double mean = 0, var = 0;
    for (int64_t i = 0; i < b.n; ++i) mean += b.x[i * 3 + j];
    mean /= b.n;
    for (int64_t i = 0; i < b.n; ++i) var += (b.x[i * 3 + j] - mean) * (b.x[i * 3 + j] - mean);
    var /= b.n;
    EXPECT_NEAR(stats.mean()[j], mean, 1e-9 * std::abs(mean) + 1e-9);
    EXPECT_NEAR(stats.variance()[j], var, 1e-9 * var);
  }
}

TEST(KMeans, BadParametersAreNamed) {
  auto b = make_blobs(100, 4, 2, 15);
  auto src = memory_source(b.x.data(), b.n, b.d);
  auto expect_error = [&](KMeansParams p, const std::string& needle) {
    try {
      kmeans(*src, p, cpu_context());
      ADD_FAILURE() << "no error for " << needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_error(cpu_params(0), "n_clusters=0");
  expect_error(cpu_params(101), "n_clusters=101");
  auto p = cpu_params(2);
  p.max_iter = 0;
  expect_error(p, "max_iter");
  p = cpu_params(2);
  p.tol = -1;
  expect_error(p, "tol");
  p.tol = std::numeric_limits<double>::infinity();
  expect_error(p, "tol=inf must be a finite number >= 0");
  p = cpu_params(2);
  p.init = InitMethod::File;
  expect_error(p, "init_file");
  p.init_file = "/nonexistent/centres.npy";
  expect_error(p, "centres.npy");
  testutil::TempDir tmp;
  testutil::write_h5_f32(tmp.file("c.h5"), "/c", std::vector<float>(9, 0.f), 3, 3);
  p.init_file = tmp.file("c.h5") + ":/c";
  expect_error(p, "expected n_clusters x d = 2 x 4");
}

TEST(KMeans, StandardScalingMatchesDefinition) {
  std::vector<float> x = {1, 10, 2, 10, 3, 10, 4, 10};  // second column constant
  auto src = prepare_source(memory_source(x.data(), 4, 2), "standard");
  auto y = read_all(*src);
  const double sd = std::sqrt(1.25);
  EXPECT_NEAR(y[0], (1 - 2.5) / sd, 1e-6);
  EXPECT_NEAR(y[6], (4 - 2.5) / sd, 1e-6);
  EXPECT_EQ(y[1], 0.0f);
  auto l2 = read_all(*prepare_source(memory_source(x.data(), 4, 2), "l2"));
  EXPECT_NEAR(l2[0] * l2[0] + l2[1] * l2[1], 1.0, 1e-6);
}
