// The execution context: thread guards that restore the caller's settings, cancellation, the enums
// parsed and printed at the edges, and the two error tiers.
#include <gtest/gtest.h>
#include <omp.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "core/thread_guard.h"
#include "embcluster/context.h"
#include "embcluster/dbscan.h"
#include "embcluster/enums.h"
#include "embcluster/error.h"
#include "embcluster/kmeans.h"
#include "embcluster/metrics.h"
#include "testutil.h"

using namespace embcluster;
using testutil::cpu_context;
using testutil::make_blobs;

namespace {

// Sets the process's thread counts to values no entry point chooses, and back at the end.
class CallerThreads : public ::testing::Test {
 protected:
  void SetUp() override {
    saved_omp_ = omp_get_max_threads();
    saved_blas_ = blas_thread_count();
    omp_set_num_threads(3);
    guard_ = std::make_unique<ThreadGuard>(0, 2);
  }
  void TearDown() override {
    guard_.reset();
    omp_set_num_threads(saved_omp_);
    EXPECT_EQ(blas_thread_count(), saved_blas_);
  }
  void expect_caller_settings() {
    EXPECT_EQ(omp_get_max_threads(), 3);
    EXPECT_EQ(blas_thread_count(), 2);
  }

 private:
  int saved_omp_ = 0, saved_blas_ = 0;
  std::unique_ptr<ThreadGuard> guard_;
};

}  // namespace

TEST(ThreadGuard, RestoresOpenMPAndBLAS) {
  const int omp_before = omp_get_max_threads(), blas_before = blas_thread_count();
  {
    const ThreadGuard guard(1, 1);
    EXPECT_EQ(omp_get_max_threads(), 1);
    EXPECT_EQ(blas_thread_count(), 1);
    {
      const ThreadGuard inner(0, 2);  // 0: OpenMP left as it is
      EXPECT_EQ(omp_get_max_threads(), 1);
      EXPECT_EQ(blas_thread_count(), 2);
    }
    EXPECT_EQ(blas_thread_count(), 1);
  }
  EXPECT_EQ(omp_get_max_threads(), omp_before);
  EXPECT_EQ(blas_thread_count(), blas_before);
}

TEST_F(CallerThreads, KMeansLeavesThemAsTheyWere) {
  auto b = make_blobs(3000, 8, 4, 1);
  auto src = memory_source(b.x.data(), b.n, b.d);
  KMeansParams p;
  p.n_clusters = 4;
  const auto r = kmeans(*src, p, cpu_context(1));
  EXPECT_EQ(r.device, "cpu (1 threads)");
  expect_caller_settings();
  kmeans(*src, p, cpu_context(0));  // every core
  expect_caller_settings();
}

TEST_F(CallerThreads, DBSCANKDistAndMetricsLeaveThemAsTheyWere) {
  auto b = make_blobs(2000, 4, 3, 2);
  auto src = memory_source(b.x.data(), b.n, b.d);
  DBSCANParams p;
  p.eps = 2;
  const auto r = dbscan(*src, p, cpu_context(1));
  EXPECT_EQ(r.device, "cpu (1 threads)");
  expect_caller_settings();
  p.index = DBSCANIndex::Flat;  // FAISS: its OpenMP team and BLAS threads are set for the call
  dbscan(*src, p, cpu_context(1));
  expect_caller_settings();
  KDistParams kp;
  kdist(*src, kp, cpu_context(1));
  expect_caller_settings();
  MetricsParams mp;
  silhouette(*src, b.labels, mp, cpu_context(1));
  expect_caller_settings();
  cluster_metrics(*src, b.labels, mp, cpu_context(1));
  expect_caller_settings();
}

TEST(Context, CancelledKMeansStopsWithAnError) {
  auto b = make_blobs(5000, 8, 6, 3, 4.0f, 10.0f);
  auto src = memory_source(b.x.data(), b.n, b.d);
  KMeansParams p;
  p.n_clusters = 6;
  p.max_iter = 100;
  p.tol = 0;
  ExecutionContext ctx = cpu_context(1);
  int polls = 0;
  int iterations = 0;
  ctx.cancelled = [&] { return ++polls > 3; };
  try {
    kmeans(*src, p, ctx, [&](const KMeansProgress& pr) {
      if (pr.phase == "iterate") ++iterations;
    });
    ADD_FAILURE() << "a cancelled run returned";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "cancelled");
    EXPECT_NE(dynamic_cast<const Cancelled*>(&e), nullptr);
  }
  EXPECT_LT(iterations, 3);
  // Already cancelled: nothing runs; DBSCAN stops the same way.
  ctx.cancelled = [] { return true; };
  EXPECT_ERROR(kmeans(*src, p, ctx), "cancelled");
  DBSCANParams dp;
  EXPECT_ERROR(dbscan(*src, dp, ctx), "cancelled");
}

TEST(Context, BadValuesAreNamed) {
  auto b = make_blobs(100, 4, 2, 4);
  auto src = memory_source(b.x.data(), b.n, b.d);
  KMeansParams p;
  p.n_clusters = 2;
  ExecutionContext ctx = cpu_context(-1);
  EXPECT_ERROR(kmeans(*src, p, ctx), "threads=-1");
  ctx = cpu_context(1);
  ctx.memory_budget = -5;
  EXPECT_ERROR(dbscan(*src, DBSCANParams{}, ctx), "memory budget");
  ctx = cpu_context(1);
  ctx.device_memory_budget = -5;
  EXPECT_ERROR(kdist(*src, KDistParams{}, ctx), "device memory budget");
}

TEST(Enums, ParseAndPrintRoundTrip) {
  for (const char* w : {"euclidean", "cosine"}) EXPECT_EQ(to_string(parse_metric(w)), w);
  for (const char* w : {"fp32", "tf32", "bf16"}) EXPECT_EQ(to_string(parse_precision(w)), w);
  for (const char* w : {"exact", "flat", "ivf", "hnsw"}) EXPECT_EQ(to_string(parse_index(w)), w);
  for (const char* w : {"auto", "cpu", "cuda", "cuda:0", "cuda:7"})
    EXPECT_EQ(to_string(parse_device(w)), w);
  for (auto m : {Metric::Euclidean, Metric::Cosine}) EXPECT_EQ(parse_metric(to_string(m)), m);
  for (auto v : {Precision::Fp32, Precision::Tf32, Precision::Bf16})
    EXPECT_EQ(parse_precision(to_string(v)), v);
  for (auto v : {DBSCANIndex::Exact, DBSCANIndex::Flat, DBSCANIndex::Ivf, DBSCANIndex::Hnsw})
    EXPECT_EQ(parse_index(to_string(v)), v);
  for (auto v : {InitMethod::KMeansPlusPlus, InitMethod::Random})
    EXPECT_EQ(parse_init(to_string(v)), v);
  EXPECT_EQ(parse_init("centres.h5:/c"), InitMethod::File);
  EXPECT_EQ(parse_device("cuda").cuda_device(), 0);
  EXPECT_EQ(parse_device("cuda:3").cuda_device(), 3);
  EXPECT_EQ(parse_device("cpu").kind, DeviceKind::Cpu);
  EXPECT_EQ(ExecutionContext{}.device.kind, DeviceKind::Auto);
}

TEST(Enums, BadWordsAreRejectedWithTheParameter) {
  EXPECT_ERROR(parse_metric("manhattan"), "metric='manhattan' must be euclidean or cosine");
  EXPECT_ERROR(parse_metric("Euclidean"), "metric='Euclidean'");
  EXPECT_ERROR(parse_precision("fp16"), "precision='fp16' must be fp32, tf32 or bf16");
  EXPECT_ERROR(parse_index("kdtree"), "index='kdtree' must be exact, flat, ivf or hnsw");
  for (const char* w : {"gpu", "cuda:", "cuda:-1", "cuda:1x", "cuda:4294967295", "CPU", ""})
    EXPECT_ERROR(parse_device(w), "--device '", "must be auto, cpu, cuda or cuda:N");
}

TEST(Errors, InternalErrorIsNotAnError) {
  static_assert(std::is_base_of<std::logic_error, InternalError>::value, "a logic error");
  static_assert(!std::is_base_of<Error, InternalError>::value, "never taken for a user error");
  static_assert(std::is_base_of<Error, Cancelled>::value, "cancelling is the caller's doing");
  bool caught_as_error = false;
  try {
    try {
      EMBCLUSTER_ASSERT(1 + 1 == 3, "arithmetic ", 42);
    } catch (const Error&) {
      caught_as_error = true;
    }
    ADD_FAILURE() << "no exception";
  } catch (const InternalError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("test_context.cpp:"), std::string::npos) << what;
    EXPECT_NE(what.find("1 + 1 == 3"), std::string::npos) << what;
    EXPECT_NE(what.find("arithmetic 42"), std::string::npos) << what;
  }
  EXPECT_FALSE(caught_as_error);
  EXPECT_NO_THROW(EMBCLUSTER_ASSERT(true, "never"));
}
