// Exact DBSCAN on a CUDA device against the CPU beyond the conformance suite
// (test_cuda_conformance.cpp: scikit-learn's data and noisy blobs on every backend): identical
// labels and core flags far from the origin, with tiny device budgets that stream chunks, and on
// edge cases. The GPU tests skip, visibly, where no
// CUDA device is present; the __host__ __device__ arithmetic and union-find steps the kernels run
// are checked here on the CPU everywhere.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>
#include <thread>
#include <vector>

#include "algo/spatial/dbscan_tiles.h"
#include "core/union_find.h"
#include "dbscan_cases.h"
#include "dbscan_verifier.h"
#include "embcluster/dbscan.h"
#include "embcluster/device.h"
#include "embcluster/error.h"
#include "kernels/dbscan_math.cuh"
#include "testutil.h"

using namespace embcluster;
using testutil::load_case;
using testutil::noisy_blobs;
using testutil::params_for;
using testutil::RefCase;

namespace {

bool have_device() { return !cuda_devices().empty(); }

#define REQUIRE_DEVICE() \
  if (!have_device()) GTEST_SKIP() << "no CUDA device"

DBSCANResult run(const std::vector<float>& x, int64_t n, int64_t d, const DBSCANParams& p,
                 const std::string& device, ExecutionContext ctx = {}) {
  ctx.device = parse_device(device);
  auto src = memory_source(x.data(), n, d);
  return dbscan(*src, p, ctx);
}

std::string note(const DBSCANResult& r, const std::string& key) {
  for (const auto& [k, v] : r.notes)
    if (k == key) return v;
  return "";
}

// Runs on the CPU and the GPU and expects the very same result.
DBSCANResult expect_gpu_equals_cpu(const std::vector<float>& x, int64_t n, int64_t d,
                                   const DBSCANParams& p, const std::string& what) {
  const auto cpu = run(x, n, d, p, "cpu");
  const auto gpu = run(x, n, d, p, "cuda");
  EXPECT_NE(gpu.device.find("cuda:0"), std::string::npos) << what << ": " << gpu.device;
  EXPECT_EQ(gpu.core, cpu.core) << what;
  EXPECT_EQ(gpu.labels, cpu.labels) << what;
  EXPECT_EQ(gpu.n_clusters, cpu.n_clusters) << what;
  EXPECT_EQ(gpu.cluster_sizes, cpu.cluster_sizes) << what;
  for (const auto& s : gpu.passes)
    EXPECT_EQ(s.far + s.near + s.settled + s.gemm, s.tile_pairs) << what << " " << s.pass;
  return gpu;
}

// A plain (single-threaded) parent array for the union-find steps.
struct PlainParents {
  std::vector<int64_t>* p;
  int64_t load(int64_t i) const { return (*p)[i]; }
  void halve(int64_t i, int64_t expect, int64_t to) {
    if ((*p)[i] == expect) (*p)[i] = to;
  }
  bool link(int64_t i, int64_t expect, int64_t to) {
    if ((*p)[i] != expect) return false;
    (*p)[i] = to;
    return true;
  }
};

// Lowest member of each row's connected component (reference labelling by flooding).
std::vector<int64_t> component_minimum(int64_t n, const std::vector<std::pair<int, int>>& edges) {
  std::vector<int64_t> m(static_cast<size_t>(n));
  std::iota(m.begin(), m.end(), 0);
  for (bool changed = true; changed;) {
    changed = false;
    for (auto [a, b] : edges) {
      const int64_t v = std::min(m[a], m[b]);
      if (m[a] != v || m[b] != v) m[a] = m[b] = v, changed = true;
    }
  }
  return m;
}

}  // namespace

// --- The __host__ __device__ helpers, on the CPU ------------------------------------------------

TEST(DbscanMath, WithinEpsIsTheDirectSumsDecisionAtTheEdge) {
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const int64_t d = 96;
  const float scale = static_cast<float>(rounding_scale(d));
  int in_band = 0;
  for (float offset : {0.0f, 64.0f, 1000.0f}) {
    for (int trial = 0; trial < 200; ++trial) {
      std::vector<float> x(d), y(d);
      for (int64_t j = 0; j < d; ++j) {
        x[j] = offset + normal(rng);
        y[j] = x[j] + 0.05f * normal(rng);
      }
      const float nx = kern::sq_norm(x.data(), d), ny = kern::sq_norm(y.data(), d);
      // A dot product summed in another order than a GEMM would: still within the band.
      double dot = 0;
      for (int64_t j = d - 1; j >= 0; --j) dot += double(x[j]) * y[j];
      const float direct = kern::sq_l2(x.data(), y.data(), d);
      for (float eps2 : {direct, std::nextafter(direct, 0.0f), std::nextafter(direct, 1e30f),
                         direct * 0.5f, direct * 2.0f}) {
        const bool want = direct <= eps2;
        EXPECT_EQ(kern::dbscan_within(float(dot), nx, ny, eps2, scale, x.data(), y.data(), d), want)
            << "offset " << offset << " trial " << trial;
        const float e = kern::dbscan_band(scale, nx, ny);
        const float v = kern::expanded_sq_dist(nx, ny, float(dot));
        in_band += v >= eps2 - e && v <= eps2 + e;
      }
    }
  }
  EXPECT_GT(in_band, 0);  // the direct sum was exercised
}

TEST(DbscanMath, SettledDistanceRecomputesOnlyInsideTheBand) {
  const float x[3] = {1, 2, 3}, y[3] = {1, 2, 5};
  EXPECT_EQ(kern::settled_sq_dist(7.0f, 3.0f, 5.0f, x, y, 3), 7.0f);  // above the band
  EXPECT_EQ(kern::settled_sq_dist(2.0f, 3.0f, 5.0f, x, y, 3), 2.0f);  // below
  EXPECT_EQ(kern::settled_sq_dist(3.5f, 3.0f, 5.0f, x, y, 3), 4.0f);  // inside: direct sum
  EXPECT_EQ(kern::dbscan_band(0.5f, 2.0f, 4.0f), 3.0f);
}

TEST(DbscanMath, TilePairKindFromBounds) {
  const double s = rounding_scale(4);
  // Centres 10 apart, radii 1: distances between 8 and 12.
  EXPECT_EQ(kern::tile_pair_kind(100, 1, 1, 1, 1, 7.9 * 7.9, s), kern::kTilesFar);
  EXPECT_EQ(kern::tile_pair_kind(100, 1, 1, 1, 1, 12.1 * 12.1, s), kern::kTilesNear);
  EXPECT_EQ(kern::tile_pair_kind(100, 1, 1, 1, 1, 10 * 10, s), kern::kTilesMixed);
  // Right at the bounds the rounding margin keeps the pair mixed.
  EXPECT_EQ(kern::tile_pair_kind(100, 1, 1, 1e6, 1e6, 8.0 * 8.0, s), kern::kTilesMixed);
  EXPECT_EQ(kern::tile_pair_kind(100, 1, 1, 1e6, 1e6, 12.0 * 12.0, s), kern::kTilesMixed);
  // A tile with itself is never far.
  EXPECT_NE(kern::tile_pair_kind(0, 3, 3, 1, 1, 1e-6, s), kern::kTilesFar);
}

TEST(DbscanMath, UnionFindStepsGiveLowestMemberRoots) {
  std::mt19937 rng(11);
  const int n = 2000;
  std::vector<std::pair<int, int>> edges;
  for (int e = 0; e < 1500; ++e) edges.emplace_back(int(rng() % n), int(rng() % n));
  const auto want = component_minimum(n, edges);

  std::vector<int64_t> parent(n);
  std::iota(parent.begin(), parent.end(), 0);
  PlainParents pp{&parent};
  int joined = 0;
  for (auto [a, b] : edges) joined += kern::uf_unite(pp, int64_t(a), int64_t(b));
  int64_t sets = 0;
  for (int i = 0; i < n; ++i) {
    EXPECT_EQ(kern::uf_find(pp, int64_t(i)), want[i]) << i;
    EXPECT_LE(parent[i], i);  // parents never above their children
    sets += want[i] == i;
  }
  EXPECT_EQ(joined, n - sets);  // unite reports each merge once

  // Many threads through the concurrent union-find (the same steps over std::atomic).
  ConcurrentUnionFind uf(n);
  std::vector<std::thread> pool;
  for (int t = 0; t < 4; ++t)
    pool.emplace_back([&, t] {
      for (size_t e = t; e < edges.size(); e += 4) uf.unite(edges[e].first, edges[e].second);
    });
  for (auto& th : pool) th.join();
  uf.flatten();
  for (int i = 0; i < n; ++i) EXPECT_EQ(uf.root(i), want[i]) << i;
}

// --- Device choice (everywhere) -----------------------------------------------------------------

TEST(CudaDBSCAN, DeviceChoiceIsConsistentWithTheBuild) {
  if (!cuda_built()) EXPECT_TRUE(cuda_devices().empty());
  const auto b = noisy_blobs(600, 4, 3, 1);
  DBSCANParams p;
  p.eps = 2.0;
  p.min_samples = 5;
  const auto r = run(b.x, b.n, b.d, p, "auto");
  if (!have_device()) {
    EXPECT_NE(r.device.find("cpu"), std::string::npos);
    EXPECT_NE(note(r, "device_note").find("using the CPU"), std::string::npos);
    EXPECT_ERROR(run(b.x, b.n, b.d, p, "cuda:0"), "--device");
  } else {
    EXPECT_NE(r.device.find("cuda:0"), std::string::npos) << r.device;
    EXPECT_EQ(note(r, "device_note"), "");
  }
  EXPECT_EQ(run(b.x, b.n, b.d, p, "cpu").labels, r.labels);
  // The choice is announced first, before any pass.
  std::vector<DBSCANProgress> seen;
  auto src = memory_source(b.x.data(), b.n, b.d);
  dbscan(*src, p, {}, [&](const DBSCANProgress& pr) { seen.push_back(pr); });
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.front().phase, "device");
  EXPECT_EQ(seen.front().note, note(r, "device_note"));
  EXPECT_ERROR(run(b.x, b.n, b.d, p, "gpu"), "--device");
  EXPECT_ERROR(run(b.x, b.n, b.d, p, "cuda:x"), "--device");
  EXPECT_ERROR(run(b.x, b.n, b.d, p, "cuda:99"), "--device");
  // The FAISS indexes run on the CPU whatever the device.
  p.index = DBSCANIndex::Flat;
  const auto flat = run(b.x, b.n, b.d, p, "auto");
  EXPECT_NE(flat.device.find("cpu"), std::string::npos);
  EXPECT_EQ(flat.labels, r.labels);
}

// --- GPU against CPU ----------------------------------------------------------------------------



TEST(CudaDBSCAN, AnOffsetInTheDataChangesNothing) {
  // Far from the origin the expansion loses the digits that decide pairs near eps: both devices
  // recompute those by the same direct sum.
  REQUIRE_DEVICE();
  RefCase c = load_case("blobs", "dbscan_blobs.npy");
  for (auto& v : c.x) v += 64.0f;
  const auto gpu = expect_gpu_equals_cpu(c.x, c.n, c.d, params_for(c, "euclidean"), "offset 64");
  EXPECT_EQ(gpu.labels, c.labels);
}

TEST(CudaDBSCAN, TinyDeviceBudgetsStreamChunksWithTheSameResult) {
  ExecutionContext ctx;
  REQUIRE_DEVICE();
  const auto b = noisy_blobs(20000, 32, 12, 4);
  DBSCANParams p;
  p.eps = 6.3;
  p.min_samples = 10;
  const auto cpu = run(b.x, b.n, b.d, p, "cpu", ctx);
  EXPECT_GT(cpu.n_clusters, 1);
  EXPECT_GT(cpu.n_noise, 0);
  const auto resident = run(b.x, b.n, b.d, p, "cuda", ctx);
  EXPECT_EQ(note(resident, "gpu_streamed"), "0");
  EXPECT_EQ(resident.labels, cpu.labels);
  EXPECT_EQ(resident.core, cpu.core);
  // 2.6 MB of rows: budgets that hold a few chunks of them at a time.
  for (int64_t budget : {int64_t(1500) << 10, int64_t(2) << 20, int64_t(3) << 20}) {
    ctx.device_memory_budget = budget;
    const auto r = run(b.x, b.n, b.d, p, "cuda", ctx);
    EXPECT_EQ(note(r, "gpu_streamed"), "1") << budget;
    EXPECT_GT(std::stoll(note(r, "gpu_chunks")), 1) << budget;
    EXPECT_EQ(r.labels, cpu.labels) << budget;
    EXPECT_EQ(r.core, cpu.core) << budget;
  }
  // Host blocks streamed too, and host blocks streamed with the device holding them all.
  ctx.memory_budget = 400 << 10;
  for (int64_t budget : {int64_t(2) << 20, int64_t(0)}) {
    ctx.device_memory_budget = budget;
    const auto host_cpu = run(b.x, b.n, b.d, p, "cpu", ctx);
    ASSERT_TRUE(host_cpu.streamed);
    EXPECT_EQ(host_cpu.labels, cpu.labels);
    const auto r = run(b.x, b.n, b.d, p, "cuda", ctx);
    EXPECT_TRUE(r.streamed);
    EXPECT_EQ(note(r, "gpu_streamed"), budget ? "1" : "0") << budget;
    EXPECT_EQ(r.labels, cpu.labels) << budget;
    EXPECT_EQ(r.core, cpu.core) << budget;
  }
  // A budget that cannot hold the per-row arrays is an error naming it.
  ctx.device_memory_budget = 64 << 10;
  EXPECT_ERROR(run(b.x, b.n, b.d, p, "cuda", ctx), "device memory budget");
}

TEST(CudaDBSCAN, EdgeCases) {
  REQUIRE_DEVICE();
  const std::vector<float> x = {0.0f, 0.1f, 5.0f, 10.0f, 10.05f, 20.0f};
  DBSCANParams p;
  p.eps = 0.5;
  p.min_samples = 1;  // every row core
  EXPECT_EQ(run(x, 6, 1, p, "cuda").labels, (std::vector<int32_t>{0, 0, 1, 2, 2, 3}));
  p.min_samples = 7;  // all noise
  EXPECT_EQ(run(x, 6, 1, p, "cuda").n_noise, 6);
  p.eps = 1e6;  // one cluster
  p.min_samples = 6;
  EXPECT_EQ(run(x, 6, 1, p, "cuda").labels, std::vector<int32_t>(6, 0));
  const std::vector<float> same(40 * 3, 1.5f);  // identical rows
  p.eps = 1e-3;
  p.min_samples = 40;
  const auto r = run(same, 40, 3, p, "cuda");
  EXPECT_EQ(r.n_clusters, 1);
  EXPECT_EQ(r.n_core, 40);
  p.min_samples = 1;
  EXPECT_EQ(run(same, 1, 3, p, "cuda").labels, std::vector<int32_t>{0});
  // The border rule: cluster 0 keeps the border row between two clusters.
  const std::vector<float> line = {1.3f, -0.9f, 0.9f, 1.7f, 2.1f, -1.3f, -1.7f, -2.1f, 0.0f};
  p.eps = 1.0;
  p.min_samples = 4;
  EXPECT_EQ(run(line, 9, 1, p, "cuda").labels, run(line, 9, 1, p, "cpu").labels);
}

// Union-find under contention: 100,000 rows of one dense cloud, every row core with hundreds of
// neighbours across hundreds of tiles, so that many threads join the same roots at once. The
// answer needs no reference: one cluster of every row, labelled 0, no noise.
TEST(CudaDBSCAN, OneDenseCloudOverManyTilesIsOneCluster) {
  REQUIRE_DEVICE();
  const int64_t n = 100000, d = 4;
  std::mt19937 gen(17);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n * d));
  for (auto& v : x) v = u(gen);
  DBSCANParams p;
  p.eps = 0.25;  // ~1,900 neighbours in the middle of the cube, > 100 at a corner
  p.min_samples = 10;
  const auto r = run(x, n, d, p, "cuda");
  EXPECT_NE(r.device.find("cuda"), std::string::npos) << r.device;
  EXPECT_EQ(r.n_clusters, 1);
  EXPECT_EQ(r.n_noise, 0);
  EXPECT_EQ(r.n_core, n);
  EXPECT_EQ(std::count(r.labels.begin(), r.labels.end(), 0), n);
  EXPECT_GT(r.tiles, 100);
}

TEST(CudaDBSCAN, ManyTilesFarApart) {
  REQUIRE_DEVICE();
  const auto b = testutil::make_blobs(60000, 64, 60, 2, 1.0f, 40.0f);
  DBSCANParams p;
  p.eps = 9.0;
  p.min_samples = 5;
  const auto gpu = expect_gpu_equals_cpu(b.x, b.n, b.d, p, "blobs");
  ASSERT_FALSE(gpu.passes.empty());
  EXPECT_GT(gpu.passes.front().far, gpu.passes.front().tile_pairs / 2);
}

TEST(CudaDBSCAN, CommandNamesTheDevice) {
  testutil::TempDir tmp;
  const auto b = noisy_blobs(2000, 8, 4, 3);
  testutil::write_h5_f32(tmp.file("x.h5"), "/data", b.x, b.n, b.d);
  const std::string args = "dbscan " + tmp.file("x.h5") + ":/data --eps 3 --min-samples 5 --quiet ";
  std::string out;
  ASSERT_EQ(testutil::run_cli(args + "--device cpu --out " + tmp.file("cpu"), &out), 0) << out;
  ASSERT_EQ(testutil::run_cli(args + "--device auto --out " + tmp.file("auto"), &out), 0) << out;
  auto report = [&](const std::string& dir) {
    return nlohmann::json::parse(testutil::read_text(tmp.file(dir) + "/report.json"));
  };
  const auto cpu = report("cpu"), any = report("auto");
  EXPECT_EQ(cpu["device"].get<std::string>().rfind("cpu", 0), 0u) << cpu["device"];
  EXPECT_EQ(any["parameters"]["device"], "auto");
  EXPECT_EQ(any["n_clusters"], cpu["n_clusters"]);
  EXPECT_EQ(any["n_core"], cpu["n_core"]);
  EXPECT_EQ(testutil::read_h5(tmp.file("auto") + "/labels.h5", "/labels"),
            testutil::read_h5(tmp.file("cpu") + "/labels.h5", "/labels"));
  if (have_device()) {
    EXPECT_NE(any["device"].get<std::string>().find("cuda:0"), std::string::npos);
    EXPECT_TRUE(any.contains("gpu"));
  } else {
    EXPECT_NE(any["device_note"].get<std::string>().find("using the CPU"), std::string::npos);
    EXPECT_NE(testutil::run_cli(args + "--device cuda", &out), 0);
    EXPECT_NE(out.find("--device"), std::string::npos) << out;
  }
  EXPECT_NE(testutil::run_cli(args + "--device tpu", &out), 0);
  EXPECT_NE(out.find("--device"), std::string::npos) << out;
}
