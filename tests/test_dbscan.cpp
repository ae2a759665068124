// DBSCAN: scikit-learn's labels on fixed data, an independent brute-force verifier (and proof that
// it rejects broken labelings), streaming with tiny budgets, threads, cosine, the FAISS indexes,
// bad parameters, and the k-distance curve against brute force.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "cpu/nearest_centres.h"
#include "dbscan_cases.h"
#include "dbscan_verifier.h"
#include "embcluster/dbscan.h"
#include "embcluster/error.h"
#include "testutil.h"

using namespace embcluster;
using testutil::brute_distances;
using testutil::load_case;
using testutil::noisy_blobs;
using testutil::params_for;
using testutil::RefCase;
using testutil::verify_dbscan;

namespace {

DBSCANResult run(const std::vector<float>& x, int64_t n, int64_t d, DBSCANParams p,
               const ExecutionContext& ctx = {}) {
  auto src = memory_source(x.data(), n, d);
  return dbscan(*src, p, ctx);
}

DBSCANParams eps_params(double eps, int64_t min_samples) {
  DBSCANParams p;
  p.eps = eps;
  p.min_samples = min_samples;
  return p;
}

// The very same clustering: labels and core flags.
void expect_same_clustering(const DBSCANResult& r, const DBSCANResult& want,
                            const std::string& what = "") {
  EXPECT_EQ(r.labels, want.labels) << what;
  EXPECT_EQ(r.core, want.core) << what;
}

// The same partition of the core rows, whatever the numbering.
void expect_same_core_partition(const DBSCANResult& r, const std::vector<int32_t>& labels,
                                const std::vector<uint8_t>& core) {
  ASSERT_EQ(r.core, core);
  std::map<int32_t, int32_t> a_to_b, b_to_a;
  for (size_t i = 0; i < core.size(); ++i) {
    if (!core[i]) continue;
    auto [x, fx] = a_to_b.emplace(r.labels[i], labels[i]);
    auto [y, fy] = b_to_a.emplace(labels[i], r.labels[i]);
    ASSERT_EQ(x->second, labels[i]) << "row " << i;
    ASSERT_EQ(y->second, r.labels[i]) << "row " << i;
  }
  for (size_t i = 0; i < core.size(); ++i)
    ASSERT_EQ(r.labels[i] < 0, labels[i] < 0) << "noise differs at row " << i;
}

}  // namespace

TEST(DBSCANVerifier, AcceptsScikitLearnAndRejectsBrokenLabelings) {
  const RefCase c = load_case("blobs", "dbscan_blobs.npy");
  const auto dist = brute_distances(c.x, c.n, c.d, false);
  ASSERT_EQ(verify_dbscan(dist, c.n, c.eps, c.min_samples, c.labels, c.core), "");
  ASSERT_GE(c.json["n_clusters"].get<int>(), 3);
  ASSERT_GT(c.json["n_noise"].get<int>(), 0);

  int64_t core0 = -1, core1 = -1, border = -1, noise = -1;
  for (int64_t i = 0; i < c.n; ++i) {
    if (c.core[i] && c.labels[i] == 0 && core0 < 0) core0 = i;
    if (c.core[i] && c.labels[i] == 1 && core1 < 0) core1 = i;
    if (!c.core[i] && c.labels[i] >= 0 && border < 0) border = i;
    if (c.labels[i] < 0 && noise < 0) noise = i;
  }
  ASSERT_TRUE(core0 >= 0 && core1 >= 0 && border >= 0 && noise >= 0);
  auto broken = [&](auto edit) {
    auto labels = c.labels;
    auto core = c.core;
    edit(labels, core);
    return verify_dbscan(dist, c.n, c.eps, c.min_samples, labels, core);
  };
  // Two clusters merged into one.
  EXPECT_NE(broken([](auto& l, auto&) {
              for (auto& v : l)
                if (v == 1) v = 0;
            }),
            "");
  // One core row moved out of its cluster (a split).
  EXPECT_NE(broken([&](auto& l, auto&) { l[core0] = 1; }), "");
  // A cluster number that does not exist.
  EXPECT_NE(broken([&](auto& l, auto&) { l[core0] = 99; }), "");
  // A border row in a cluster none of its core neighbours is in.
  EXPECT_NE(broken([&](auto& l, auto&) { l[border] = (l[border] + 1) % 3; }), "");
  // A border row called noise.
  EXPECT_NE(broken([&](auto& l, auto&) { l[border] = -1; }), "");
  // A noise row put in a cluster.
  EXPECT_NE(broken([&](auto& l, auto&) { l[noise] = 0; }), "");
  // A core row called noise, and wrong core flags.
  EXPECT_NE(broken([&](auto& l, auto&) { l[core0] = -1; }), "");
  EXPECT_NE(broken([&](auto&, auto& k) { k[border] = 1; }), "");
  EXPECT_NE(broken([&](auto&, auto& k) { k[core0] = 0; }), "");
}

TEST(DBSCAN, MatchesScikitLearnEuclidean) {
  const RefCase c = load_case("blobs", "dbscan_blobs.npy");
  const auto r = run(c.x, c.n, c.d, params_for(c, "euclidean"));
  expect_same_core_partition(r, c.labels, c.core);
  // The same numbering and border rule as scikit-learn: the very same labels.
  EXPECT_EQ(r.labels, c.labels);
  EXPECT_EQ(r.n_clusters, c.json["n_clusters"].get<int64_t>());
  EXPECT_EQ(r.n_noise, c.json["n_noise"].get<int64_t>());
  EXPECT_EQ(r.n_core, c.json["n_core"].get<int64_t>());
  EXPECT_GE(c.json["border_ties"].get<int>(), 1);  // the tie-break rule was exercised
  const auto dist = brute_distances(c.x, c.n, c.d, false);
  EXPECT_EQ(verify_dbscan(dist, c.n, c.eps, c.min_samples, r.labels, r.core), "");
  int64_t total = 0;
  for (auto s : r.cluster_sizes) total += s;
  EXPECT_EQ(total + r.n_noise, c.n);
}

TEST(DBSCAN, MatchesScikitLearnCosine) {
  const RefCase c = load_case("cosine", "dbscan_cosine.npy");
  const auto r = run(c.x, c.n, c.d, params_for(c, "cosine"));
  expect_same_core_partition(r, c.labels, c.core);
  EXPECT_EQ(r.labels, c.labels);
  const auto dist = brute_distances(c.x, c.n, c.d, true);
  EXPECT_EQ(verify_dbscan(dist, c.n, c.eps, c.min_samples, r.labels, r.core), "");
}

TEST(DBSCAN, AnOffsetInTheDataChangesNothing) {
  ExecutionContext ctx;
  // Far from the origin the GEMM expansion (|x|^2 + |y|^2 - 2 x.y) loses the digits that decide
  // pairs near eps; those are recomputed by the direct sum, so the result stays scikit-learn's.
  RefCase c = load_case("blobs", "dbscan_blobs.npy");
  for (auto& v : c.x) v += 64.0f;
  auto p = params_for(c, "euclidean");
  EXPECT_EQ(run(c.x, c.n, c.d, p, ctx).labels, c.labels);
  ctx.memory_budget = 16 << 10;
  EXPECT_EQ(run(c.x, c.n, c.d, p, ctx).labels, c.labels);
}

TEST(DBSCAN, BorderPointJoinsTheLowestNumberedCluster) {
  // Two clusters on a line, a border point between them (within eps of a core row of each).
  // Rows are ordered so that cluster 0 (lowest core row 0) is not the one holding the border
  // point's lowest-numbered core neighbour (row 1): scikit-learn gives the border point to
  // cluster 0, the first cluster that reaches it.
  const std::vector<float> x = {1.3f, -0.9f, 0.9f, 1.7f, 2.1f, -1.3f, -1.7f, -2.1f, 0.0f};
  auto p = eps_params(1.0, 4);
  const auto r = run(x, 9, 1, p);
  EXPECT_EQ(r.n_clusters, 2);
  EXPECT_EQ(r.labels[0], 0);
  EXPECT_EQ(r.labels[1], 1);
  EXPECT_FALSE(r.core[8]);
  EXPECT_EQ(r.labels[8], 0);
  EXPECT_EQ(verify_dbscan(brute_distances(x, 9, 1, false), 9, 1.0, 4, r.labels, r.core), "");
}

TEST(DBSCAN, TinyBudgetsStreamPairsOfBlocksWithTheSameResult) {
  ExecutionContext ctx;
  const auto b = noisy_blobs(3000, 16, 6, 4);
  auto p = eps_params(4.6, 10);
  const auto whole = run(b.x, b.n, b.d, p, ctx);
  EXPECT_FALSE(whole.streamed);
  EXPECT_GT(whole.n_clusters, 1);
  EXPECT_GT(whole.n_noise, 0);
  EXPECT_GT(whole.n_core, 0);
  EXPECT_LT(whole.n_core + whole.n_noise, b.n);  // some border rows
  const auto dist = brute_distances(b.x, b.n, b.d, false);
  EXPECT_EQ(verify_dbscan(dist, b.n, p.eps, p.min_samples, whole.labels, whole.core), "");
  for (int64_t budget : {int64_t(12) << 10, int64_t(40) << 10, int64_t(150) << 10}) {
    ctx.memory_budget = budget;
    const auto part = run(b.x, b.n, b.d, p, ctx);
    EXPECT_TRUE(part.streamed) << budget;
    EXPECT_GT(part.blocks, 1) << budget;
    expect_same_clustering(part, whole, "budget " + std::to_string(budget));
  }
}

TEST(DBSCAN, ThreadCountsDoNotChangeTheResult) {
  ExecutionContext ctx;
  const auto b = noisy_blobs(4000, 24, 8, 9);
  auto p = eps_params(5.4, 6);
  ctx.threads = 1;
  const auto one = run(b.x, b.n, b.d, p, ctx);
  EXPECT_GT(one.n_clusters, 1);
  for (int t : {2, 3, 5}) {
    ctx.threads = t;
    const auto r = run(b.x, b.n, b.d, p, ctx);
    expect_same_clustering(r, one, std::to_string(t) + " threads");
  }
}

TEST(DBSCAN, OverlappingBlobsWhereRowsOfMixedTilesAreLeftOut) {
  ExecutionContext ctx;
  // Overlapping blobs: no pair of tiles is far apart, but many rows cannot reach the other tile
  // of a pair (by their distance to its centre, or to its core rows' extent) and are left out of
  // its distances. The result must still be a valid DBSCAN, equal whatever the budget.
  const auto b = testutil::make_blobs(2500, 12, 6, 21, 3.0f, 8.0f);
  auto p = eps_params(9.0, 12);
  const auto r = run(b.x, b.n, b.d, p, ctx);
  EXPECT_GT(r.n_core, b.n / 10);
  EXPECT_GT(r.n_noise, 0);
  EXPECT_LT(r.n_core + r.n_noise, b.n);  // border rows
  EXPECT_GT(r.tiles, 8);
  const auto dist = brute_distances(b.x, b.n, b.d, false);
  EXPECT_EQ(verify_dbscan(dist, b.n, p.eps, p.min_samples, r.labels, r.core), "");
  ctx.memory_budget = int64_t(30) << 10;
  const auto part = run(b.x, b.n, b.d, p, ctx);
  EXPECT_TRUE(part.streamed);
  expect_same_clustering(part, r);
}

TEST(DBSCAN, TileBoundsSkipFarPairsAndPassesReportWork) {
  const auto b = testutil::make_blobs(20000, 32, 20, 2, 1.0f, 40.0f);
  auto p = eps_params(7.0, 5);
  const auto r = run(b.x, b.n, b.d, p);
  EXPECT_EQ(r.n_clusters, 20);
  EXPECT_GT(testutil::adjusted_rand_index(r.labels, b.labels), 0.99);  // a few tails are noise
  ASSERT_FALSE(r.passes.empty());
  const auto& count = r.passes.front();
  EXPECT_EQ(count.pass, "count");
  EXPECT_GT(count.far, count.tile_pairs / 2);  // most pairs of tiles are far apart
  EXPECT_EQ(count.far + count.near + count.settled + count.gemm, count.tile_pairs);
}

TEST(DBSCAN, EdgeCases) {
  // min_samples = 1: every row is core; isolated rows are clusters of one.
  const std::vector<float> x = {0.0f, 0.1f, 5.0f, 10.0f, 10.05f, 20.0f};
  auto p = eps_params(0.5, 1);
  auto r = run(x, 6, 1, p);
  EXPECT_EQ(r.labels, (std::vector<int32_t>{0, 0, 1, 2, 2, 3}));
  EXPECT_EQ(r.n_core, 6);
  // min_samples larger than any neighbourhood: all noise.
  p.min_samples = 7;
  r = run(x, 6, 1, p);
  EXPECT_EQ(r.n_noise, 6);
  EXPECT_EQ(r.n_clusters, 0);
  // A huge eps: one cluster. Identical rows: one cluster. One row.
  p.eps = 1e6;
  p.min_samples = 6;
  r = run(x, 6, 1, p);
  EXPECT_EQ(r.labels, std::vector<int32_t>(6, 0));
  const std::vector<float> same(40 * 3, 1.5f);
  p.eps = 1e-3;
  p.min_samples = 40;
  r = run(same, 40, 3, p);
  EXPECT_EQ(r.n_clusters, 1);
  EXPECT_EQ(r.n_core, 40);
  p.min_samples = 1;
  r = run(same, 1, 3, p);
  EXPECT_EQ(r.labels, std::vector<int32_t>{0});
}

TEST(DBSCAN, FaissFlatAndExhaustiveIvfEqualExact) {
  const RefCase c = load_case("blobs", "dbscan_blobs.npy");
  auto p = params_for(c, "euclidean");
  const auto exact = run(c.x, c.n, c.d, p);
  p.index = DBSCANIndex::Flat;
  const auto flat = run(c.x, c.n, c.d, p);
  expect_same_clustering(flat, exact);
  ASSERT_TRUE(flat.checked);
  EXPECT_EQ(flat.check.sample_rows, c.n);  // the default sample covers these rows
  EXPECT_DOUBLE_EQ(flat.check.core_recall, 1.0);
  EXPECT_DOUBLE_EQ(flat.check.core_precision, 1.0);
  EXPECT_EQ(flat.check.split_rows, 0);
  EXPECT_EQ(flat.check.clusters_merged, 0);
  // IVF searching every cell is exhaustive.
  p.index = DBSCANIndex::Ivf;
  p.nlist = 8;
  p.nprobe = 8;
  const auto ivf = run(c.x, c.n, c.d, p);
  EXPECT_EQ(ivf.labels, exact.labels);
  // Cosine through FAISS too.
  const RefCase cc = load_case("cosine", "dbscan_cosine.npy");
  auto pc = params_for(cc, "cosine");
  pc.index = DBSCANIndex::Flat;
  EXPECT_EQ(run(cc.x, cc.n, cc.d, pc).labels, cc.labels);
}

TEST(DBSCAN, ExhaustiveIvfWithLongListsEqualsExact) {
  // Two cells of thousands of rows: each list is scanned in several sgemm tiles of rows against
  // several tiles of queries (batches of 1,024 and more queries).
  const auto b = noisy_blobs(6000, 10, 5, 31);
  auto p = eps_params(3.4, 8);
  const auto exact = run(b.x, b.n, b.d, p);
  EXPECT_GT(exact.n_clusters, 1);
  EXPECT_GT(exact.n_noise, 0);
  p.index = DBSCANIndex::Ivf;
  p.nlist = 2;
  p.nprobe = 2;
  const auto ivf = run(b.x, b.n, b.d, p);
  expect_same_clustering(ivf, exact);
  // One probe: a subset of the neighbours, so never more core rows than exact.
  p.nprobe = 1;
  const auto one = run(b.x, b.n, b.d, p);
  EXPECT_LE(one.n_core, exact.n_core);
  EXPECT_GT(one.n_core, exact.n_core / 2);
}

TEST(DBSCAN, NearestCentresAreTheBruteForceRanking) {
  // The probes of the IVF index: each row's p nearest centres, nearest first, -1 past k.
  const auto b = testutil::make_blobs(700, 9, 4, 12, 2.0f, 6.0f);
  const auto c = testutil::make_blobs(37, 9, 4, 13, 2.0f, 6.0f);
  for (int64_t p : {1, 5, 40}) {
    std::vector<int64_t> got(b.n * p);
    nearest_centres(b.x.data(), b.n, c.x.data(), c.n, b.d, p, 2, got.data());
    for (int64_t i = 0; i < b.n; ++i) {
      std::vector<std::pair<double, int64_t>> all;
      for (int64_t j = 0; j < c.n; ++j) {
        double s = 0;
        for (int64_t t = 0; t < b.d; ++t) {
          const double v = double(b.x[i * b.d + t]) - c.x[j * b.d + t];
          s += v * v;
        }
        all.emplace_back(s, j);
      }
      std::sort(all.begin(), all.end());
      for (int64_t r = 0; r < p; ++r) {
        const int64_t id = got[i * p + r];
        if (r >= c.n) {
          ASSERT_EQ(id, -1) << "row " << i;
          continue;
        }
        ASSERT_GE(id, 0);
        double s = 0;  // the returned centre's distance is the r-th smallest (float rounding)
        for (int64_t t = 0; t < b.d; ++t) {
          const double v = double(b.x[i * b.d + t]) - c.x[id * b.d + t];
          s += v * v;
        }
        ASSERT_NEAR(s, all[r].first, 1e-4 * (1 + all[r].first)) << "row " << i << " rank " << r;
      }
    }
  }
}

TEST(DBSCAN, ApproximateIndexesReportRecallAgainstExact) {
  const auto b = noisy_blobs(6000, 16, 10, 21);
  auto p = eps_params(4.8, 8);
  p.check_sample = 500;
  const auto exact = run(b.x, b.n, b.d, p);
  auto exact_core = std::count(exact.core.begin(), exact.core.end(), 1);
  // IVF probing one cell of many misses neighbours: fewer core points, never more.
  p.index = DBSCANIndex::Ivf;
  p.nlist = 64;
  p.nprobe = 1;
  const auto ivf = run(b.x, b.n, b.d, p);
  ASSERT_TRUE(ivf.checked);
  EXPECT_EQ(ivf.check.sample_rows, 500);
  EXPECT_LE(ivf.check.core_found, ivf.check.exact_core);
  EXPECT_DOUBLE_EQ(ivf.check.core_precision, 1.0);
  EXPECT_LT(ivf.check.core_recall, 1.0);
  EXPECT_LE(std::count(ivf.core.begin(), ivf.core.end(), 1), exact_core);
  for (size_t i = 0; i < ivf.core.size(); ++i)
    if (ivf.core[i]) ASSERT_TRUE(exact.core[i]) << i;
  // More cells probed: better recall.
  p.nprobe = 16;
  const auto ivf16 = run(b.x, b.n, b.d, p);
  EXPECT_GT(ivf16.check.core_recall, ivf.check.core_recall);
  // HNSW finds nearly everything on easy data.
  p.index = DBSCANIndex::Hnsw;
  const auto hnsw = run(b.x, b.n, b.d, p);
  ASSERT_TRUE(hnsw.checked);
  EXPECT_GE(hnsw.check.core_recall, 0.95);
  EXPECT_GT(testutil::adjusted_rand_index(hnsw.labels, exact.labels), 0.9);
}

TEST(DBSCAN, BadParametersNameTheParameter) {
  ExecutionContext ctx;
  const std::vector<float> x = {0, 1, 2, 3, 4, 5};
  auto expect_error = [&](DBSCANParams p, const std::string& word) {
    try {
      run(x, 6, 1, p, ctx);
      ADD_FAILURE() << "no error for " << word;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(word), std::string::npos) << e.what();
    }
  };
  DBSCANParams p;
  p.eps = 0;
  expect_error(p, "eps");
  p.eps = -1;
  expect_error(p, "eps");
  p.eps = std::nan("");
  expect_error(p, "eps");
  p.eps = std::numeric_limits<double>::infinity();
  expect_error(p, "eps");
  p = DBSCANParams{};
  p.min_samples = 0;
  expect_error(p, "min_samples");
  EXPECT_ERROR(parse_metric("manhattan"), "metric='manhattan'");
  EXPECT_ERROR(parse_index("kdtree"), "index='kdtree'");
  p = DBSCANParams{};
  p.index = DBSCANIndex::Ivf;
  p.nlist = 7;
  expect_error(p, "nlist");
  p.nlist = 2;
  p.nprobe = 3;
  expect_error(p, "nprobe");
  p = DBSCANParams{};
  p.index = DBSCANIndex::Flat;
  ctx.memory_budget = 8;  // the index cannot fit
  expect_error(p, "memory");
  // NaN in the data: the row is named.
  std::vector<float> bad = x;
  bad[4] = std::nanf("");
  try {
    run(bad, 6, 1, DBSCANParams{});
    ADD_FAILURE() << "no error for a NaN row";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("row 4"), std::string::npos) << e.what();
  }
  KDistParams kp;
  kp.k = 0;
  auto src = memory_source(x.data(), 6, 1);
  EXPECT_THROW(kdist(*src, kp), Error);
  kp.k = 7;
  EXPECT_THROW(kdist(*src, kp), Error);
}

// Cosine with a zero row: the unit-sphere distances would put it at 1/2 from every row and join the
// two far clusters below at eps 0.5 (scikit-learn keeps them apart); it is refused, naming the row,
// by every index and by kdist.
TEST(DBSCAN, CosineRefusesZeroRows) {
  const std::vector<float> x = {1, 0, 1, 0.01f, 0, 0, -1, 0, -1, 0.01f};
  auto src = memory_source(x.data(), 5, 2, "z");
  DBSCANParams p;
  p.metric = Metric::Cosine;
  p.eps = 0.5;
  p.min_samples = 2;
  std::vector<DBSCANIndex> indexes = {DBSCANIndex::Exact};
#ifdef EMBCLUSTER_HAVE_FAISS
  indexes.push_back(DBSCANIndex::Flat);
#endif
  for (auto index : indexes) {
    p.index = index;
    EXPECT_ERROR(dbscan(*src, p), "z: row 2 is all zeros: the cosine metric has no direction");
  }
  KDistParams kp;
  kp.k = 2;
  kp.metric = Metric::Cosine;
  EXPECT_ERROR(kdist(*src, kp), "z: row 2 is all zeros");
  // Euclidean takes the zero row as any other.
  p = DBSCANParams{};
  p.eps = 0.5;
  p.min_samples = 2;
  EXPECT_EQ(dbscan(*src, p).n_clusters, 2);
}

TEST(KDist, MatchesBruteForce) {
  const auto b = noisy_blobs(1500, 8, 5, 13);
  for (const std::string metric : {"euclidean", "cosine"}) {
    const auto dist = brute_distances(b.x, b.n, b.d, metric == "cosine");
    for (int64_t sample : {int64_t(0), int64_t(300)}) {
      KDistParams p;
      p.k = 6;
      p.sample = sample;
      p.metric = parse_metric(metric);
      ExecutionContext ctx;
      ctx.memory_budget = sample ? (int64_t(200) << 10) : 0;  // streamed data too
      auto src = memory_source(b.x.data(), b.n, b.d);
      const auto r = kdist(*src, p, ctx);
      const int64_t m = sample ? sample : b.n;
      ASSERT_EQ(static_cast<int64_t>(r.kdist.size()), m);
      std::vector<double> want;
      for (int64_t row : r.rows) {
        std::vector<double> dr(dist.begin() + row * b.n, dist.begin() + (row + 1) * b.n);
        dr[row] = 0;  // the row itself comes first
        std::nth_element(dr.begin(), dr.begin() + (p.k - 1), dr.end());
        want.push_back(dr[p.k - 1]);
      }
      const double tol = metric == "cosine" ? 2e-5 : 2e-4;
      for (int64_t i = 0; i < m; ++i) ASSERT_NEAR(r.kdist[i], want[i], tol) << metric << " " << i;
      EXPECT_TRUE(std::is_sorted(r.kdist.begin(), r.kdist.end()));
      std::sort(want.begin(), want.end());
      ASSERT_EQ(r.quantiles.size(), 6u);
      for (const auto& [q, v] : r.quantiles) {
        const double pos = q * (m - 1);
        const auto lo = static_cast<int64_t>(std::floor(pos));
        const auto hi = std::min(lo + 1, m - 1);
        EXPECT_NEAR(v, want[lo] + (pos - lo) * (want[hi] - want[lo]), tol) << q;
      }
      EXPECT_GE(r.suggested_eps, r.quantiles.front().second);
      EXPECT_LE(r.suggested_eps, r.quantiles.back().second);
      EXPECT_EQ(r.suggested_eps, r.kdist[r.knee]);
    }
  }
  // k = 1 is the row itself.
  KDistParams p;
  p.k = 1;
  auto src = memory_source(b.x.data(), b.n, b.d);
  const auto r = kdist(*src, p);
  EXPECT_EQ(r.kdist.back(), 0.0f);
}

TEST(KDist, KneeOfAnElbowCurve) {
  // 1-D rows: 900 in a tight run (k-distance 0.01), 100 spread far apart.
  std::vector<float> x;
  for (int i = 0; i < 900; ++i) x.push_back(0.01f * i);
  for (int i = 0; i < 100; ++i) x.push_back(100.0f + 10.0f * i * i);
  KDistParams p;
  p.k = 3;
  p.sample = 0;
  auto src = memory_source(x.data(), 1000, 1);
  const auto r = kdist(*src, p);
  EXPECT_NEAR(r.quantiles[2].second, 0.01, 1e-4);
  EXPECT_LT(r.suggested_eps, 1.0);  // the knee is at the end of the flat part
  EXPECT_GE(r.suggested_eps, 0.0099);
}
