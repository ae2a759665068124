// The silhouette's backend primitive (backend/cluster_sums.h), the same cases against every
// backend present: the CPU always, CUDA where a device exists (skipped, visibly, elsewhere).
// Sums against brute force in double, in the layout each backend asks the driver for.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "backend/cluster_sums.h"
#include "cluster_tiles_util.h"
#include "cuda/cuda_metrics.h"
#include "embcluster/device.h"
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

}  // namespace

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
