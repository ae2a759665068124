// The CUDA backend against the CPU: same labels, same inertia, streaming equals resident.
// Skipped, visibly, where no CUDA device is present.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "algo/backend.h"
#include "algo/kmeans_init.h"
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

KMeansParams params(int64_t k, const std::string& device) {
  KMeansParams p;
  p.n_clusters = k;
  p.device = device;
  p.seed = 3;
  return p;
}

}  // namespace

TEST(CudaKMeans, DeviceListIsConsistentWithTheBuild) {
  // Runs everywhere: without a CUDA build there are no devices, and auto falls back to the CPU.
  if (!cuda_built()) EXPECT_TRUE(cuda_devices().empty());
  auto b = testutil::make_blobs(500, 4, 2, 1);
  auto src = memory_source(b.x.data(), b.n, b.d);
  auto r = kmeans(*src, params(2, "auto"));
  if (!have_device()) {
    EXPECT_NE(r.device.find("cpu"), std::string::npos);
    bool noted = false;
    for (auto& [k, v] : r.notes) noted |= k == "device_note" && v.find("using the CPU") != std::string::npos;
    EXPECT_TRUE(noted);
    try {
      kmeans(*src, params(2, "cuda:0"));
      ADD_FAILURE() << "cuda:0 accepted without a device";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("--device"), std::string::npos) << e.what();
    }
  }
}

TEST(CudaKMeans, SameLabelsAndInertiaAsTheCpu) {
  REQUIRE_DEVICE();
  auto b = testutil::make_blobs(40000, 64, 50, 2);
  auto src = memory_source(b.x.data(), b.n, b.d);
  auto cpu = kmeans(*src, params(50, "cpu"));
  auto gpu = kmeans(*src, params(50, "cuda"));
  EXPECT_EQ(gpu.labels, cpu.labels);
  EXPECT_NEAR(gpu.inertia, cpu.inertia, 1e-5 * cpu.inertia);
  EXPECT_DOUBLE_EQ(testutil::adjusted_rand_index(gpu.labels, b.labels), 1.0);
  EXPECT_NE(gpu.device.find("cuda:0"), std::string::npos);
}

TEST(CudaKMeans, OverlappingBlobsStayCloseToTheCpu) {
  REQUIRE_DEVICE();
  auto b = testutil::make_blobs(30000, 32, 40, 4, 3.0f, 5.0f);
  auto src = memory_source(b.x.data(), b.n, b.d);
  auto p = params(40, "cpu");
  p.max_iter = 20;
  auto cpu = kmeans(*src, p);
  p.device = "cuda";
  auto gpu = kmeans(*src, p);
  EXPECT_NEAR(gpu.inertia, cpu.inertia, 1e-5 * cpu.inertia);
  EXPECT_GT(testutil::adjusted_rand_index(gpu.labels, cpu.labels), 0.99);
}

TEST(CudaKMeans, StreamingEqualsResident) {
  REQUIRE_DEVICE();
  auto b = testutil::make_blobs(60000, 32, 20, 5, 2.0f, 6.0f);
  auto src = memory_source(b.x.data(), b.n, b.d);
  auto p = params(20, "cuda");
  p.max_iter = 15;
  auto resident = kmeans(*src, p);
  p.device_memory_budget = 4 << 20;  // far below the 7.7 MB of data
  p.memory_budget = 1 << 20;         // host blocks streamed too
  auto streamed = kmeans(*src, p);
  EXPECT_EQ(resident.labels, streamed.labels);
  EXPECT_EQ(resident.centroids, streamed.centroids);
  EXPECT_EQ(resident.inertia, streamed.inertia);
}

TEST(CudaKMeans, KMeansPlusPlusPicksDistinctValidRows) {
  REQUIRE_DEVICE();
  auto b = testutil::make_blobs(8000, 16, 10, 6);
  auto be = make_cuda_kmeans_backend(params(10, "cuda"), 0);
  Rng rng(9);
  auto rows = kmeans_plus_plus(b.x.data(), b.n, b.d, 10, rng, *be);
  std::set<int64_t> distinct(rows.begin(), rows.end());
  EXPECT_EQ(distinct.size(), 10u);
  for (auto r : rows) EXPECT_TRUE(r >= 0 && r < b.n);
}

TEST(CudaKMeans, ReducedPrecisionReportsAgreement) {
  REQUIRE_DEVICE();
  auto b = testutil::make_blobs(20000, 64, 16, 7);
  auto src = memory_source(b.x.data(), b.n, b.d);
  for (const char* prec : {"tf32", "bf16"}) {
    auto p = params(16, "cuda");
    p.precision = prec;
    auto r = kmeans(*src, p);
    bool reported = false;
    for (auto& [k, v] : r.notes) reported |= k == "labels_differing_from_fp32";
    EXPECT_TRUE(reported) << prec;
    EXPECT_GT(testutil::adjusted_rand_index(r.labels, b.labels), 0.999) << prec;
  }
}
