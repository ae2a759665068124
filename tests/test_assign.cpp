// Assignment to given centres: the labels and inertia K-means gives for the same centres, in
// memory or streamed; cosine against a brute-force reference; bad centres named.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "embcluster/assign.h"
#include "embcluster/error.h"
#include "embcluster/kmeans.h"
#include "testutil.h"

using namespace embcluster;
using testutil::make_blobs;

TEST(Assign, GivesBackTheLabelsAndInertiaOfTheKMeansRunThatMadeTheCentres) {
  const auto b = make_blobs(30000, 12, 9, 5, 3.0f);
  auto src = memory_source(b.x.data(), b.n, b.d);
  KMeansParams kp;
  kp.n_clusters = 9;
  kp.seed = 3;
  ExecutionContext cpu;
  cpu.device = parse_device("cpu");
  const KMeansResult km = kmeans(*src, kp, cpu);
  for (const int64_t budget : {int64_t(0), int64_t(256) << 10}) {
    ExecutionContext ctx = cpu;
    ctx.memory_budget = budget;  // 0: the default; 256 KiB: streamed in many blocks
    const AssignResult a = assign(*src, km.centroids, 9, {}, ctx);
    EXPECT_EQ(a.labels, km.labels) << budget;
    EXPECT_EQ(a.sizes, km.sizes);
    EXPECT_EQ(a.inertia, km.inertia);  // the same pass, bit for bit
    double sq = 0;
    for (float v : a.distances) sq += double(v) * v;
    EXPECT_NEAR(sq, km.inertia, 1e-4 * km.inertia);
  }
}

TEST(Assign, CosineIsTheLargestSimilarityOfNormalisedRowsAndCentres) {
  const auto b = make_blobs(2000, 6, 4, 8, 2.0f);
  std::vector<float> c(b.x.begin(), b.x.begin() + 5 * 6);  // 5 rows as centres
  for (auto& v : c) v *= 3;                                // the length of a centre must not matter
  auto src = memory_source(b.x.data(), b.n, b.d);
  AssignParams p;
  p.metric = Metric::Cosine;
  ExecutionContext cpu;
  cpu.device = parse_device("cpu");
  const AssignResult a = assign(*src, c, 5, p, cpu);
  int64_t checked = 0;
  for (int64_t i = 0; i < b.n; ++i) {
    double best = -2, second = -2;
    int32_t arg = -1;
    for (int64_t j = 0; j < 5; ++j) {
      double dot = 0, nx = 0, nc = 0;
      for (int64_t t = 0; t < 6; ++t) {
        dot += double(b.x[i * 6 + t]) * c[j * 6 + t];
        nx += double(b.x[i * 6 + t]) * b.x[i * 6 + t];
        nc += double(c[j * 6 + t]) * c[j * 6 + t];
      }
      const double cs = dot / std::sqrt(nx * nc);
      if (cs > best)
        second = best, best = cs, arg = static_cast<int32_t>(j);
      else if (cs > second)
        second = cs;
    }
    if (best - second < 1e-5) continue;  // a near tie: float32 may pick either
    ++checked;
    ASSERT_EQ(a.labels[i], arg) << "row " << i;
    ASSERT_NEAR(a.distances[i], 1 - best, 1e-5) << "row " << i;
  }
  EXPECT_GT(checked, 1900);
}

TEST(Assign, BadCentresAreNamed) {
  const std::vector<float> x = {0, 0, 1, 1, 2, 2, 0, 0};
  auto src = memory_source(x.data(), 4, 2, "x");
  EXPECT_ERROR(assign(*src, {1, 2, 3}, 1), "centres hold 3 values; 1 centres of the data's 2");
  EXPECT_ERROR(assign(*src, {1, std::nanf("")}, 1), "centre 0 is not finite (column 1)");
  EXPECT_ERROR(assign(*src, {}, 0), "need at least one centre");
  AssignParams p;
  p.metric = Metric::Cosine;
  EXPECT_ERROR(assign(*src, {1, 1, 0, 0}, 2, p), "centre 1 is all zeros");
  const std::vector<float> y = {1, 0, 0, 0};
  auto z = memory_source(y.data(), 2, 2, "z");
  EXPECT_ERROR(assign(*z, {1, 1}, 1, p), "z: row 1 is all zeros");
}

TEST(AssignCli, ReproducesTheLabelsOfTheKMeansRun) {
  testutil::TempDir tmp;
  const std::string data = tmp.file("b.h5");
  std::string out;
  ASSERT_EQ(testutil::run_cli("generate --n 5000 --d 8 --k 6 --seed 2 --quiet --out " + data), 0);
  ASSERT_EQ(
      testutil::run_cli("kmeans " + data + " -k 6 --device cpu --quiet --out " + tmp.file("k")), 0);
  ASSERT_EQ(testutil::run_cli("assign " + data + " --centroids " + tmp.file("k/centroids.h5") +
                                  " --device cpu --format npy --out " + tmp.file("a"),
                              &out),
            0)
      << out;
  const auto km = testutil::read_h5(tmp.file("k/labels.h5"), "/labels");
  ASSERT_EQ(testutil::run_cli("assign " + data + " --centroids " + tmp.file("k/centroids.h5") +
                              " --device cpu --quiet --out " + tmp.file("h")),
            0);
  EXPECT_EQ(testutil::read_h5(tmp.file("h/labels.h5"), "/labels"), km);
  EXPECT_TRUE(testutil::file_exists(tmp.file("a/distances.npy")));
  // Centres of another width: one line naming both.
  std::vector<float> c(6 * 5, 1.0f);
  testutil::write_h5_f32(tmp.file("c5.h5"), "/centroids", c, 6, 5);
  EXPECT_EQ(testutil::run_cli("assign " + data + " --centroids " + tmp.file("c5.h5"), &out), 1);
  EXPECT_NE(out.find("have 5 columns; the data has 8"), std::string::npos) << out;
}

namespace {

// Spherical K-means in double from the given unit centres, as Dhillon & Modha: every row to the
// centre of largest cosine (lowest index on ties), centres the renormalised means; stops when no
// label changes. Returns the labels; *inertia = sum of 1 - cos.
std::vector<int32_t> reference_spherical(const std::vector<float>& x, int64_t n, int64_t d,
                                         std::vector<double> c, int64_t k, double* inertia,
                                         int* iterations) {
  std::vector<double> u(x.begin(), x.end());
  for (int64_t i = 0; i < n; ++i) {
    double s = 0;
    for (int64_t t = 0; t < d; ++t) s += u[i * d + t] * u[i * d + t];
    for (int64_t t = 0; t < d; ++t) u[i * d + t] /= std::sqrt(s);
  }
  std::vector<int32_t> labels(n, -1), old;
  for (*iterations = 0; labels != old; ++*iterations) {
    old = labels;
    *inertia = 0;
    for (int64_t i = 0; i < n; ++i) {
      double best = -3;
      for (int64_t j = 0; j < k; ++j) {
        double dot = 0;
        for (int64_t t = 0; t < d; ++t) dot += u[i * d + t] * c[j * d + t];
        if (dot > best) best = dot, labels[i] = static_cast<int32_t>(j);
      }
      *inertia += 1 - best;
    }
    std::vector<double> sums(k * d, 0.0);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t t = 0; t < d; ++t) sums[labels[i] * d + t] += u[i * d + t];
    for (int64_t j = 0; j < k; ++j) {
      double s = 0;
      for (int64_t t = 0; t < d; ++t) s += sums[j * d + t] * sums[j * d + t];
      for (int64_t t = 0; t < d; ++t) c[j * d + t] = sums[j * d + t] / std::sqrt(s);
    }
  }
  return labels;
}

}  // namespace

// Spherical K-means (kmeans --metric cosine) from the same initial centres as a double reference:
// same labels, cosine inertia within 1e-5; assign with its centres gives its labels back.
TEST(SphericalKMeans, EqualsTheReferenceFromTheSameCentres) {
  auto b = make_blobs(6000, 16, 7, 11, 6.0f, 10.0f);
  const int64_t k = 7;
  std::vector<float> init(b.x.begin(), b.x.begin() + k * 16);  // the first k rows
  testutil::TempDir tmp;
  testutil::write_h5_f32(tmp.file("init.h5"), "/c", init, k, 16);
  KMeansParams p;
  p.n_clusters = k;
  p.metric = Metric::Cosine;
  p.init = InitMethod::File;
  p.init_file = tmp.file("init.h5") + ":/c";
  p.tol = 0;
  ExecutionContext cpu;
  cpu.device = parse_device("cpu");
  auto src = memory_source(b.x.data(), b.n, b.d);
  const KMeansResult r = kmeans(*src, p, cpu);
  double ref_inertia = 0;
  int ref_iterations = 0;
  const auto ref = reference_spherical(b.x, b.n, b.d, std::vector<double>(init.begin(), init.end()),
                                       k, &ref_inertia, &ref_iterations);
  EXPECT_EQ(r.labels, ref);
  EXPECT_NEAR(r.inertia, ref_inertia, 1e-5 * ref_inertia);
  for (int64_t j = 0; j < k; ++j) {  // unit centres
    double s = 0;
    for (int64_t t = 0; t < 16; ++t) s += double(r.centroids[j * 16 + t]) * r.centroids[j * 16 + t];
    EXPECT_NEAR(s, 1.0, 1e-6);
  }
  AssignParams ap;
  ap.metric = Metric::Cosine;
  const AssignResult a = assign(*src, r.centroids, k, ap, cpu);
  EXPECT_EQ(a.labels, r.labels);
  EXPECT_NEAR(a.inertia / 2, r.inertia, 1e-6 * r.inertia);  // centres renormalised: rounding
  // A zero row is named, never clustered.
  b.x[5 * 16 + 0] = 0;
  std::fill(b.x.begin() + 5 * 16, b.x.begin() + 6 * 16, 0.0f);
  EXPECT_ERROR(kmeans(*src, p, cpu), "row 5 is all zeros");
}

// --top M: the label first, then the next nearest centres by exact distance (brute force here),
// -1 / NaN past the number of centres.
TEST(Assign, TopCentresAreTheNearestInOrder) {
  const auto b = make_blobs(3000, 10, 6, 9, 8.0f, 10.0f);
  std::vector<float> c(b.x.begin() + 100 * 10, b.x.begin() + 112 * 10);  // 12 rows as centres
  auto src = memory_source(b.x.data(), b.n, b.d);
  AssignParams p;
  p.top = 4;
  ExecutionContext cpu;
  cpu.device = parse_device("cpu");
  cpu.memory_budget = 128 << 10;  // many blocks
  const AssignResult a = assign(*src, c, 12, p, cpu);
  ASSERT_EQ(a.top_labels.size(), size_t(b.n * 4));
  int64_t checked = 0;
  for (int64_t i = 0; i < b.n; ++i) {
    std::vector<std::pair<double, int32_t>> all;
    for (int32_t j = 0; j < 12; ++j) {
      double s = 0;
      for (int64_t t = 0; t < 10; ++t) {
        const double v = double(b.x[i * 10 + t]) - c[j * 10 + t];
        s += v * v;
      }
      all.emplace_back(std::sqrt(s), j);
    }
    std::sort(all.begin(), all.end());
    ASSERT_EQ(a.top_labels[i * 4], a.labels[i]);
    bool clear = true;  // no near tie among the first five
    for (int j = 0; j < 4; ++j) clear = clear && all[j + 1].first - all[j].first > 1e-4;
    if (!clear) continue;
    ++checked;
    for (int j = 0; j < 4; ++j) {
      ASSERT_EQ(a.top_labels[i * 4 + j], all[j].second) << "row " << i << " rank " << j;
      ASSERT_NEAR(a.top_distances[i * 4 + j], all[j].first, 1e-4 * (1 + all[j].first));
    }
  }
  EXPECT_GT(checked, 2500);
  p.top = 14;  // more than the centres
  const AssignResult w = assign(*src, c, 12, p, cpu);
  EXPECT_EQ(w.top_labels[12], -1);
  EXPECT_TRUE(std::isnan(w.top_distances[13]));
  EXPECT_EQ(w.top_labels[11] >= 0, true);
}
