// The silhouette on a CUDA device against the CPU: exact and sampled, euclidean and cosine,
// resident and streamed (tiny device and host budgets), singletons and noise. The GPU tests are
// skipped, visibly, where no CUDA device is present; the per-element arithmetic the kernels share
// with the CPU (kernels/silhouette_math.cuh) and the device choice are checked everywhere.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <numeric>
#include <string>
#include <vector>

#include "cluster_tiles_util.h"
#include "cuda/cuda_metrics.h"
#include "embcluster/device.h"
#include "embcluster/error.h"
#include "embcluster/metrics.h"
#include "kernels/silhouette_math.cuh"
#include "testutil.h"

using namespace embcluster;

namespace {

bool have_device() { return !cuda_devices().empty(); }

#define REQUIRE_DEVICE() \
  if (!have_device()) GTEST_SKIP() << "no CUDA device"

// Overlapping blobs (a spread of silhouette values), a singleton cluster and noise in every tile.
testutil::Blobs test_blobs(int64_t n, int64_t d, int k, uint64_t seed) {
  auto b = testutil::make_blobs(n, d, k, seed, 3.0f, 5.0f);
  b.labels[5] = k;  // singleton
  for (int64_t i = 11; i < n; i += 37) b.labels[i] = -1;
  return b;
}

// Bit-for-bit equality, NaN included.
bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

MetricsParams params(const std::string& metric) {
  MetricsParams p;
  p.metric = parse_metric(metric);
  p.cosine_cluster_sums = false;  // the pairwise tiles, on either device
  return p;
}

// A context on `device` ("auto", "cpu", "cuda", "cuda:N").
ExecutionContext on(const std::string& device) {
  ExecutionContext ctx;
  ctx.device = parse_device(device);
  return ctx;
}

// GPU samples against CPU samples: NaN on the same rows, the others within tol.
void expect_close(const SilhouetteResult& gpu, const SilhouetteResult& cpu, double tol,
                  const std::string& what) {
  ASSERT_EQ(gpu.samples.size(), cpu.samples.size());
  for (size_t i = 0; i < cpu.samples.size(); ++i) {
    if (std::isnan(cpu.samples[i])) {
      ASSERT_TRUE(std::isnan(gpu.samples[i])) << what << " row " << i;
      continue;
    }
    ASSERT_NEAR(gpu.samples[i], cpu.samples[i], tol) << what << " row " << i;
  }
  EXPECT_EQ(gpu.rows_scored, cpu.rows_scored) << what;
  EXPECT_NEAR(gpu.score, cpu.score, tol) << what;
  EXPECT_NE(gpu.device.find("cuda:0"), std::string::npos) << what << ": " << gpu.device;
  EXPECT_EQ(cpu.device, "cpu") << what;
}

// The CPU primitive's sums per source row (n x k).
std::vector<double> cpu_sums(const testutil::Blobs& b, int k, TileMetric metric) {
  const auto g = testutil::group_rows(b, kSilTileRows, metric == TileMetric::cosine);
  auto cpu = make_cpu_cluster_sums(metric, k, b.d, 1);
  cpu->set_columns(g.view());
  std::vector<double> by_pos(b.n * k, 0.0), by_row(b.n * k);
  cpu->add_all_pair_sums(by_pos.data());
  for (int64_t p = 0; p < b.n; ++p)
    std::copy(by_pos.begin() + p * k, by_pos.begin() + (p + 1) * k, by_row.begin() + g.row[p] * k);
  return by_row;
}

}  // namespace

// --- the arithmetic shared with the kernels (runs everywhere) ------------------------------

TEST(SilhouetteMath, DistanceFromTheExpansion) {
  EXPECT_EQ(kern::distance_from_sq(4.0f, true), 2.0f);
  EXPECT_EQ(kern::distance_from_sq(0.0f, true), 0.0f);
  EXPECT_EQ(kern::distance_from_sq(2.0f, true), std::sqrt(2.0f));  // correctly rounded
  // Cosine on unit rows: ||a - b||^2 / 2 = 1 - a.b, clipped at 2.
  EXPECT_EQ(kern::distance_from_sq(1.0f, false), 0.5f);
  EXPECT_EQ(kern::distance_from_sq(4.5f, false), 2.0f);
  // (3, 4) against the origin; rounding below zero is clamped, not a NaN.
  EXPECT_EQ(kern::tile_distance(25.0f, 0.0f, 0.0f, true), 5.0f);
  EXPECT_EQ(kern::tile_distance(1.0f, 1.0f, 1.0000001f, true), 0.0f);
  EXPECT_EQ(kern::tile_distance(1.0f, 1.0f, -1.0f, false), 2.0f);  // opposite unit rows
  EXPECT_EQ(kern::tile_distance(1.0f, 1.0f, 0.0f, false), 1.0f);   // orthogonal
  // The same numbers as the explicit formula for a spread of values.
  for (float xn : {0.5f, 3.0f, 170.0f})
    for (float dot : {-20.0f, 0.1f, 1.4f}) {
      const float v = std::fmaf(-2.0f, dot, xn + 2.0f);
      EXPECT_EQ(kern::tile_distance(xn, 2.0f, dot, true), std::sqrt(v > 0 ? v : 0.0f));
    }
}

TEST(SilhouetteMath, ValueAndSingletons) {
  EXPECT_FLOAT_EQ(kern::silhouette_value(1.0, 3.0, false), 2.0f / 3.0f);
  EXPECT_FLOAT_EQ(kern::silhouette_value(3.0, 1.0, false), -2.0f / 3.0f);
  EXPECT_EQ(kern::silhouette_value(2.0, 3.0, true), 0.0f);   // alone in its cluster
  EXPECT_EQ(kern::silhouette_value(0.0, 0.0, false), 0.0f);  // a = b = 0: 0, not NaN
  // From sums: own cluster 1 of sizes {3, 4, 1}; a = 6 / 3, b = min(12 / 3, 5 / 1) = 4.
  const int64_t sizes[] = {3, 4, 1};
  const double sums[] = {12.0, 6.0, 5.0};
  EXPECT_FLOAT_EQ(kern::silhouette_from_sums(sums, 1, sizes, 3), (4.0f - 2.0f) / 4.0f);
  EXPECT_EQ(kern::silhouette_from_sums(sums, 2, sizes, 3), 0.0f);  // the singleton
}

TEST(SilhouetteMath, CpuSilhouetteEqualsTheSharedArithmetic) {
  // The CPU path scores with silhouette_from_sums: brute sums give the same values.
  auto b = test_blobs(700, 5, 4, 3);
  auto src = memory_source(b.x.data(), b.n, b.d);
  const auto s = silhouette(*src, b.labels, params("euclidean"), on("cpu"));
  std::vector<int64_t> sizes(5, 0);
  for (int32_t l : b.labels)
    if (l >= 0) ++sizes[l];
  for (int64_t i = 0; i < b.n; ++i) {
    if (b.labels[i] < 0) continue;
    double sums[5] = {0, 0, 0, 0, 0};
    for (int64_t j = 0; j < b.n; ++j) {
      if (b.labels[j] < 0 || j == i) continue;
      double t = 0;
      for (int64_t c = 0; c < b.d; ++c) {
        const double v = static_cast<double>(b.x[i * b.d + c]) - b.x[j * b.d + c];
        t += v * v;
      }
      sums[b.labels[j]] += std::sqrt(t);
    }
    ASSERT_NEAR(s.samples[i], kern::silhouette_from_sums(sums, b.labels[i], sizes.data(), 5), 1e-5)
        << "row " << i;
  }
}

// --- the device choice (runs everywhere) ----------------------------------------------------

TEST(CudaMetrics, DeviceChoiceIsReported) {
  auto b = test_blobs(400, 4, 3, 5);
  auto src = memory_source(b.x.data(), b.n, b.d);
  const auto cpu = silhouette(*src, b.labels, params("euclidean"), on("cpu"));
  EXPECT_EQ(cpu.device, "cpu");
  EXPECT_TRUE(cpu.device_note.empty());
  std::vector<MetricsProgress> seen;
  const auto aut = silhouette(*src, b.labels, params("euclidean"), on("auto"),
                              [&](const MetricsProgress& pr) { seen.push_back(pr); });
  // The first report comes before any work, with the note.
  ASSERT_GE(seen.size(), 2u);
  EXPECT_EQ(seen.front().rows_done, 0);
  EXPECT_EQ(seen.front().rows_total, seen.back().rows_total);
  EXPECT_EQ(seen.front().device_note, aut.device_note);
  EXPECT_EQ(seen.back().rows_done, seen.back().rows_total);
  if (have_device()) {
    EXPECT_NE(aut.device.find("cuda:0"), std::string::npos) << aut.device;
  } else {
    EXPECT_EQ(aut.device, "cpu");
    EXPECT_NE(aut.device_note.find("on the CPU"), std::string::npos) << aut.device_note;
    EXPECT_TRUE(same_bits(aut.samples, cpu.samples));
    EXPECT_ERROR(silhouette(*src, b.labels, params("euclidean"), on("cuda")), "--device cuda");
    EXPECT_ERROR(make_cuda_cluster_sums(0, TileMetric::euclidean, 3, 4, 0), "CUDA");
  }
  EXPECT_ERROR(silhouette(*src, b.labels, params("euclidean"), on("gpu")), "--device 'gpu'");
  // An index past int is refused, not wrapped round to -1 (cpu) or -2 (auto).
  EXPECT_ERROR(silhouette(*src, b.labels, params("euclidean"), on("cuda:4294967295")), "cuda:N");
  EXPECT_ERROR(silhouette(*src, b.labels, params("euclidean"), on("cuda:4294967294")), "cuda:N");
  // The cosine cluster sums stay on the CPU whatever the device.
  auto p = params("cosine");
  p.cosine_cluster_sums = true;
  EXPECT_EQ(silhouette(*src, b.labels, p).device, "cpu");
}

TEST(CudaMetrics, EvaluateReportNamesTheDevice) {
  testutil::TempDir tmp;
  auto b = test_blobs(300, 3, 3, 9);
  testutil::write_h5_f32(tmp.file("x.h5"), "/data", b.x, b.n, b.d);
  testutil::write_h5_i32(tmp.file("x.h5"), "/labels", b.labels);
  std::string out;
  ASSERT_EQ(
      testutil::run_cli("evaluate " + tmp.file("x.h5") + ":/data --labels " + tmp.file("x.h5") +
                            ":/labels --device cpu --out " + tmp.file("cpu"),
                        &out),
      0)
      << out;
  const auto r = nlohmann::json::parse(testutil::read_text(tmp.file("cpu") + "/report.json"));
  EXPECT_EQ(r["silhouette"]["device"], "cpu");
  EXPECT_EQ(r["parameters"]["device"], "cpu");
  EXPECT_NE(out.find("rows, cpu)"), std::string::npos) << out;
  ASSERT_EQ(testutil::run_cli("evaluate " + tmp.file("x.h5") + ":/data --labels " +
                                  tmp.file("x.h5") + ":/labels --out " + tmp.file("auto"),
                              &out),
            0)
      << out;
  const auto a = nlohmann::json::parse(testutil::read_text(tmp.file("auto") + "/report.json"));
  if (have_device()) {
    EXPECT_NE(a["silhouette"]["device"].get<std::string>().find("cuda"), std::string::npos);
    EXPECT_NEAR(a["silhouette"]["score"].get<double>(), r["silhouette"]["score"].get<double>(),
                1e-5);
  } else {
    EXPECT_EQ(a["silhouette"]["device"], "cpu");
    EXPECT_TRUE(a["silhouette"].contains("device_note"));
    EXPECT_EQ(a["silhouette"]["score"], r["silhouette"]["score"]);
  }
}

// --- GPU against CPU (skipped without a device) ---------------------------------------------

TEST(CudaMetrics, ExactEqualsCpuResidentAndStreamed) {
  REQUIRE_DEVICE();
  auto b = test_blobs(3000, 16, 6, 21);
  auto src = memory_source(b.x.data(), b.n, b.d);
  for (const char* metric : {"euclidean", "cosine"}) {
    const auto cpu = silhouette(*src, b.labels, params(metric), on("cpu"));
    // All the device memory (one tile pair), 16 MB (tiles of 512 rows: both sides of the
    // symmetric pass) and 256 KB (columns streamed through the pinned buffers).
    for (int64_t device_budget : {int64_t(0), int64_t(16) << 20, int64_t(256) << 10}) {
      auto p = params(metric);
      ExecutionContext ctx = on("cuda");
      ctx.device_memory_budget = device_budget;
      const auto gpu = silhouette(*src, b.labels, p, ctx);
      EXPECT_FALSE(gpu.streamed);
      expect_close(gpu, cpu, 1e-5,
                   std::string(metric) + " budget " + std::to_string(device_budget));
      EXPECT_TRUE(same_bits(silhouette(*src, b.labels, p, ctx).samples, gpu.samples));  // every run
    }
    // A host budget too small for the data: blocks of rows against blocks of rows.
    auto p = params(metric);
    ExecutionContext ctx = on("cuda");
    ctx.memory_budget = 96 << 10;
    ctx.device_memory_budget = 256 << 10;
    const auto gpu = silhouette(*src, b.labels, p, ctx);
    EXPECT_TRUE(gpu.streamed);
    EXPECT_GT(gpu.data_passes, 2);
    expect_close(gpu, cpu, 1e-5, std::string(metric) + " host-streamed");
  }
}

TEST(CudaMetrics, SampledEqualsCpu) {
  REQUIRE_DEVICE();
  auto b = test_blobs(4000, 12, 5, 8);
  auto src = memory_source(b.x.data(), b.n, b.d);
  for (const char* metric : {"euclidean", "cosine"}) {
    auto p = params(metric);
    p.sample_size = 500;
    p.seed = 4;
    const auto cpu = silhouette(*src, b.labels, p, on("cpu"));
    ExecutionContext ctx = on("cuda");
    for (int64_t host_budget : {int64_t(0), int64_t(64) << 10}) {
      for (int64_t device_budget : {int64_t(0), int64_t(128) << 10}) {
        ctx.memory_budget = host_budget;
        ctx.device_memory_budget = device_budget;
        const auto gpu = silhouette(*src, b.labels, p, ctx);
        EXPECT_EQ(gpu.method, "sampled");
        EXPECT_EQ(gpu.streamed, host_budget > 0);
        expect_close(gpu, cpu, 1e-5, std::string(metric) + " sampled");
        EXPECT_NEAR(gpu.std_error, cpu.std_error, 1e-6);
      }
    }
  }
}

TEST(CudaMetrics, PrimitiveSumsEqualCpuSums) {
  REQUIRE_DEVICE();
  auto b = testutil::make_blobs(2500, 9, 4, 31, 2.0f, 3.0f);
  const int k = 4;
  for (auto metric : {TileMetric::euclidean, TileMetric::cosine}) {
    const auto want = cpu_sums(b, k, metric);
    const auto g = testutil::group_rows(b, 0, metric == TileMetric::cosine);
    const ClusterRows rows = g.view();
    for (int64_t budget : {int64_t(0), int64_t(8) << 20, int64_t(96) << 10}) {
      auto dev = make_cuda_cluster_sums(0, metric, k, b.d, budget);
      dev->set_columns(rows);
      EXPECT_EQ(dev->columns_resident(), budget != (96 << 10)) << budget;
      std::vector<double> pairs(b.n * k, 0.0), one(b.n * k, 0.0);
      double last = 0;
      dev->add_all_pair_sums(pairs.data(), [&](double f) {
        EXPECT_GE(f, last);
        last = f;
      });
      EXPECT_DOUBLE_EQ(last, 1.0);
      std::vector<int64_t> self(b.n);
      std::iota(self.begin(), self.end(), int64_t(0));
      dev->add_sums(rows, self.data(), one.data());
      for (int64_t p = 0; p < b.n; ++p)
        for (int c = 0; c < k; ++c) {
          const double w = want[g.row[p] * k + c];
          ASSERT_NEAR(pairs[p * k + c], w, 1e-5 * (1 + w))
              << "position " << p << " budget " << budget;
          ASSERT_NEAR(one[p * k + c], w, 1e-5 * (1 + w))
              << "position " << p << " budget " << budget;
        }
      // Sums add to what the array holds.
      dev->add_sums(testutil::one_span(g.x.data(), g.cluster, 10), self.data(), one.data());
      for (int c = 0; c < k; ++c)
        EXPECT_NEAR(one[c], 2 * want[g.row[0] * k + c], 2e-5 * (1 + want[g.row[0] * k + c]));
    }
  }
}

TEST(CudaMetrics, ClusterBlocksWithoutSomeClusters) {
  REQUIRE_DEVICE();
  // Queries against a column set where cluster 1 is empty and cluster 2 spans every tile.
  const int64_t d = 5, k = 3;
  auto b = testutil::make_blobs(900, d, 2, 12);
  std::vector<int32_t> cluster(900, 2);
  std::fill(cluster.begin(), cluster.begin() + 300, 0);
  auto dev = make_cuda_cluster_sums(0, TileMetric::euclidean, k, d, 64 << 10);
  dev->set_columns(testutil::one_span(b.x.data(), cluster, 900));
  std::vector<double> sums(7 * k, 0.0);
  dev->add_sums(testutil::one_span(b.x.data(), cluster, 7), nullptr, sums.data());
  for (int64_t i = 0; i < 7; ++i) {
    double want[3] = {0, 0, 0};
    for (int64_t j = 0; j < 900; ++j) {
      double t = 0;
      for (int64_t c = 0; c < d; ++c) {
        const double v = static_cast<double>(b.x[i * d + c]) - b.x[j * d + c];
        t += v * v;
      }
      want[j < 300 ? 0 : 2] += j == i ? 0.0 : std::sqrt(t);
    }
    EXPECT_EQ(sums[i * k + 1], 0.0);
    for (int c : {0, 2}) EXPECT_NEAR(sums[i * k + c], want[c], 1e-4 * want[c]) << i << " " << c;
  }
}

TEST(CudaMetrics, PairSumsWithManySmallAndEmptyClusters) {
  REQUIRE_DEVICE();
  // Resident columns over several tiles of the symmetric pass: a cluster longer than a piece of
  // rows, empty clusters, clusters cut by tile edges; against brute-force sums in double.
  const int64_t d = 6, k = 40;
  std::vector<int64_t> start(k + 1, 0);
  for (int64_t c = 0; c < k; ++c)
    start[c + 1] = start[c] + (c == 0 ? 300 : c % 5 == 1 ? 0 : (c * 37) % 50 + 1);
  const int64_t n = start[k];
  auto b = testutil::make_blobs(n, d, 3, 17, 1.0f, 3.0f);
  std::vector<int32_t> cluster(n);
  for (int64_t c = 0; c < k; ++c)
    for (int64_t p = start[c]; p < start[c + 1]; ++p) cluster[p] = c;
  std::vector<double> want(n * k, 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      if (j == i) continue;
      double t = 0;
      for (int64_t c = 0; c < d; ++c) {
        const double v = static_cast<double>(b.x[i * d + c]) - b.x[j * d + c];
        t += v * v;
      }
      want[i * k + cluster[j]] += std::sqrt(t);
    }
  auto dev = make_cuda_cluster_sums(0, TileMetric::euclidean, k, d, int64_t(2) << 20);
  dev->set_columns(testutil::one_span(b.x.data(), cluster, n));
  ASSERT_TRUE(dev->columns_resident());
  ASSERT_LT(dev->tile() * 2, n);  // several tiles
  std::vector<double> pairs(n * k, 0.0), one(n * k, 0.0);
  dev->add_all_pair_sums(pairs.data());
  std::vector<int64_t> self(n);
  std::iota(self.begin(), self.end(), int64_t(0));
  dev->add_sums(testutil::one_span(b.x.data(), cluster, n), self.data(), one.data());
  for (int64_t p = 0; p < n; ++p)
    for (int64_t c = 0; c < k; ++c) {
      const double w = want[p * k + c];
      if (start[c] == start[c + 1]) {
        ASSERT_EQ(pairs[p * k + c], 0.0) << p << " " << c;
        ASSERT_EQ(one[p * k + c], 0.0) << p << " " << c;
      }
      ASSERT_NEAR(pairs[p * k + c], w, 1e-4 * (1 + w)) << "position " << p << " cluster " << c;
      ASSERT_NEAR(one[p * k + c], w, 1e-4 * (1 + w)) << "position " << p << " cluster " << c;
    }
}
