// k-means|| (scalable k-means++): it finds separated blobs, draws about oversampling x k rows a
// round by squared distance, gives the same centres whatever the threads, blocks or bounds, copes
// with a sample of few distinct rows, names bad parameters, and runs from the command line.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <set>
#include <string>
#include <vector>

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

KMeansParams parallel_params(int64_t k) {
  KMeansParams p;
  p.n_clusters = k;
  p.init = InitMethod::KMeansParallel;
  p.seed = 4;
  return p;
}

std::vector<float> uniform_rows(int64_t m, int64_t d, uint64_t seed) {
  std::vector<float> x(static_cast<size_t>(m * d));
  Rng rng(seed);
  for (auto& v : x) v = static_cast<float>(rng.uniform());
  return x;
}

std::string note(const KMeansResult& r, const std::string& key) {
  for (const auto& [k, v] : r.notes)
    if (k == key) return v;
  return "";
}

}  // namespace

TEST(KMeansParallel, FindsSeparatedBlobs) {
  auto b = make_blobs(20000, 16, 25, 7, 1.0f, 60.0f);
  auto src = memory_source(b.x.data(), b.n, b.d);
  for (uint64_t seed : {0, 1, 2}) {
    KMeansParams p = parallel_params(25);
    p.seed = seed;
    const auto r = kmeans(*src, p, cpu_context());
    EXPECT_DOUBLE_EQ(testutil::adjusted_rand_index(r.labels, b.labels), 1.0) << "seed " << seed;
    EXPECT_NE(note(r, "init_k_means_parallel").find("candidates"), std::string::npos);
  }
}

TEST(KMeansParallel, RoundsDrawAboutOversamplingTimesKRows) {
  const int64_t m = 6000, d = 4, k = 20;
  const auto x = uniform_rows(m, d, 2);
  auto be = make_cpu_kmeans_backend(2);
  for (const auto& [factor, rounds] :
       std::vector<std::pair<double, int>>{{0.5, 5}, {2.0, 1}, {2.0, 5}}) {
    {
      Rng rng(3);
      const auto r = kmeans_parallel(x.data(), m, d, k, factor, rounds, rng, *be, 2);
      const double expected = factor * k * rounds;  // draws sum to l a round (none reach 1 here)
      EXPECT_EQ(r.rounds, rounds);
      EXPECT_GT(static_cast<double>(r.candidates), 0.6 * expected) << factor << " x " << rounds;
      EXPECT_LT(static_cast<double>(r.candidates), 1.4 * expected + 2) << factor << " x " << rounds;
      ASSERT_EQ(r.rows.size(), static_cast<size_t>(k));
      EXPECT_EQ(std::set<int64_t>(r.rows.begin(), r.rows.end()).size(), static_cast<size_t>(k));
      for (const int64_t i : r.rows) EXPECT_TRUE(i >= 0 && i < m);
    }
  }
  // Rounds go on while there are fewer candidates than k: 10 a round for 20 centres.
  Rng rng(3);
  const auto r = kmeans_parallel(x.data(), m, d, k, 0.5, 1, rng, *be, 2);
  EXPECT_GE(r.rounds, 2);
  EXPECT_GE(r.candidates, k);
  EXPECT_EQ(r.filled, 0);
}

TEST(KMeansParallel, DrawsBySquaredDistance) {
  // One row far from 2,000 near the origin holds nearly all the potential: drawn in the first
  // round, and the recluster's k-means++ keeps it. A uniform draw would miss it almost always.
  const int64_t m = 2001, d = 3;
  auto x = uniform_rows(m - 1, d, 5);
  for (int j = 0; j < d; ++j) x.push_back(1000.0f);
  auto be = make_cpu_kmeans_backend(1);
  for (uint64_t seed = 0; seed < 20; ++seed) {
    Rng rng(seed);
    const auto r = kmeans_parallel(x.data(), m, d, 3, 2.0, 5, rng, *be, 1);
    EXPECT_EQ(std::count(r.rows.begin(), r.rows.end(), m - 1), 1) << "seed " << seed;
  }
}

TEST(KMeansParallel, SameCentresWhateverTheThreadsBlocksOrBounds) {
  auto b = make_blobs(30000, 16, 12, 4, 4.0f, 10.0f);
  auto src = memory_source(b.x.data(), b.n, b.d);
  KMeansParams p = parallel_params(12);
  p.max_iter = 15;
  p.algorithm = KMeansAlgorithm::Lloyd;
  const auto one = kmeans(*src, p, cpu_context(1));
  ExecutionContext streamed = cpu_context(3);
  streamed.memory_budget = 1 << 20;
  for (auto a : {KMeansAlgorithm::Lloyd, KMeansAlgorithm::Elkan, KMeansAlgorithm::Yinyang,
                 KMeansAlgorithm::Auto}) {
    p.algorithm = a;
    for (const ExecutionContext& ctx : {cpu_context(2), streamed}) {
      if (a == KMeansAlgorithm::Elkan && ctx.memory_budget > 0) continue;  // bounds too large
      const auto other = kmeans(*src, p, ctx);
      EXPECT_EQ(other.streamed, ctx.memory_budget > 0);
      EXPECT_EQ(one.labels, other.labels) << to_string(a);
      EXPECT_EQ(one.centroids, other.centroids) << to_string(a);
      EXPECT_EQ(one.inertia, other.inertia) << to_string(a);
    }
  }
  // Several runs: each starts from its own draw, the best wins, and bounds kept by one run do
  // not leak into the next one's initialisation.
  p.n_init = 3;
  p.algorithm = KMeansAlgorithm::Lloyd;
  const auto lloyd = kmeans(*src, p, cpu_context(2));
  p.algorithm = KMeansAlgorithm::Elkan;
  const auto elkan = kmeans(*src, p, cpu_context(2));
  EXPECT_EQ(lloyd.run_inertia, elkan.run_inertia);
  EXPECT_EQ(lloyd.centroids, elkan.centroids);
}

TEST(KMeansParallel, FewDistinctRowsStillGiveKCentres) {
  // 600 rows holding 3 distinct points: 3 candidates of weight > 0, the other 2 centres at random.
  const int64_t m = 600, d = 2, k = 5;
  std::vector<float> x;
  for (int64_t i = 0; i < m; ++i) {
    x.push_back(static_cast<float>(i % 3));
    x.push_back(static_cast<float>(10 * (i % 3)));
  }
  auto be = make_cpu_kmeans_backend(2);
  Rng rng(1);
  const auto r = kmeans_parallel(x.data(), m, d, k, 2.0, 5, rng, *be, 2);
  EXPECT_EQ(r.candidates, 3);
  EXPECT_EQ(r.filled, 2);
  ASSERT_EQ(r.rows.size(), static_cast<size_t>(k));
  EXPECT_EQ(std::set<int64_t>(r.rows.begin(), r.rows.end()).size(), static_cast<size_t>(k));
  std::set<int64_t> points;
  for (const int64_t i : r.rows) points.insert(i % 3);
  EXPECT_EQ(points.size(), 3u);
  // Through the driver: k clusters asked, 3 distinct ones found and said so.
  auto src = memory_source(x.data(), m, d);
  const auto res = kmeans(*src, parallel_params(k), cpu_context());
  EXPECT_NE(note(res, "init_k_means_parallel").find("2 rows added at random"), std::string::npos)
      << note(res, "init_k_means_parallel");
  EXPECT_NE(note(res, "distinct_clusters"), "");
}

TEST(KMeansParallel, BadParametersAreNamed) {
  auto b = make_blobs(300, 2, 3, 1);
  auto src = memory_source(b.x.data(), b.n, b.d);
  for (double f : {0.0, -1.0, std::numeric_limits<double>::infinity(),
                   std::numeric_limits<double>::quiet_NaN()}) {
    KMeansParams p = parallel_params(3);
    p.oversampling_factor = f;
    EXPECT_ERROR(kmeans(*src, p, cpu_context()), "oversampling_factor=");
  }
  KMeansParams p = parallel_params(3);
  p.init_rounds = 0;
  EXPECT_ERROR(kmeans(*src, p, cpu_context()), "init_rounds=0");
}

TEST(KMeansParallel, CommandLine) {
  testutil::TempDir tmp;
  auto b = make_blobs(3000, 4, 5, 2, 1.0f, 40.0f);
  testutil::write_h5_f32(tmp.file("x.h5"), "/data", b.x, b.n, b.d);
  std::string out;
  ASSERT_EQ(testutil::run_cli("kmeans " + tmp.file("x.h5") +
                                  " -k 5 --init 'k-means||' --oversampling-factor 1.5 "
                                  "--init-rounds 3 --device cpu --out " +
                                  tmp.file("o"),
                              &out),
            0)
      << out;
  const std::string report = testutil::read_text(tmp.file("o/report.json"));
  EXPECT_NE(report.find("\"init\": \"k-means||\""), std::string::npos) << report;
  EXPECT_NE(report.find("\"oversampling_factor\": 1.5"), std::string::npos);
  EXPECT_NE(report.find("\"init_rounds\": 3"), std::string::npos);
  EXPECT_NE(report.find("init_k_means_parallel"), std::string::npos);
  for (const char* bad : {"--oversampling-factor 0", "--init-rounds 0"}) {
    EXPECT_NE(testutil::run_cli("kmeans " + tmp.file("x.h5") + " -k 5 --init 'k-means||' " + bad +
                                    " --device cpu",
                                &out),
              0)
        << bad;
    EXPECT_NE(out.find(std::string(bad).substr(0, std::string(bad).find(' '))), std::string::npos)
        << out;
  }
  // A sweep takes it too.
  EXPECT_EQ(testutil::run_cli("sweep " + tmp.file("x.h5") +
                                  " --k 3,5 --init 'k-means||' --device cpu --out " + tmp.file("s"),
                              &out),
            0)
      << out;
}
