// The k sweep: each k's K-means equals a run of its own, the elbow and the suggestion find the
// blobs' k, k lists parse or are refused by name.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "embcluster/error.h"
#include "embcluster/kmeans.h"
#include "embcluster/metrics.h"
#include "embcluster/sweep.h"
#include "testutil.h"

using namespace embcluster;

TEST(Sweep, KListsParseOrAreNamed) {
  EXPECT_EQ(parse_k_list("2:6"), (std::vector<int64_t>{2, 3, 4, 5, 6}));
  EXPECT_EQ(parse_k_list("2:10:4"), (std::vector<int64_t>{2, 6, 10}));
  EXPECT_EQ(parse_k_list("20,5,10,5"), (std::vector<int64_t>{5, 10, 20}));
  EXPECT_ERROR(parse_k_list("5:2"), "first 5 is above last 2");
  EXPECT_ERROR(parse_k_list("2:x"), "'x' is not a whole number >= 1");
  EXPECT_ERROR(parse_k_list("1:2:3:4"), "first:last or first:last:step");
  EXPECT_ERROR(parse_k_list("0,3"), "'0' is not a whole number >= 1");
}

TEST(Sweep, KneedleFindsTheElbowOfAFallingCurve) {
  std::vector<SweepPoint> pts;
  for (int64_t k = 1; k <= 10; ++k) {
    SweepPoint p;
    p.k = k;
    p.inertia = k <= 4 ? 1000.0 - 240 * (k - 1) : 280.0 - 5 * (k - 4);  // a bend at k = 4
    pts.push_back(p);
  }
  EXPECT_EQ(kneedle_elbow(pts), 4);
  pts.resize(2);
  EXPECT_EQ(kneedle_elbow(pts), 0);
}

TEST(Sweep, EachKEqualsItsOwnRunAndTheBlobsKIsFound) {
  const auto b = testutil::make_blobs(6000, 8, 5, 7, 1.0f, 20.0f);
  auto src = memory_source(b.x.data(), b.n, b.d);
  SweepParams p;
  p.ks = {2, 3, 4, 5, 6, 7, 8};
  p.kmeans.seed = 4;
  p.silhouette_sample = 2000;
  ExecutionContext cpu;
  cpu.device = parse_device("cpu");
  const SweepResult r = sweep(*src, p, cpu);
  ASSERT_EQ(r.points.size(), 7u);
  EXPECT_TRUE(r.data_in_memory);
  for (const auto& pt : r.points) {
    KMeansParams kp = p.kmeans;
    kp.n_clusters = pt.k;
    const KMeansResult own = kmeans(*src, kp, cpu);
    EXPECT_EQ(pt.inertia, own.inertia) << pt.k;
    EXPECT_EQ(pt.sizes, own.sizes) << pt.k;
    EXPECT_LE(pt.silhouette_low, pt.silhouette);
    EXPECT_GE(pt.silhouette_high, pt.silhouette);
  }
  EXPECT_EQ(r.elbow_k, 5);
  EXPECT_EQ(r.best_silhouette_k, 5);
  EXPECT_EQ(r.suggested_k, 5);
  // Streamed (a budget the data does not fit) gives the same figures.
  ExecutionContext small = cpu;
  small.memory_budget = 64 << 10;
  const SweepResult s = sweep(*src, p, small);
  EXPECT_FALSE(s.data_in_memory);
  for (size_t i = 0; i < s.points.size(); ++i)
    EXPECT_EQ(s.points[i].inertia, r.points[i].inertia) << s.points[i].k;
  p.ks = {1, 3};
  EXPECT_ERROR(sweep(*src, p, cpu), "k=1 must be between 2 and rows - 1");
}

// The silhouettes of every k from one computation of the sample's distances equal the silhouette
// of each k's own labels (the same sample rows), euclidean and cosine, with overlapping blobs.
TEST(Sweep, SharedSilhouettesEqualEachKsOwn) {
  const auto b = testutil::make_blobs(5000, 12, 6, 3, 4.0f, 10.0f);
  auto src = memory_source(b.x.data(), b.n, b.d);
  ExecutionContext cpu;
  cpu.device = parse_device("cpu");
  for (Metric metric : {Metric::Euclidean, Metric::Cosine}) {
    SweepParams p;
    p.ks = {2, 4, 6, 9};
    p.kmeans.seed = 2;
    p.kmeans.metric = metric;
    p.silhouette_sample = 700;
    const SweepResult r = sweep(*src, p, cpu);
    EXPECT_GT(r.shared_silhouette_s, 0.0);
    for (const auto& pt : r.points) {
      KMeansParams kp = p.kmeans;
      kp.n_clusters = pt.k;
      const KMeansResult own = kmeans(*src, kp, cpu);
      MetricsParams mp;
      mp.metric = metric;
      mp.seed = p.kmeans.seed;
      mp.sample_size = p.silhouette_sample;
      const SilhouetteResult s = silhouette(*src, own.labels, mp, cpu);
      EXPECT_NEAR(pt.silhouette, s.score, 1e-6) << pt.k;
      EXPECT_NEAR(pt.silhouette_low, s.ci_low, 1e-6) << pt.k;
      EXPECT_NEAR(pt.silhouette_high, s.ci_high, 1e-6) << pt.k;
    }
    // Per k (the exact silhouette is never shared).
    p.silhouette_sample = 0;
    p.ks = {3};
    EXPECT_EQ(sweep(*src, p, cpu).shared_silhouette_s, 0.0);
  }
}

TEST(SweepCli, WritesSweepJsonWithEveryK) {
  testutil::TempDir tmp;
  const std::string data = tmp.file("b.h5");
  std::string out;
  ASSERT_EQ(testutil::run_cli("generate --n 4000 --d 6 --k 4 --seed 1 --quiet --out " + data), 0);
  ASSERT_EQ(
      testutil::run_cli("sweep " + data + " --k 2:6 --device cpu --out " + tmp.file("s"), &out), 0)
      << out;
  EXPECT_NE(out.find("suggested k: 4"), std::string::npos) << out;
  const auto j = nlohmann::json::parse(testutil::read_text(tmp.file("s/sweep.json")));
  EXPECT_EQ(j["points"].size(), 5u);
  EXPECT_EQ(j["suggested_k"], 4);
  EXPECT_EQ(j["outputs"], nlohmann::json({"sweep.json"}));
  EXPECT_EQ(testutil::run_cli("sweep " + data + " --k 6:2", &out), 1);
  EXPECT_NE(out.find("--k '6:2': first 6 is above last 2"), std::string::npos) << out;
}
