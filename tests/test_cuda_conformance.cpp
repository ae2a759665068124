// Backend conformance (test_cuda_* so that the GPU check runs it): the same K-means, DBSCAN and
// silhouette cases against every backend present (the CPU always; CUDA where a device exists, else
// skipped visibly). Each case checks scikit-learn's figures on fixed inputs, an independent
// verifier, or the CPU's result, and the streamed paths forced by tiny budgets against the resident
// ones.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "dbscan_cases.h"
#include "dbscan_verifier.h"
#include "embcluster/assign.h"
#include "embcluster/dbscan.h"
#include "embcluster/device.h"
#include "embcluster/kmeans.h"
#include "embcluster/metrics.h"
#include "embcluster/pca.h"
#include "embcluster/prepare.h"
#include "testutil.h"

using namespace embcluster;

namespace {

const std::string kData = EMBCLUSTER_TEST_DATA;

// One backend: the CPU, or CUDA device 0.
class Backend : public ::testing::TestWithParam<DeviceKind> {
 protected:
  void SetUp() override {
    if (GetParam() == DeviceKind::Cuda && cuda_devices().empty()) GTEST_SKIP() << "no CUDA device";
  }
  ExecutionContext ctx() const {
    ExecutionContext c;
    c.device.kind = GetParam();
    return c;
  }
  static ExecutionContext cpu() {
    ExecutionContext c;
    c.device.kind = DeviceKind::Cpu;
    return c;
  }
  // The run on this backend was on the device it was asked for.
  void expect_device(const std::string& device) const {
    if (GetParam() == DeviceKind::Cuda)
      EXPECT_NE(device.find("cuda:0"), std::string::npos) << device;
    else
      EXPECT_EQ(device.find("cuda"), std::string::npos) << device;
  }
};

std::string backend_name(const ::testing::TestParamInfo<DeviceKind>& info) {
  return to_string(info.param);
}

// --- K-means ---------------------------------------------------------------

class KMeansConformance : public Backend {
 protected:
  // Host blocks streamed every iteration (and, on a device, a budget that holds few of them)
  // give the resident run's labels and centroids.
  void expect_streamed_equal(Source& src, const KMeansParams& p, const KMeansResult& resident) {
    ExecutionContext small = ctx();
    small.memory_budget = 1 << 20;
    small.device_memory_budget = GetParam() == DeviceKind::Cuda ? 8 << 20 : 0;
    const auto streamed = kmeans(src, p, small);
    EXPECT_TRUE(streamed.streamed);
    EXPECT_EQ(streamed.labels, resident.labels);
    EXPECT_EQ(streamed.centroids, resident.centroids);
  }
};

TEST_P(KMeansConformance, WineFromScikitLearnsCentresGivesItsLabelsAndInertia) {
  auto src = prepare_source(open_source(kData + "/wine.csv"), "standard");
  const auto ref = nlohmann::json::parse(testutil::read_text(kData + "/wine_kmeans_ref.json"));
  const int64_t d = src->cols();
  const auto x = read_all(*src);
  std::vector<float> init;
  for (int r : ref["init_rows"])
    init.insert(init.end(), x.begin() + r * d, x.begin() + (r + 1) * d);
  testutil::TempDir tmp;
  testutil::write_h5_f32(tmp.file("init.h5"), "/c", init, 3, d);
  KMeansParams p;
  p.n_clusters = 3;
  p.init = InitMethod::File;
  p.init_file = tmp.file("init.h5") + ":/c";
  const auto r = kmeans(*src, p, ctx());
  expect_device(r.device);
  const double want = ref["inertia"];
  EXPECT_NEAR(r.inertia, want, 1e-5 * want);
  EXPECT_EQ(r.iterations, ref["n_iter"].get<int>());
  EXPECT_EQ(r.labels, ref["labels"].get<std::vector<int32_t>>());
}

TEST_P(KMeansConformance, BlobsEqualTheCpuAndStreamingEqualsResident) {
  const auto b = testutil::make_blobs(30000, 48, 40, 2);
  auto src = memory_source(b.x.data(), b.n, b.d);
  KMeansParams p;
  p.n_clusters = 40;
  p.seed = 3;
  // Both runs start from the centres of one CPU iteration after k-means++: a device measures the
  // k-means++ candidates' distances in another order, which may draw other rows.
  p.max_iter = 1;
  const auto start = kmeans(*src, p, cpu());
  testutil::TempDir tmp;
  testutil::write_h5_f32(tmp.file("init.h5"), "/c", start.centroids, 40, b.d);
  p.init = InitMethod::File;
  p.init_file = tmp.file("init.h5") + ":/c";
  p.max_iter = 300;
  const auto cpu_run = kmeans(*src, p, cpu());
  const auto r = kmeans(*src, p, ctx());
  EXPECT_EQ(r.labels, cpu_run.labels);
  EXPECT_EQ(r.centroids, cpu_run.centroids);
  EXPECT_NEAR(r.inertia, cpu_run.inertia, 1e-5 * cpu_run.inertia);
  EXPECT_DOUBLE_EQ(testutil::adjusted_rand_index(r.labels, b.labels), 1.0);
  expect_streamed_equal(*src, p, r);
}

// From the same initial centres the run equals the CPU's bit for bit (labels, centres, inertia,
// iterations): more centres than one GEMM tile (8192), rows wider than a thread block (136), a
// block of several device chunks, an initial centre repeated (an empty cluster, moved), resident
// and streamed. The blobs lie far apart, so that no row's nearest centre is in doubt.
TEST_P(KMeansConformance, ManyCentresEqualTheCpuBitForBitFromTheSameStart) {
  const int64_t k = 8300, d = 136, n = 65536 + 3 * 4096 + 77;
  const auto b = testutil::make_blobs(n, d, static_cast<int>(k), 4);
  auto src = memory_source(b.x.data(), b.n, b.d);
  std::vector<float> init(static_cast<size_t>(k * d));
  std::vector<char> seen(static_cast<size_t>(k), 0);
  for (int64_t i = 0; i < n; ++i)  // the first row of every blob
    if (!seen[b.labels[i]]) {
      seen[b.labels[i]] = 1;
      std::copy(b.x.begin() + i * d, b.x.begin() + (i + 1) * d, init.begin() + b.labels[i] * d);
    }
  std::copy(init.begin(), init.begin() + d, init.begin() + (k - 1) * d);  // centre k-1 = centre 0
  testutil::TempDir tmp;
  testutil::write_h5_f32(tmp.file("init.h5"), "/c", init, k, d);
  KMeansParams p;
  p.n_clusters = k;
  p.init = InitMethod::File;
  p.init_file = tmp.file("init.h5") + ":/c";
  p.max_iter = 2;
  const auto r = kmeans(*src, p, ctx());
  expect_device(r.device);
  const auto want = GetParam() == DeviceKind::Cpu ? r : kmeans(*src, p, cpu());
  EXPECT_GT(r.empty_cluster_relocations, 0);
  EXPECT_EQ(r.labels, want.labels);
  EXPECT_EQ(r.centroids, want.centroids);
  EXPECT_EQ(r.inertia, want.inertia);
  EXPECT_EQ(r.iterations, want.iterations);
  ExecutionContext small = ctx();
  small.memory_budget = 8 << 20;  // blocks of a few units of rows
  small.device_memory_budget = GetParam() == DeviceKind::Cuda ? 64 << 20 : 0;
  const auto streamed = kmeans(*src, p, small);
  EXPECT_TRUE(streamed.streamed);
  EXPECT_EQ(streamed.labels, want.labels);
  EXPECT_EQ(streamed.centroids, want.centroids);
  EXPECT_EQ(streamed.inertia, want.inertia);
}

// Spherical K-means and assign on this backend equal the CPU's run (rows normalised as read,
// centres renormalised on the host after every update).
TEST_P(KMeansConformance, SphericalAndAssignEqualTheCpu) {
  const auto b = testutil::make_blobs(20000, 32, 12, 4, 4.0f, 10.0f);
  auto src = memory_source(b.x.data(), b.n, b.d);
  KMeansParams p;
  p.n_clusters = 12;
  p.seed = 5;
  p.metric = Metric::Cosine;
  const auto cpu_run = kmeans(*src, p, cpu());
  const auto r = kmeans(*src, p, ctx());
  expect_device(r.device);
  EXPECT_EQ(r.labels, cpu_run.labels);
  EXPECT_NEAR(r.inertia, cpu_run.inertia, 1e-5 * cpu_run.inertia);
  AssignParams ap;
  ap.metric = Metric::Cosine;
  EXPECT_EQ(assign(*src, r.centroids, 12, ap, ctx()).labels, r.labels);
  p.metric = Metric::Euclidean;
  const auto e = kmeans(*src, p, ctx());
  const auto a = assign(*src, e.centroids, 12, {}, ctx());
  EXPECT_EQ(a.labels, e.labels);
  EXPECT_EQ(a.inertia, e.inertia);
}

// Sample weights on this backend: the CPU's labels and inertia (the device sums the weighted
// rows in the same order), streamed equal to resident; weights of 1 give the unweighted bits.
TEST_P(KMeansConformance, WeightedEqualsTheCpu) {
  const auto b = testutil::make_blobs(24000, 24, 16, 6, 4.0f, 10.0f);
  auto src = memory_source(b.x.data(), b.n, b.d);
  KMeansParams p;
  p.n_clusters = 16;
  p.seed = 8;
  p.sample_weight.assign(static_cast<size_t>(b.n), 1.0);
  const auto unit = kmeans(*src, p, ctx());
  p.sample_weight.clear();
  const auto plain = kmeans(*src, p, ctx());
  EXPECT_EQ(unit.centroids, plain.centroids);
  EXPECT_EQ(unit.inertia, plain.inertia);
  for (int64_t i = 0; i < b.n; ++i) p.sample_weight.push_back(0.25 * static_cast<double>(i % 7));
  const auto cpu_run = kmeans(*src, p, cpu());
  const auto r = kmeans(*src, p, ctx());
  expect_device(r.device);
  EXPECT_EQ(r.labels, cpu_run.labels);
  EXPECT_NEAR(r.inertia, cpu_run.inertia, 1e-9 * cpu_run.inertia);
  expect_streamed_equal(*src, p, r);
}

// --- PCA -------------------------------------------------------------------

using PCAConformance = Backend;

// The covariance on this backend (cuBLAS Dsyrk and cuSOLVER on a device) equals the CPU's
// (BLAS dsyrk, LAPACK): mean, explained variance and components up to sign; a device budget that
// streams the rows in small chunks gives the same model.
TEST_P(PCAConformance, ModelEqualsTheCpu) {
  const auto b = testutil::make_blobs(20000, 40, 7, 3, 3.0f, 10.0f);
  std::vector<float> x = b.x;
  for (size_t i = 0; i < x.size(); ++i) x[i] += 1000.0f + static_cast<float>(i % 40);  // offset
  auto src = memory_source(x.data(), b.n, b.d);
  const PCAModel cpu_model = fit_pca(*src, 6, cpu());
  EXPECT_EQ(cpu_model.device.find("cpu"), 0u) << cpu_model.device;
  const PCAModel m = fit_pca(*src, 6, ctx());
  expect_device(m.device);
  for (int64_t j = 0; j < b.d; ++j) EXPECT_NEAR(m.mean[j], cpu_model.mean[j], 1e-9);
  for (int c = 0; c < 6; ++c) {
    EXPECT_NEAR(m.explained_variance[c], cpu_model.explained_variance[c],
                1e-9 * cpu_model.explained_variance[0]);
    for (int64_t j = 0; j < b.d; ++j)
      EXPECT_NEAR(m.components[c * b.d + j], cpu_model.components[c * b.d + j], 1e-5);
  }
  EXPECT_NEAR(m.total_variance, cpu_model.total_variance, 1e-9 * cpu_model.total_variance);
  ExecutionContext small = ctx();
  small.memory_budget = 256 << 10;
  small.device_memory_budget = GetParam() == DeviceKind::Cuda ? 4 << 20 : 0;
  const PCAModel streamed = fit_pca(*src, 6, small);
  for (int c = 0; c < 6; ++c)
    EXPECT_NEAR(streamed.explained_variance[c], m.explained_variance[c],
                1e-12 * m.explained_variance[0]);
}

// --- DBSCAN ----------------------------------------------------------------

using DBSCANConformance = Backend;

DBSCANResult run_dbscan(const std::vector<float>& x, int64_t n, int64_t d, const DBSCANParams& p,
                        const ExecutionContext& ctx) {
  auto src = memory_source(x.data(), n, d);
  return dbscan(*src, p, ctx);
}

TEST_P(DBSCANConformance, ScikitLearnsLabelsEuclideanAndCosine) {
  for (auto [name, file, metric] : {std::make_tuple("blobs", "dbscan_blobs.npy", "euclidean"),
                                    std::make_tuple("cosine", "dbscan_cosine.npy", "cosine")}) {
    const auto c = testutil::load_case(name, file);
    const auto r = run_dbscan(c.x, c.n, c.d, testutil::params_for(c, metric), ctx());
    expect_device(r.device);
    EXPECT_EQ(r.labels, c.labels) << name;
    EXPECT_EQ(r.core, c.core) << name;
    EXPECT_EQ(r.n_clusters, c.json["n_clusters"].get<int64_t>()) << name;
  }
}

TEST_P(DBSCANConformance, NoisyBlobsPassTheVerifierForEveryMinSamples) {
  const auto b = testutil::noisy_blobs(4000, 24, 8, 9);
  const auto dist = testutil::brute_distances(b.x, b.n, b.d, false);
  DBSCANParams p;
  p.eps = 5.4;
  for (int64_t m : {1, 2, 6, 25}) {
    p.min_samples = m;
    const auto r = run_dbscan(b.x, b.n, b.d, p, ctx());
    EXPECT_EQ(testutil::verify_dbscan(dist, b.n, p.eps, m, r.labels, r.core), "") << m;
    EXPECT_EQ(r.labels, run_dbscan(b.x, b.n, b.d, p, cpu()).labels) << m;
  }
}

TEST_P(DBSCANConformance, TinyBudgetsStreamWithTheSameLabels) {
  const auto b = testutil::noisy_blobs(20000, 32, 12, 4);
  DBSCANParams p;
  p.eps = 6.3;
  p.min_samples = 10;
  const auto resident = run_dbscan(b.x, b.n, b.d, p, ctx());
  EXPECT_GT(resident.n_clusters, 1);
  EXPECT_GT(resident.n_noise, 0);
  ExecutionContext small = ctx();
  small.memory_budget = 400 << 10;
  small.device_memory_budget = GetParam() == DeviceKind::Cuda ? 2 << 20 : 0;
  const auto streamed = run_dbscan(b.x, b.n, b.d, p, small);
  EXPECT_TRUE(streamed.streamed);
  EXPECT_EQ(streamed.labels, resident.labels);
  EXPECT_EQ(streamed.core, resident.core);
}

// --- Silhouette ------------------------------------------------------------

using SilhouetteConformance = Backend;

// scikit-learn's per-row values for the rows that are scored (noise left out).
void expect_scikit_learn_samples(const SilhouetteResult& s, const std::vector<int32_t>& labels,
                                 const nlohmann::json& want, double tol) {
  size_t next = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] == -1) {
      EXPECT_TRUE(std::isnan(s.samples[i])) << "noise row " << i;
      continue;
    }
    ASSERT_LT(next, want.size());
    EXPECT_NEAR(s.samples[i], want[next++].get<double>(), tol) << "row " << i;
  }
  EXPECT_EQ(next, want.size());
}

TEST_P(SilhouetteConformance, ScikitLearnsScoresEuclideanAndCosineTiles) {
  const auto ref = nlohmann::json::parse(testutil::read_text(kData + "/metrics_ref.json"));
  auto src = open_source(kData + "/metrics_data.npy");
  const auto labels = read_labels(kData + "/metrics_labels.npy", src->rows());
  for (Metric metric : {Metric::Euclidean, Metric::Cosine}) {
    MetricsParams p;
    p.metric = metric;
    p.cosine_cluster_sums = false;  // pairwise distance tiles, on the backend under test
    const auto s = silhouette(*src, labels, p, ctx());
    const auto& want = ref[to_string(metric)];
    EXPECT_EQ(s.method, "exact");
    EXPECT_NEAR(s.score, want["silhouette"].get<double>(), 1e-6) << to_string(metric);
    expect_scikit_learn_samples(s, labels, want["samples"], 1e-5);
  }
}

TEST_P(SilhouetteConformance, SampledRowsAndStreamedDataEqualTheExactScores) {
  const auto b = testutil::make_blobs(3000, 16, 6, 21, 4.0f, 12.0f);
  auto src = memory_source(b.x.data(), b.n, b.d);
  MetricsParams p;
  const auto exact = silhouette(*src, b.labels, p, ctx());
  // The sampled rows are scored exactly against all rows: their values are the exact ones.
  MetricsParams sp = p;
  sp.sample_size = 400;
  const auto sampled = silhouette(*src, b.labels, sp, ctx());
  EXPECT_EQ(sampled.rows_scored, 400);
  int64_t seen = 0;
  for (int64_t i = 0; i < b.n; ++i) {
    if (std::isnan(sampled.samples[i])) continue;
    ++seen;
    EXPECT_NEAR(sampled.samples[i], exact.samples[i], 1e-6) << "row " << i;
  }
  EXPECT_EQ(seen, 400);
  EXPECT_LE(sampled.ci_low, exact.score + 0.05);
  EXPECT_GE(sampled.ci_high, exact.score - 0.05);
  // Blocks of rows against blocks of rows under a host budget far below the data.
  ExecutionContext small = ctx();
  small.memory_budget = 96 << 10;
  small.device_memory_budget = GetParam() == DeviceKind::Cuda ? 256 << 10 : 0;
  const auto streamed = silhouette(*src, b.labels, p, small);
  EXPECT_TRUE(streamed.streamed);
  EXPECT_NEAR(streamed.score, exact.score, 1e-6);
  for (int64_t i = 0; i < b.n; ++i)
    ASSERT_NEAR(streamed.samples[i], exact.samples[i], 1e-6) << "row " << i;
}

const auto kBackends = ::testing::Values(DeviceKind::Cpu, DeviceKind::Cuda);
INSTANTIATE_TEST_SUITE_P(Backends, KMeansConformance, kBackends, backend_name);
INSTANTIATE_TEST_SUITE_P(Backends, DBSCANConformance, kBackends, backend_name);
INSTANTIATE_TEST_SUITE_P(Backends, PCAConformance, kBackends, backend_name);
INSTANTIATE_TEST_SUITE_P(Backends, SilhouetteConformance, kBackends, backend_name);

}  // namespace
