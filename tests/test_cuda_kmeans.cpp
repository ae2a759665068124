// The CUDA K-means backend beyond the conformance suite (test_cuda_conformance.cpp): the CPU's
// labels from the same seed, overlapping data, k-means++, reduced precision, the backend
// primitives on exact data.
// Skipped, visibly, where no CUDA device is present.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "algo/kmeans/kmeans_init.h"
#include "algo/kmeans/kmeans_parallel.h"
#include "backend/kmeans_backend.h"
#include "cuda/cuda_backend.h"
#include "embcluster/device.h"
#include "embcluster/error.h"
#include "embcluster/kmeans.h"
#include "testutil.h"

using namespace embcluster;

namespace {

bool have_device() { return !cuda_devices().empty(); }

#define REQUIRE_DEVICE() \
  if (!have_device()) GTEST_SKIP() << "no CUDA device"

KMeansParams params(int64_t k) {
  KMeansParams p;
  p.n_clusters = k;
  p.seed = 3;
  return p;
}

// A context on `device` ("auto", "cpu", "cuda", "cuda:N").
ExecutionContext on(const std::string& device) {
  ExecutionContext ctx;
  ctx.device = parse_device(device);
  return ctx;
}

}  // namespace

TEST(CudaKMeans, DeviceListIsConsistentWithTheBuild) {
  // Runs everywhere: without a CUDA build there are no devices, and auto falls back to the CPU.
  if (!cuda_built()) EXPECT_TRUE(cuda_devices().empty());
  auto b = testutil::make_blobs(500, 4, 2, 1);
  auto src = memory_source(b.x.data(), b.n, b.d);
  std::vector<KMeansProgress> seen;
  auto r = kmeans(*src, params(2), on("auto"), [&](const KMeansProgress& p) { seen.push_back(p); });
  // The device is announced first, before any pass over the data.
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.front().phase, "device");
  EXPECT_EQ(seen.front().device, r.device);
  if (!have_device()) {
    EXPECT_NE(seen.front().device_note.find("using the CPU"), std::string::npos);
    EXPECT_NE(r.device.find("cpu"), std::string::npos);
    bool noted = false;
    for (auto& [k, v] : r.notes)
      noted |= k == "device_note" && v.find("using the CPU") != std::string::npos;
    EXPECT_TRUE(noted);
    try {
      kmeans(*src, params(2), on("cuda:0"));
      ADD_FAILURE() << "cuda:0 accepted without a device";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("--device"), std::string::npos) << e.what();
    }
  }
}

namespace {

// Parameters for k clusters that start from k rows of x spread evenly over it (written to
// tmp/init.h5), so that a GPU and a CPU run start alike whatever their k-means++ distances.
KMeansParams from_rows(const testutil::Blobs& b, int64_t k, const testutil::TempDir& tmp) {
  std::vector<float> init;
  for (int64_t c = 0; c < k; ++c) {
    const int64_t i = c * b.n / k;
    init.insert(init.end(), b.x.begin() + i * b.d, b.x.begin() + (i + 1) * b.d);
  }
  testutil::write_h5_f32(tmp.file("init.h5"), "/c", init, k, b.d);
  auto p = params(k);
  p.init = InitMethod::File;
  p.init_file = tmp.file("init.h5") + ":/c";
  return p;
}

}  // namespace

// GPU and CPU from the same centres; also the small case the GPU check runs under memcheck.
TEST(CudaKMeans, SameLabelsAndInertiaAsTheCpu) {
  REQUIRE_DEVICE();
  auto b = testutil::make_blobs(40000, 64, 50, 2);
  auto src = memory_source(b.x.data(), b.n, b.d);
  testutil::TempDir tmp;
  const auto p = from_rows(b, 50, tmp);
  auto cpu = kmeans(*src, p, on("cpu"));
  auto gpu = kmeans(*src, p, on("cuda"));
  EXPECT_EQ(gpu.labels, cpu.labels);
  EXPECT_EQ(gpu.centroids, cpu.centroids);  // the same sums, in the same order
  EXPECT_NEAR(gpu.inertia, cpu.inertia, 1e-5 * cpu.inertia);
  EXPECT_NE(gpu.device.find("cuda:0"), std::string::npos);
}


TEST(CudaKMeans, OverlappingBlobsStayCloseToTheCpu) {
  REQUIRE_DEVICE();
  auto b = testutil::make_blobs(30000, 32, 40, 4, 3.0f, 5.0f);
  auto src = memory_source(b.x.data(), b.n, b.d);
  testutil::TempDir tmp;
  auto p = from_rows(b, 40, tmp);
  p.max_iter = 20;
  auto cpu = kmeans(*src, p, on("cpu"));
  auto gpu = kmeans(*src, p, on("cuda"));
  EXPECT_NEAR(gpu.inertia, cpu.inertia, 1e-5 * cpu.inertia);
  EXPECT_GT(testutil::adjusted_rand_index(gpu.labels, cpu.labels), 0.99);
}


TEST(CudaKMeans, KMeansPlusPlusPicksDistinctValidRows) {
  REQUIRE_DEVICE();
  auto b = testutil::make_blobs(8000, 16, 10, 6);
  auto be = make_cuda_kmeans_backend(params(10), on("cuda"), 0);
  Rng rng(9);
  auto rows = kmeans_plus_plus(b.x.data(), b.n, b.d, 10, rng, *be, 2);
  std::set<int64_t> distinct(rows.begin(), rows.end());
  EXPECT_EQ(distinct.size(), 10u);
  for (auto r : rows) EXPECT_TRUE(r >= 0 && r < b.n);
}

TEST(CudaKMeans, ReducedPrecisionReportsAgreement) {
  REQUIRE_DEVICE();
  auto b = testutil::make_blobs(20000, 64, 16, 7);
  auto src = memory_source(b.x.data(), b.n, b.d);
  for (const char* prec : {"tf32", "bf16"}) {
    auto p = params(16);
    p.precision = parse_precision(prec);
    auto r = kmeans(*src, p, on("cuda"));
    bool reported = false;
    for (auto& [k, v] : r.notes) reported |= k == "labels_differing_from_fp32";
    EXPECT_TRUE(reported) << prec;
    EXPECT_GT(testutil::adjusted_rand_index(r.labels, b.labels), 0.999) << prec;
  }
}

// More than 2^31 values (2,101,248 rows of 1,024): every index into the rows must be 64-bit.
// Eight far-apart centres, row i in cluster i % 8 with small deterministic noise, the start at
// rows 0..7: every label is known, and the centres are the clusters' means.
TEST(CudaKMeans, MoreThanTwoToThe31ValuesKeepEveryLabel) {
  REQUIRE_DEVICE();
  const int64_t d = 1024, n = (int64_t(1) << 31) / d + 4096, k = 8;
  std::vector<float> x(static_cast<size_t>(n * d));
  uint32_t state = 1;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < d; ++j) {
      state = state * 1664525u + 1013904223u;
      const float centre = (j % k == i % k) ? 100.0f : 0.0f;
      x[static_cast<size_t>(i * d + j)] = centre + static_cast<float>(state >> 24) / 256.0f - 0.5f;
    }
  auto src = memory_source(x.data(), n, d);
  testutil::TempDir tmp;
  std::vector<float> init(x.begin(), x.begin() + k * d);
  testutil::write_h5_f32(tmp.file("init.h5"), "/c", init, k, d);
  auto p = params(k);
  p.init = InitMethod::File;
  p.init_file = tmp.file("init.h5") + ":/c";
  p.max_iter = 3;
  const auto r = kmeans(*src, p, on("cuda"));
  ASSERT_EQ(static_cast<int64_t>(r.labels.size()), n);
  int64_t wrong = 0;
  for (int64_t i = 0; i < n; ++i) wrong += r.labels[i] != static_cast<int32_t>(i % k);
  EXPECT_EQ(wrong, 0);
  for (int64_t c = 0; c < k; ++c) {
    EXPECT_EQ(r.sizes[c], n / k + (c < n % k ? 1 : 0)) << c;
    EXPECT_NEAR(r.centroids[c * d + c], 100.0f, 0.01f) << c;          // a column of its own
    EXPECT_NEAR(r.centroids[c * d + (c + 1) % k], 0.0f, 0.01f) << c;  // another cluster's
  }
}

// Streamed rows go to the device straight from the driver's page-locked block buffers (no
// staging copy), with the resident run's result.
TEST(CudaKMeans, StreamedBlocksAreCopiedFromPinnedBuffers) {
  REQUIRE_DEVICE();
  auto b = testutil::make_blobs(40000, 32, 8, 3);
  auto src = memory_source(b.x.data(), b.n, b.d);
  const auto resident = kmeans(*src, params(8), on("cuda"));
  testutil::TempDir tmp;
  testutil::write_h5_f32(tmp.file("x.h5"), "/x", b.x, b.n, b.d);
  auto file = open_source(tmp.file("x.h5") + ":/x");
  ExecutionContext small = on("cuda");
  small.memory_budget = 1 << 20;           // blocks of 4,096 rows, streamed from the file
  small.device_memory_budget = 256 << 10;  // and not kept on the device
  const auto streamed = kmeans(*file, params(8), small);
  EXPECT_TRUE(streamed.streamed);
  EXPECT_EQ(streamed.labels, resident.labels);
  EXPECT_EQ(streamed.centroids, resident.centroids);
  std::string chunks;
  for (auto& [k, v] : streamed.notes)
    if (k == "streamed_chunks") chunks = v;
  long long direct = -1, staged = -1;
  ASSERT_EQ(
      std::sscanf(chunks.c_str(), "%lld copied from pinned buffers, %lld staged", &direct, &staged),
      2)
      << chunks;
  EXPECT_GT(direct, 0) << chunks;
  EXPECT_EQ(staged, 0) << chunks;
}

// Embeddings far from the origin: reduced precision runs on rows and centres shifted by the
// centres' mean, so that its rounding scales with the spread of the data and not with its offset.
TEST(CudaKMeans, ReducedPrecisionAgreesWithFp32FarFromTheOrigin) {
  REQUIRE_DEVICE();
  // Blobs in a box of 10 moved 1000 away: bfloat16 steps of 4 there, so unshifted dot products
  // are off by ~1e4 to 1e5, against differences of squared distances of ~1e3 between the blobs.
  auto b = testutil::make_blobs(20000, 64, 16, 7, 1.0f, 10.0f);
  for (auto& v : b.x) v += 1000.0f;
  auto src = memory_source(b.x.data(), b.n, b.d);
  for (const char* prec : {"tf32", "bf16"}) {
    auto p = params(16);
    p.precision = parse_precision(prec);
    auto r = kmeans(*src, p, on("cuda"));
    std::string agreement;
    for (auto& [k, v] : r.notes)
      if (k == "labels_differing_from_fp32") agreement = v;
    long long differing = -1, sampled = 0;
    ASSERT_EQ(std::sscanf(agreement.c_str(), "%lld of %lld", &differing, &sampled), 2) << prec;
    EXPECT_GT(sampled, 1000) << prec;
    EXPECT_LE(differing * 1000, sampled) << prec << ": " << agreement;
    EXPECT_GT(testutil::adjusted_rand_index(r.labels, b.labels), 0.999) << prec;
  }
}

namespace {

// Small integers: every dot product, norm and partial distance is exact in fp32, tf32 and bf16,
// so the device must give the CPU's labels bit for bit, ties (lowest index) included.
std::vector<float> small_integers(int64_t count, uint32_t seed) {
  std::vector<float> v(static_cast<size_t>(count));
  uint32_t s = seed;
  for (auto& x : v) {
    s = s * 1664525u + 1013904223u;
    x = static_cast<float>(static_cast<int>((s >> 16) % 5) - 2);
  }
  return v;
}

struct PassResult {
  std::vector<int32_t> labels;
  std::vector<float> dist;
  ClusterSums sums;
};

// One pass over rows split into blocks of block_rows, as the driver makes it.
PassResult run_pass(KMeansBackend& be, const std::vector<float>& x, int64_t n, int64_t d,
                    const std::vector<float>& centres, int64_t k, int64_t block_rows,
                    const double* w = nullptr) {
  PassResult r;
  be.set_weights(w);
  r.labels.assign(static_cast<size_t>(n), -1);
  r.dist.assign(static_cast<size_t>(n), -1.0f);
  be.set_centroids(centres.data(), k, d);
  r.sums.reset(k, d);
  be.begin_pass(&r.sums);
  for (int64_t b = 0, start = 0; start < n; ++b, start += block_rows) {
    const Block blk{b, start, std::min(block_rows, n - start), d, x.data() + start * d};
    be.assign(blk, r.labels.data() + start, r.dist.data() + start, &r.sums);
  }
  be.end_pass(&r.sums);
  r.sums.finish();
  return r;
}

void expect_same_pass(const PassResult& gpu, const PassResult& cpu, const std::string& what) {
  EXPECT_EQ(gpu.labels, cpu.labels) << what;
  EXPECT_EQ(gpu.dist, cpu.dist) << what;
  EXPECT_EQ(gpu.sums.sums, cpu.sums.sums) << what;
  EXPECT_EQ(gpu.sums.counts, cpu.sums.counts) << what;
  EXPECT_EQ(gpu.sums.sq_dist, cpu.sums.sq_dist) << what;
  EXPECT_EQ(gpu.sums.weight, cpu.sums.weight) << what;
}

}  // namespace

TEST(CudaKMeans, BackendEqualsTheCpuOnExactDataInEveryPrecisionAndLayout) {
  REQUIRE_DEVICE();
  // More centres than one GEMM tile (8192), the last tile partial, centres duplicated across the
  // tile boundary (ties go to the lower index); rows in two blocks, the last one partial.
  const int64_t n = 5000, d = 8, k = 8192 + 300, block_rows = 4096;
  const auto x = small_integers(n * d, 1);
  auto centres = small_integers(k * d, 2);
  std::copy(centres.begin(), centres.begin() + 300 * d, centres.begin() + 8192 * d);
  auto moved = centres;  // a second pass from other centres (resident blocks are reused)
  std::reverse(moved.begin(), moved.end());
  // Then other data of the same shape but fewer columns: a resident copy must not be reused.
  const int64_t d2 = 4;
  const auto x2 = small_integers(n * d2, 3);
  const auto centres2 = small_integers(k * d2, 4);

  auto cpu = make_cpu_kmeans_backend(2);
  const PassResult want1 = run_pass(*cpu, x, n, d, centres, k, block_rows);
  const PassResult want2 = run_pass(*cpu, x, n, d, moved, k, block_rows);
  const PassResult want3 = run_pass(*cpu, x2, n, d2, centres2, k, block_rows);
  for (const char* prec : {"fp32", "tf32", "bf16"}) {
    for (int64_t budget : {int64_t(0), int64_t(1) << 20}) {  // resident, then streamed
      auto p = params(k);
      p.precision = parse_precision(prec);
      ExecutionContext ctx = on("cuda");
      ctx.device_memory_budget = budget;
      auto gpu = make_cuda_kmeans_backend(p, ctx, 0);
      const std::string what = std::string(prec) + (budget ? " streamed" : " resident");
      expect_same_pass(run_pass(*gpu, x, n, d, centres, k, block_rows), want1, what);
      expect_same_pass(run_pass(*gpu, x, n, d, moved, k, block_rows), want2, what + " again");
      expect_same_pass(run_pass(*gpu, x2, n, d2, centres2, k, block_rows), want3, what + " d=4");
    }
  }
}

// Real-valued rows, whose sums depend on the order of the additions: the device makes them per
// unit and cluster as the CPU does (kernels/unit_sums.cuh), so every bit agrees, with the units
// buffered (default budget) or walked by one block per cluster (small budget), with and without
// weights, over two pieces and blocks of three units, with one cluster holding most rows.
TEST(CudaKMeans, ClusterSumsEqualTheCpuBitForBitOnRealValuedData) {
  REQUIRE_DEVICE();
  const int64_t n = kSumPieceRows + 5 * 4096 + 123, d = 37, k = 9, block_rows = 3 * 4096;
  std::mt19937 gen(7);
  std::normal_distribution<float> noise(0.0f, 1.0f);
  std::vector<float> centres(static_cast<size_t>(k * d));
  for (int64_t c = 0; c < k; ++c)  // far apart: every row's nearest centre is beyond doubt
    for (int64_t j = 0; j < d; ++j) centres[c * d + j] = 40.0f * (c + 1) * noise(gen);
  std::vector<float> x(static_cast<size_t>(n * d));
  std::uniform_int_distribution<int> pick(0, 3 * static_cast<int>(k));
  for (int64_t i = 0; i < n; ++i) {
    const int64_t c = pick(gen) < 2 * k ? 0 : pick(gen) % k;
    for (int64_t j = 0; j < d; ++j) x[i * d + j] = centres[c * d + j] + 0.7f * noise(gen);
  }
  std::vector<double> w(static_cast<size_t>(n));
  std::uniform_real_distribution<double> uw(0.05, 3.0);
  for (auto& v : w) v = uw(gen);
  auto cpu = make_cpu_kmeans_backend(2);
  const double* none = nullptr;
  for (const double* weights : {none, static_cast<const double*>(w.data())}) {
    const PassResult want = run_pass(*cpu, x, n, d, centres, k, block_rows, weights);
    // 16 KiB: too little for a unit's buffered sums (9 x 37 doubles), so one block per cluster.
    for (int64_t budget : {int64_t(0), int64_t(16) << 10}) {
      ExecutionContext ctx = on("cuda");
      ctx.device_memory_budget = budget;
      auto gpu = make_cuda_kmeans_backend(params(k), ctx, 0);
      const std::string what = std::string(weights ? "weighted" : "plain") +
                               (budget ? ", small budget" : ", default budget");
      expect_same_pass(run_pass(*gpu, x, n, d, centres, k, block_rows, weights), want, what);
    }
  }
}

TEST(CudaKMeans, SampleDistancesEqualTheCpuOnExactData) {
  REQUIRE_DEVICE();
  const int64_t n = 3000, d = 12, m = 7;
  const auto x = small_integers(n * d, 5);
  const auto y = small_integers(m * d, 6);
  auto cpu = make_cpu_kmeans_backend(2);
  for (const char* prec : {"fp32", "tf32"}) {  // k-means++ runs in fp32 whatever the precision
    auto p = params(4);
    p.precision = parse_precision(prec);
    auto gpu = make_cuda_kmeans_backend(p, on("cuda"), 0);
    std::vector<float> want(static_cast<size_t>(n * m)), got(want.size(), -1.0f);
    cpu->set_sample(x.data(), n, d);
    cpu->sample_sq_distances(y.data(), m, want.data());
    gpu->set_sample(x.data(), n, d);
    gpu->sample_sq_distances(y.data(), 1, got.data());  // sized for one candidate first
    gpu->sample_sq_distances(y.data(), m, got.data());
    EXPECT_EQ(got, want) << prec;
  }
}

// The k-means++ rounds run on the device (kernels/kmeanspp_kernels.cu) pick the rows the host loop
// picks from the same distances: exact data, so both backends measure the same distances; with
// and without weights (some of them 0), over several chunks of the sample, the last one partial.
// The same for k-means||.
TEST(CudaKMeans, KMeansPlusPlusRoundsOnTheDeviceEqualTheHostLoop) {
  REQUIRE_DEVICE();
  const int64_t n = 3000, d = 12, k = 40;
  const auto x = small_integers(n * d, 8);
  std::vector<double> w(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) w[i] = static_cast<double>((i * 7) % 5) * 0.5;  // 0 .. 2
  auto cpu = make_cpu_kmeans_backend(2);
  auto gpu = make_cuda_kmeans_backend(params(k), on("cuda"), 0);
  const double* none = nullptr;
  for (const double* weights : {none, static_cast<const double*>(w.data())}) {
    Rng r1(21), r2(21);
    const auto want = kmeans_plus_plus(x.data(), n, d, k, r1, *cpu, 2, weights);
    const auto got = kmeans_plus_plus(x.data(), n, d, k, r2, *gpu, 2, weights);
    EXPECT_EQ(got, want) << (weights ? "weighted" : "plain");
    for (const int64_t i : got) EXPECT_TRUE(!weights || weights[i] > 0) << "row " << i;
    // k-means||: the device's assignments give the CPU's exact distances, so the same
    // candidates, and its rounds over them the host loop's picks.
    Rng r3(8), r4(8);
    const auto par_want = kmeans_parallel(x.data(), n, d, k, 2.0, 5, r3, *cpu, 2, weights);
    const auto par_got = kmeans_parallel(x.data(), n, d, k, 2.0, 5, r4, *gpu, 2, weights);
    EXPECT_EQ(par_got.candidates, par_want.candidates) << (weights ? "weighted" : "plain");
    EXPECT_EQ(par_got.rows, par_want.rows) << (weights ? "weighted" : "plain");
  }
}
