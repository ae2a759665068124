// The silhouette's backend primitive (backend/cluster_sums.h), the same cases against every
// backend present: the CPU always, CUDA where a device exists (skipped, visibly, elsewhere).
// Sums against brute force in double, in the layout each backend asks the driver for.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "algo/metrics/metric_labels.h"
#include "algo/metrics/silhouette_run.h"
#include "backend/cluster_sums.h"
#include "cluster_tiles_util.h"
#include "cuda/cuda_metrics.h"
#include "embcluster/device.h"
#include "embcluster/metrics.h"
#include "testutil.h"

using namespace embcluster;

namespace {

class ClusterSumsConformance : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "cuda" && cuda_devices().empty()) GTEST_SKIP() << "no CUDA device";
  }
  // device_budget: CUDA's device memory (0 = most of it); small ones stream the columns.
  std::unique_ptr<ClusterDistanceSums> make(TileMetric metric, int64_t k, int64_t d,
                                            int64_t device_budget = 0) {
    if (GetParam() == "cpu") return make_cpu_cluster_sums(metric, k, d, 2);
    return make_cuda_cluster_sums(0, metric, k, d, device_budget);
  }
  // Bit for bit on the CPU; the GPU's sums may round differently when the work is cut otherwise.
  double same_tol() const { return GetParam() == "cpu" ? 0.0 : 1e-6; }
};

// sums[p * k + c]: the distances from grouped row p to the grouped rows of cluster c, in double
// from the rows as the backend sees them (unit rows for cosine); a row is at 0 from itself.
std::vector<double> brute_sums(const testutil::GroupedRows& g, int64_t d, int64_t k, bool cosine) {
  const int64_t n = static_cast<int64_t>(g.row.size());
  std::vector<double> sums(n * k, 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      if (i == j) continue;
      double sq = 0, dot = 0;
      for (int64_t t = 0; t < d; ++t) {
        const double a = g.x[i * d + t], b = g.x[j * d + t];
        sq += (a - b) * (a - b);
        dot += a * b;
      }
      sums[i * k + g.cluster[j]] +=
          cosine ? std::min(2.0, std::max(0.0, 1.0 - dot)) : std::sqrt(sq);
    }
  return sums;
}

void expect_near_sums(const std::vector<double>& got, const std::vector<double>& want,
                      const std::string& what) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i)
    ASSERT_NEAR(got[i], want[i], 1e-4 * (1 + want[i])) << what << " entry " << i;
}

// The CPU backend in CUDA's layout (every set grouped as one span): the driver's other path,
// checked where there is no device.
class OneSpanCpu final : public ClusterDistanceSums {
 public:
  OneSpanCpu(TileMetric metric, int64_t k, int64_t d)
      : cpu_(make_cpu_cluster_sums(metric, k, d, 2)) {}
  std::string device_name() const override { return "cpu, one span"; }
  ClusterSumsLayout layout() const override { return ClusterSumsLayout{0, 16, 0}; }
  void set_columns(const ClusterRows& c) override { cpu_->set_columns(c); }
  void add_sums(const ClusterRows& q, const int64_t* self, double* sums,
                const Progress& progress) override {
    cpu_->add_sums(q, self, sums, progress);
  }
  void add_all_pair_sums(double* sums, const Progress& progress) override {
    cpu_->add_all_pair_sums(sums, progress);
  }

 private:
  std::unique_ptr<ClusterDistanceSums> cpu_;
};

}  // namespace

TEST(SilhouetteDriver, OneSpanLayoutScoresAsTheCpu) {
  auto b = testutil::make_blobs(12000, 8, 7, 5, 3.0f, 5.0f);
  for (int64_t i = 0; i < b.n; i += 37) b.labels[i] = -1;
  auto src = memory_source(b.x.data(), b.n, b.d);
  MetricsParams p;
  ExecutionContext ctx;
  ctx.device = parse_device("cpu");
  p.cosine_cluster_sums = false;
  const DenseLabels L = dense_labels(b.labels, b.n, "blobs", false);
  std::vector<int64_t> sample;
  for (int64_t i = 3; i < b.n; i += 7)
    if (b.labels[i] >= 0) sample.push_back(i);
  for (const char* metric : {"euclidean", "cosine"}) {
    p.metric = parse_metric(metric);
    ctx.memory_budget = 0;
    const auto want = silhouette(*src, b.labels, p, ctx).samples;
    OneSpanCpu be(p.metric == Metric::Cosine ? TileMetric::cosine : TileMetric::euclidean, L.k, b.d);
    // Every pair held; slabs of rows held (the 672 KB of rows and a slab's 459 KB of sums, not
    // every row's 654 KB); blocks of rows streamed.
    for (int64_t budget : {int64_t(0), int64_t(1200000), int64_t(200) << 10, int64_t(64) << 10}) {
      ctx.memory_budget = budget;
      for (bool sampled : {false, true}) {
        int64_t last = 0;
        const auto got = silhouette_scores(
            *src, L, p, ctx, be, sampled ? sample : std::vector<int64_t>(), [&](int64_t done) {
              EXPECT_GE(done, last);
              last = done;
            });
        EXPECT_EQ(got.streamed, budget > 0 && budget < 1000000) << metric << " " << budget;
        EXPECT_EQ(last, sampled ? static_cast<int64_t>(sample.size()) : L.rows_in);
        size_t next = 0;
        for (int64_t i = 0; i < b.n; ++i) {
          const bool scored = b.labels[i] >= 0 &&
                              (!sampled || (next < sample.size() && sample[next] == i && ++next));
          ASSERT_EQ(std::isnan(got.samples[i]), !scored) << metric << " row " << i;
          if (scored) ASSERT_NEAR(got.samples[i], want[i], 1e-5) << metric << " row " << i;
        }
      }
    }
  }
}

TEST_P(ClusterSumsConformance, PairAndQuerySumsEqualBruteForce) {
  // Several tiles, noise left out, a singleton cluster.
  auto b = testutil::make_blobs(2600, 7, 5, 21, 3.0f, 4.0f);
  b.labels[100] = 5;
  for (int64_t i = 13; i < b.n; i += 41) b.labels[i] = -1;
  const int64_t k = 6;
  for (auto metric : {TileMetric::euclidean, TileMetric::cosine}) {
    const bool cosine = metric == TileMetric::cosine;
    for (int64_t budget : {int64_t(0), int64_t(96) << 10}) {
      auto be = make(metric, k, b.d, budget);
      const auto g = testutil::group_rows(b, be->layout().span, cosine);
      const auto want = brute_sums(g, b.d, k, cosine);
      const int64_t n = static_cast<int64_t>(g.row.size());
      be->set_columns(g.view());
      std::vector<double> pairs(n * k, 0.0), one(n * k, 0.0);
      double last = 0;
      be->add_all_pair_sums(pairs.data(), [&](double f) {
        EXPECT_GE(f, last);
        last = f;
      });
      EXPECT_DOUBLE_EQ(last, 1.0);
      std::vector<int64_t> self(n);
      std::iota(self.begin(), self.end(), int64_t(0));
      be->add_sums(g.view(), self.data(), one.data());
      const std::string what =
          std::string(cosine ? "cosine" : "euclidean") + " budget " + std::to_string(budget);
      expect_near_sums(pairs, want, what + " pairs");
      expect_near_sums(one, want, what + " queries");
    }
  }
}

TEST_P(ClusterSumsConformance, QueriesCutIntoCallsAddUp) {
  auto b = testutil::make_blobs(3000, 9, 4, 8, 2.0f, 3.0f);
  const int64_t k = 4;
  auto be = make(TileMetric::euclidean, k, b.d);
  const auto g = testutil::group_rows(b, be->layout().span, false);
  const int64_t n = static_cast<int64_t>(g.row.size());
  be->set_columns(g.view());
  std::vector<int64_t> self(n);
  std::iota(self.begin(), self.end(), int64_t(0));
  std::vector<double> whole(n * k, 0.0), parts(n * k, 0.0);
  be->add_sums(g.view(), self.data(), whole.data());
  // The first span (or the first 1000 rows of one span), then the rest.
  const bool spans = g.span_rows.size() > 1;
  const int64_t cut = spans ? g.span_rows[0] : 1000;
  const ClusterRows head{g.x.data(), g.cluster.data(), cut, spans ? g.span_rows.data() : nullptr,
                         spans ? 1 : 0};
  const ClusterRows rest{g.x.data() + cut * b.d, g.cluster.data() + cut, n - cut,
                         spans ? g.span_rows.data() + 1 : nullptr,
                         spans ? static_cast<int64_t>(g.span_rows.size()) - 1 : 0};
  be->add_sums(head, self.data(), parts.data());
  be->add_sums(rest, self.data() + cut, parts.data() + cut * k);
  for (int64_t i = 0; i < n * k; ++i)
    ASSERT_NEAR(parts[i], whole[i], same_tol() * (1 + whole[i])) << "entry " << i;
  // Sums add to what the array holds.
  be->add_sums(head, self.data(), parts.data());
  for (int64_t i = 0; i < cut * k; ++i) ASSERT_NEAR(parts[i], 2 * whole[i], 1e-9 * (1 + whole[i]));
}

TEST_P(ClusterSumsConformance, ClustersMissingFromTheColumnsSumToZero) {
  // Queries of every cluster against columns of clusters 0 and 2 only.
  auto b = testutil::make_blobs(1500, 5, 3, 12);
  const int64_t k = 3;
  auto be = make(TileMetric::euclidean, k, b.d);
  const auto all = testutil::group_rows(b, be->layout().span, false);
  auto cols_blobs = b;
  for (auto& l : cols_blobs.labels)
    if (l == 1) l = -1;
  const auto cols = testutil::group_rows(cols_blobs, be->layout().span, false);
  be->set_columns(cols.view());
  std::vector<double> sums(all.row.size() * k, 0.0);
  be->add_sums(all.view(), nullptr, sums.data());
  for (size_t p = 0; p < all.row.size(); ++p) {
    EXPECT_EQ(sums[p * k + 1], 0.0) << p;
    EXPECT_GT(sums[p * k + 0], 0.0) << p;
    EXPECT_GT(sums[p * k + 2], 0.0) << p;
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, ClusterSumsConformance, ::testing::Values("cpu", "cuda"),
                         [](const auto& info) { return info.param; });
