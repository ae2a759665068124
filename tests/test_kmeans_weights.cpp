// K-means with sample weights: unit weights change nothing, integer weights equal repeated rows,
// rows of weight 0 neither start nor move a centre, the initialisations draw by weight, bad
// weights are named, and a checkpoint made with other weights is refused.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "algo/kmeans/kmeans_init.h"
#include "algo/kmeans/kmeans_parallel.h"
#include "backend/kmeans_backend.h"
#include "core/rng.h"
#include "embcluster/error.h"
#include "embcluster/kmeans.h"
#include "testutil.h"

using namespace embcluster;
using testutil::cpu_context;
using testutil::make_blobs;

namespace {

// Params starting from the given centres (written to dir/init.h5).
KMeansParams from_centres(const testutil::TempDir& dir, const std::vector<float>& x,
                          const std::vector<int64_t>& rows, int64_t d) {
  std::vector<float> init;
  for (int64_t r : rows) init.insert(init.end(), x.begin() + r * d, x.begin() + (r + 1) * d);
  testutil::write_h5_f32(dir.file("init.h5"), "/c", init, static_cast<int64_t>(rows.size()), d);
  KMeansParams p;
  p.n_clusters = static_cast<int64_t>(rows.size());
  p.init = InitMethod::File;
  p.init_file = dir.file("init.h5") + ":/c";
  p.tol = 0;
  return p;
}

}  // namespace

TEST(KMeansWeights, UnitWeightsGiveTheUnweightedBits) {
  auto b = make_blobs(9000, 12, 8, 3, 4.0f, 10.0f);
  auto src = memory_source(b.x.data(), b.n, b.d);
  testutil::TempDir tmp;
  KMeansParams p = from_centres(tmp, b.x, {0, 1, 2, 3, 4, 5, 6, 7}, b.d);
  const auto plain = kmeans(*src, p, cpu_context());
  p.sample_weight.assign(static_cast<size_t>(b.n), 1.0);
  const auto unit = kmeans(*src, p, cpu_context());
  EXPECT_EQ(plain.labels, unit.labels);
  EXPECT_EQ(plain.centroids, unit.centroids);
  EXPECT_EQ(plain.inertia, unit.inertia);
  EXPECT_EQ(plain.iterations, unit.iterations);
  // From k-means++ and random rows too: weights of 1 are no weights.
  for (InitMethod init :
       {InitMethod::KMeansPlusPlus, InitMethod::KMeansParallel, InitMethod::Random}) {
    KMeansParams q;
    q.n_clusters = 8;
    q.init = init;
    const auto a = kmeans(*src, q, cpu_context());
    q.sample_weight.assign(static_cast<size_t>(b.n), 1.0);
    const auto c = kmeans(*src, q, cpu_context());
    EXPECT_EQ(a.centroids, c.centroids);
    EXPECT_EQ(a.inertia, c.inertia);
  }
}

TEST(KMeansWeights, IntegerWeightsEqualRepeatedRows) {
  auto b = make_blobs(3000, 8, 6, 5, 3.0f, 8.0f);
  std::vector<double> w(static_cast<size_t>(b.n));
  std::vector<float> repeated;
  std::vector<int64_t> first_copy;
  Rng rng(11);
  for (int64_t i = 0; i < b.n; ++i) {
    w[i] = static_cast<double>(1 + rng.below(4));
    first_copy.push_back(static_cast<int64_t>(repeated.size()) / b.d);
    for (int c = 0; c < static_cast<int>(w[i]); ++c)
      repeated.insert(repeated.end(), b.x.begin() + i * b.d, b.x.begin() + (i + 1) * b.d);
  }
  testutil::TempDir tmp;
  KMeansParams p = from_centres(tmp, b.x, {10, 20, 30, 40, 50, 60}, b.d);
  auto src = memory_source(b.x.data(), b.n, b.d);
  auto rep = memory_source(repeated.data(), static_cast<int64_t>(repeated.size()) / b.d, b.d);
  const auto reference = kmeans(*rep, p, cpu_context());
  p.sample_weight = w;
  const auto weighted = kmeans(*src, p, cpu_context());
  EXPECT_EQ(weighted.iterations, reference.iterations);
  for (int64_t i = 0; i < b.n; ++i) ASSERT_EQ(weighted.labels[i], reference.labels[first_copy[i]]);
  for (size_t j = 0; j < weighted.centroids.size(); ++j)
    EXPECT_NEAR(weighted.centroids[j], reference.centroids[j], 1e-5);
  EXPECT_NEAR(weighted.inertia, reference.inertia, 1e-9 * reference.inertia);
}

TEST(KMeansWeights, RowsOfWeightZeroNeitherStartNorMoveACentre) {
  // Three blobs and, far away, 200 rows of weight 0.
  auto b = make_blobs(3000, 4, 3, 9, 1.0f, 20.0f);
  std::vector<float> x = b.x;
  for (int i = 0; i < 200; ++i)
    for (int j = 0; j < 4; ++j) x.push_back(1000.0f + static_cast<float>(i % 7));
  const int64_t n = static_cast<int64_t>(x.size()) / 4;
  std::vector<double> w(static_cast<size_t>(n), 1.0);
  std::fill(w.begin() + b.n, w.end(), 0.0);
  auto src = memory_source(x.data(), n, 4);
  for (InitMethod init :
       {InitMethod::KMeansPlusPlus, InitMethod::KMeansParallel, InitMethod::Random}) {
    KMeansParams p;
    p.n_clusters = 3;
    p.init = init;
    p.n_init = 4;
    p.sample_weight = w;
    const auto r = kmeans(*src, p, cpu_context());
    for (float v : r.centroids) EXPECT_LT(v, 100.0f);  // no centre among the far rows
    const std::vector<int32_t> blob_labels(r.labels.begin(), r.labels.begin() + b.n);
    EXPECT_DOUBLE_EQ(testutil::adjusted_rand_index(blob_labels, b.labels), 1.0);
    // The centres are the means of the weighted rows only.
    for (int c = 0; c < 3; ++c) {
      double sum = 0;
      int64_t count = 0;
      for (int64_t i = 0; i < b.n; ++i)
        if (r.labels[i] == c) sum += b.x[i * 4], ++count;
      EXPECT_NEAR(r.centroids[c * 4], sum / count, 1e-4);
    }
  }
}

TEST(KMeansWeights, InitialisationsDrawOnlyRowsWithWeight) {
  const int64_t m = 2000, d = 3, k = 6;
  std::vector<float> x(static_cast<size_t>(m * d));
  Rng fill(3);
  for (auto& v : x) v = static_cast<float>(fill.uniform());
  std::vector<double> w(static_cast<size_t>(m), 0.0);
  const std::set<int64_t> heavy = {5, 77, 400, 999, 1500, 1999};
  for (int64_t i : heavy) w[i] = 0.5 + static_cast<double>(i % 3);
  auto backend = make_cpu_kmeans_backend(2);
  for (uint64_t seed = 0; seed < 5; ++seed) {
    Rng r1(seed), r2(seed);
    const auto pp = kmeans_plus_plus(x.data(), m, d, k, r1, *backend, 2, w.data());
    EXPECT_EQ(std::set<int64_t>(pp.begin(), pp.end()), heavy);
    const auto rr = random_rows(m, k, r2, w.data());
    EXPECT_EQ(std::set<int64_t>(rr.begin(), rr.end()), heavy);
    Rng r3(seed);
    const auto kp = kmeans_parallel(x.data(), m, d, k, 2.0, 5, r3, *backend, 2, w.data()).rows;
    EXPECT_EQ(std::set<int64_t>(kp.begin(), kp.end()), heavy);
  }
  // Drawn in proportion to the weight: row 1 (weight 9) first about 9 times in 10.
  std::vector<double> two(static_cast<size_t>(m), 0.0);
  two[0] = 1;
  two[1] = 9;
  int first_is_heavy = 0;
  for (uint64_t seed = 0; seed < 2000; ++seed) {
    Rng r(seed);
    first_is_heavy += random_rows(m, 1, r, two.data())[0] == 1;
  }
  EXPECT_NEAR(first_is_heavy / 2000.0, 0.9, 0.03);
}

TEST(KMeansWeights, WeightedRunsAreTheSameForAnyThreadsOrBlocks) {
  auto b = make_blobs(30000, 16, 12, 4, 4.0f, 10.0f);
  std::vector<double> w(static_cast<size_t>(b.n));
  Rng rng(5);
  for (auto& v : w) v = rng.uniform() * 3;
  auto src = memory_source(b.x.data(), b.n, b.d);
  KMeansParams p;
  p.n_clusters = 12;
  p.max_iter = 20;
  p.sample_weight = w;
  const auto one = kmeans(*src, p, cpu_context(1));
  ExecutionContext streamed = cpu_context(3);
  streamed.memory_budget = 256 << 10;
  const auto other = kmeans(*src, p, streamed);
  EXPECT_TRUE(other.streamed);
  EXPECT_EQ(one.labels, other.labels);
  EXPECT_EQ(one.centroids, other.centroids);
  EXPECT_EQ(one.inertia, other.inertia);
  p.init = InitMethod::KMeansParallel;
  const auto par_one = kmeans(*src, p, cpu_context(1));
  const auto par_other = kmeans(*src, p, streamed);
  EXPECT_EQ(par_one.centroids, par_other.centroids);
  EXPECT_EQ(par_one.inertia, par_other.inertia);
}

TEST(KMeansWeights, BadWeightsAreNamed) {
  auto b = make_blobs(100, 2, 2, 1);
  auto src = memory_source(b.x.data(), b.n, b.d);
  KMeansParams p;
  p.n_clusters = 3;
  p.sample_weight.assign(99, 1.0);
  EXPECT_ERROR(kmeans(*src, p, cpu_context()), "sample_weight", "99 weights for 100 rows");
  p.sample_weight.assign(100, 1.0);
  p.sample_weight[42] = -0.5;
  EXPECT_ERROR(kmeans(*src, p, cpu_context()), "sample_weight", "row 42");
  p.sample_weight[42] = std::numeric_limits<double>::infinity();
  EXPECT_ERROR(kmeans(*src, p, cpu_context()), "row 42", "finite");
  p.sample_weight.assign(100, 0.0);
  p.sample_weight[1] = p.sample_weight[2] = 1;
  EXPECT_ERROR(kmeans(*src, p, cpu_context()), "only 2 rows", "n_clusters=3");
}

TEST(KMeansWeights, ACheckpointOfOtherWeightsIsNotResumed) {
  auto b = make_blobs(2000, 4, 3, 2);
  auto src = memory_source(b.x.data(), b.n, b.d);
  testutil::TempDir tmp;
  KMeansParams p;
  p.n_clusters = 3;
  p.sample_weight.assign(static_cast<size_t>(b.n), 1.5);
  p.checkpoint.dir = tmp.file("ckpt");
  const auto first = kmeans(*src, p, cpu_context());
  p.checkpoint.resume = true;
  const auto again = kmeans(*src, p, cpu_context());
  EXPECT_EQ(first.labels, again.labels);
  p.sample_weight[7] = 2.0;
  EXPECT_ERROR(kmeans(*src, p, cpu_context()), "sample_weight");
  p.sample_weight.clear();
  EXPECT_ERROR(kmeans(*src, p, cpu_context()), "sample_weight");
}
