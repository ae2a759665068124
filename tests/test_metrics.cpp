// Cluster-quality metrics: scikit-learn's figures on fixed data, tiled and streamed paths against
// in-memory ones and brute force, determinism, the sampled interval, bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <numeric>

#include "cluster_tiles_util.h"
#include "embcluster/error.h"
#include "embcluster/metrics.h"
#include "testutil.h"

using namespace embcluster;
using testutil::make_blobs;

namespace {

const std::string kData = std::string(EMBCLUSTER_TEST_DATA) + "/metrics_data.npy";
const std::string kLabels = std::string(EMBCLUSTER_TEST_DATA) + "/metrics_labels.npy";

nlohmann::json reference() {
  return nlohmann::json::parse(
      testutil::read_text(std::string(EMBCLUSTER_TEST_DATA) + "/metrics_ref.json"));
}

MetricsParams params(const std::string& metric = "euclidean") {
  MetricsParams p;
  p.metric = parse_metric(metric);
  return p;
}

// Per-row silhouette checked against scikit-learn's samples for the rows that count.
void expect_samples(const std::vector<float>& got, const std::vector<int32_t>& labels,
                    const nlohmann::json& want, bool noise_left_out) {
  size_t next = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    if (noise_left_out && labels[i] == -1) {
      EXPECT_TRUE(std::isnan(got[i])) << "noise row " << i;
      continue;
    }
    ASSERT_LT(next, want.size());
    EXPECT_NEAR(got[i], want[next].get<double>(), 1e-5) << "row " << i;
    ++next;
  }
  EXPECT_EQ(next, want.size());
}

// Bit-for-bit equality, NaN included.
bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

// Brute force in double: mean distances to every cluster, silhouette per row.
std::vector<double> brute_silhouette(const std::vector<float>& x, int64_t d,
                                     const std::vector<int32_t>& labels, int k, bool cosine) {
  const int64_t n = static_cast<int64_t>(labels.size());
  std::vector<double> u(x.begin(), x.end());
  if (cosine)
    for (int64_t i = 0; i < n; ++i) {
      double s = 0;
      for (int64_t j = 0; j < d; ++j) s += u[i * d + j] * u[i * d + j];
      for (int64_t j = 0; j < d; ++j) u[i * d + j] /= s > 0 ? std::sqrt(s) : 1.0;  // zero stays
    }
  std::vector<int64_t> size(k, 0);
  for (int32_t l : labels) ++size[l];
  std::vector<double> out(n);
  for (int64_t i = 0; i < n; ++i) {
    std::vector<double> sum(k, 0.0);
    for (int64_t j = 0; j < n; ++j) {
      if (j == i) continue;
      double s = 0;
      for (int64_t t = 0; t < d; ++t) {
        if (cosine) s += u[i * d + t] * u[j * d + t];
        else s += (u[i * d + t] - u[j * d + t]) * (u[i * d + t] - u[j * d + t]);
      }
      sum[labels[j]] += cosine ? 1 - s : std::sqrt(s);
    }
    const int c = labels[i];
    const double a = sum[c] / (size[c] - 1);
    double b = 1e300;
    for (int o = 0; o < k; ++o)
      if (o != c) b = std::min(b, sum[o] / size[o]);
    out[i] = size[c] == 1 ? 0.0 : (b - a) / std::max(a, b);
  }
  return out;
}

}  // namespace

TEST(Metrics, EuclideanMatchesScikitLearn) {
  const auto ref = reference();
  auto src = open_source(kData);
  const auto labels = read_labels(kLabels, src->rows());
  const auto s = silhouette(*src, labels, params());
  EXPECT_EQ(s.method, "exact");
  EXPECT_NEAR(s.score, ref["euclidean"]["silhouette"].get<double>(), 1e-5);
  expect_samples(s.samples, labels, ref["euclidean"]["samples"], true);
  EXPECT_EQ(s.noise_rows, 12);
  EXPECT_EQ(s.rows_scored, 288);
  // The singleton cluster (label 7) scores 0, as in scikit-learn.
  EXPECT_EQ(s.cluster_labels.back(), 7);
  EXPECT_EQ(s.cluster_sizes.back(), 1);
  EXPECT_EQ(s.samples[17], 0.0f);
  const auto m = cluster_metrics(*src, labels, params());
  EXPECT_NEAR(m.davies_bouldin, ref["euclidean"]["davies_bouldin"].get<double>(), 1e-5);
  const double ch = ref["euclidean"]["calinski_harabasz"];
  EXPECT_NEAR(m.calinski_harabasz, ch, 1e-5 * ch);
  EXPECT_EQ(m.cluster_labels, (std::vector<int64_t>{0, 1, 2, 3, 7}));
}

TEST(Metrics, CosineMatchesScikitLearnBothWays) {
  const auto ref = reference();
  auto src = open_source(kData);
  const auto labels = read_labels(kLabels, src->rows());
  for (bool cluster_sums : {true, false}) {
    auto p = params("cosine");
    p.cosine_cluster_sums = cluster_sums;
    const auto s = silhouette(*src, labels, p);
    EXPECT_NEAR(s.score, ref["cosine"]["silhouette"].get<double>(), 1e-5) << cluster_sums;
    expect_samples(s.samples, labels, ref["cosine"]["samples"], true);
  }
}

TEST(Metrics, NoiseIncludedOnRequestMatchesScikitLearn) {
  const auto ref = reference()["all"];
  auto src = open_source(kData);
  const auto labels = read_labels(kLabels, src->rows());
  auto p = params();
  p.include_noise = true;
  const auto s = silhouette(*src, labels, p);
  EXPECT_TRUE(s.noise_included);
  EXPECT_NEAR(s.score, ref["silhouette"].get<double>(), 1e-5);
  expect_samples(s.samples, labels, ref["samples"], false);
  const auto m = cluster_metrics(*src, labels, p);
  EXPECT_NEAR(m.davies_bouldin, ref["davies_bouldin"].get<double>(), 1e-5);
  EXPECT_NEAR(m.calinski_harabasz, ref["calinski_harabasz"].get<double>(),
              1e-5 * ref["calinski_harabasz"].get<double>());
}

TEST(Metrics, TilesEqualBruteForce) {
  // Several column and query tiles, a cluster spread over all of them, one tiny cluster.
  auto b = make_blobs(2600, 7, 5, 21, 3.0f, 4.0f);
  b.labels[100] = 5;  // singleton
  for (bool cosine : {false, true}) {
    const auto want = brute_silhouette(b.x, b.d, b.labels, 6, cosine);
    auto src = memory_source(b.x.data(), b.n, b.d);
    auto p = params(cosine ? "cosine" : "euclidean");
    p.cosine_cluster_sums = false;
    const auto s = silhouette(*src, b.labels, p);
    for (int64_t i = 0; i < b.n; ++i) ASSERT_NEAR(s.samples[i], want[i], 2e-5) << "row " << i;
    if (cosine) {
      p.cosine_cluster_sums = true;
      const auto c = silhouette(*src, b.labels, p);
      for (int64_t i = 0; i < b.n; ++i) ASSERT_NEAR(c.samples[i], want[i], 1e-6) << "row " << i;
    }
  }
}

TEST(Metrics, StreamedWithTinyBudgetsEqualsInMemory) {
  auto b = make_blobs(5000, 16, 7, 5, 3.0f, 5.0f);
  for (int64_t i = 0; i < b.n; i += 37) b.labels[i] = -1;  // noise spread over every tile
  auto src = memory_source(b.x.data(), b.n, b.d);
  for (const char* metric : {"euclidean", "cosine"}) {
    auto p = params(metric);
    ExecutionContext ctx;
    p.cosine_cluster_sums = false;
    const auto resident = silhouette(*src, b.labels, p, ctx);
    EXPECT_FALSE(resident.streamed);
    const auto m_resident = cluster_metrics(*src, b.labels, p, ctx);
    // 64K and 200K stream (the data alone is 320 KiB); 1,000,000 bytes hold the data but not
    // every row's sums (with 2 threads): one-sided tiles in memory.
    std::vector<std::vector<float>> one_sided;
    for (int64_t budget : {64 << 10, 200 << 10, 1000000}) {
      ctx.memory_budget = budget;
      ctx.threads = 2;
      const auto streamed = silhouette(*src, b.labels, p, ctx);
      ctx.threads = 0;
      one_sided.push_back(streamed.samples);
      EXPECT_EQ(streamed.streamed, budget < 1000000);
      if (streamed.streamed) EXPECT_GT(streamed.data_passes, 2);
      for (int64_t i = 0; i < b.n; ++i) {
        if (b.labels[i] == -1) {
          ASSERT_TRUE(std::isnan(streamed.samples[i]));
          continue;
        }
        ASSERT_NEAR(streamed.samples[i], resident.samples[i], 1e-6) << metric << " row " << i;
      }
      EXPECT_NEAR(streamed.score, resident.score, 1e-9);
      const auto m = cluster_metrics(*src, b.labels, p, ctx);
      EXPECT_EQ(m.inertia, m_resident.inertia);
      EXPECT_EQ(m.davies_bouldin, m_resident.davies_bouldin);
      EXPECT_EQ(m.calinski_harabasz, m_resident.calinski_harabasz);
      // The sample path streams its columns too: the same rows, the same figures.
      p.sample_size = 400;
      ctx.memory_budget = 0;
      const auto s_resident = silhouette(*src, b.labels, p, ctx);
      ctx.memory_budget = budget;
      const auto s_streamed = silhouette(*src, b.labels, p, ctx);
      EXPECT_EQ(s_streamed.streamed, budget < 1000000);
      EXPECT_TRUE(same_bits(s_streamed.samples, s_resident.samples));
      p.sample_size = 0;
    }
    // Blocks of rows and slabs of rows held: the same tiles, the same bits.
    EXPECT_TRUE(same_bits(one_sided[0], one_sided[2])) << metric;
    EXPECT_TRUE(same_bits(one_sided[1], one_sided[2])) << metric;
  }
}

TEST(Metrics, PairTilesEqualOneSidedTiles) {
  // The symmetric all-pairs reduction and the one-sided one give the same sums.
  auto b = make_blobs(3100, 9, 4, 8, 2.0f, 3.0f);
  for (auto metric : {TileMetric::euclidean, TileMetric::cosine}) {
    const auto g = testutil::group_rows(b, kSilTileRows, metric == TileMetric::cosine);
    std::vector<double> one(b.n * 4, 0.0), pairs(b.n * 4, 0.0), pairs1(b.n * 4, 0.0);
    std::vector<int64_t> self(b.n);
    std::iota(self.begin(), self.end(), int64_t(0));
    auto two = make_cpu_cluster_sums(metric, 4, b.d, 2), single = make_cpu_cluster_sums(metric, 4, b.d, 1);
    two->set_columns(g.view());
    single->set_columns(g.view());
    two->add_sums(g.view(), self.data(), one.data());
    two->add_all_pair_sums(pairs.data());
    single->add_all_pair_sums(pairs1.data());
    EXPECT_EQ(pairs, pairs1);  // any thread count, the same bits
    for (size_t i = 0; i < one.size(); ++i) ASSERT_NEAR(pairs[i], one[i], 1e-6 * (1 + one[i]));  // float tiles, either way round
  }
}

TEST(Metrics, DeterministicAcrossThreadCounts) {
  ExecutionContext ctx;
  auto b = make_blobs(6000, 12, 9, 13, 3.0f, 4.0f);
  auto src = memory_source(b.x.data(), b.n, b.d);
  std::vector<SilhouetteResult> runs;
  std::vector<ClusterMetrics> metrics;
  for (int threads : {1, 2, 3}) {
    auto p = params();
    ctx.threads = threads;
    runs.push_back(silhouette(*src, b.labels, p, ctx));
    SilhouetteResult simple;
    metrics.push_back(cluster_metrics(*src, b.labels, p, ctx, &simple));
    runs.push_back(simple);
  }
  for (size_t r = 2; r < runs.size(); ++r) {
    EXPECT_EQ(runs[r].samples, runs[r % 2].samples);
    EXPECT_EQ(runs[r].score, runs[r % 2].score);
  }
  for (const auto& m : metrics) {
    EXPECT_EQ(m.davies_bouldin, metrics[0].davies_bouldin);
    EXPECT_EQ(m.calinski_harabasz, metrics[0].calinski_harabasz);
  }
}

TEST(Metrics, SampledIntervalContainsExactScore) {
  auto b = make_blobs(20000, 16, 10, 17, 2.5f, 4.0f);  // overlapping: a spread of values
  auto src = memory_source(b.x.data(), b.n, b.d);
  const auto exact = silhouette(*src, b.labels, params());
  ASSERT_GT(exact.score, 0.05);
  ASSERT_LT(exact.score, 0.9);
  // A 95% interval: it holds the exact score for about 19 seeds in 20.
  int covered = 0;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    auto p = params();
    p.sample_size = 800;
    p.seed = seed;
    const auto s = silhouette(*src, b.labels, p);
    EXPECT_EQ(s.method, "sampled");
    EXPECT_EQ(s.rows_scored, 800);
    EXPECT_GT(s.std_error, 0);
    EXPECT_NEAR(s.ci_high - s.ci_low, 2 * 1.96 * s.std_error, 1e-12);
    covered += s.ci_low <= exact.score && exact.score <= s.ci_high;
    if (seed > 3) continue;
    // Sampled rows are scored exactly, against every row.
    for (int64_t i = 0; i < b.n; ++i)
      if (!std::isnan(s.samples[i])) ASSERT_NEAR(s.samples[i], exact.samples[i], 1e-6);
    EXPECT_TRUE(same_bits(silhouette(*src, b.labels, p).samples, s.samples));  // same seed
  }
  EXPECT_GE(covered, 17);
  auto p = params();
  p.sample_size = b.n;  // the whole data: exact
  EXPECT_EQ(silhouette(*src, b.labels, p).method, "exact");
  // The cosine shortcut samples the same way.
  p = params("cosine");
  const auto c_exact = silhouette(*src, b.labels, p);
  p.sample_size = 1000;
  const auto c = silhouette(*src, b.labels, p);
  EXPECT_LE(c.ci_low, c_exact.score);
  EXPECT_GE(c.ci_high, c_exact.score);
}

TEST(Metrics, SimplifiedSilhouetteUsesCentroids) {
  auto b = make_blobs(3000, 6, 4, 29, 3.0f, 4.0f);
  auto src = memory_source(b.x.data(), b.n, b.d);
  SilhouetteResult s;
  const auto m = cluster_metrics(*src, b.labels, params(), {}, &s);
  EXPECT_EQ(s.method, "simplified");
  // Brute force: centroids in double, a and b from the distances to them.
  std::vector<double> c(4 * 6, 0.0);
  std::vector<int64_t> size(4, 0);
  for (int64_t i = 0; i < b.n; ++i) {
    ++size[b.labels[i]];
    for (int j = 0; j < 6; ++j) c[b.labels[i] * 6 + j] += b.x[i * 6 + j];
  }
  for (int k = 0; k < 4; ++k)
    for (int j = 0; j < 6; ++j) c[k * 6 + j] /= size[k];
  double mean = 0, inertia = 0;
  for (int64_t i = 0; i < b.n; ++i) {
    double dist[4];
    for (int k = 0; k < 4; ++k) {
      double t = 0;
      for (int j = 0; j < 6; ++j) t += (b.x[i * 6 + j] - c[k * 6 + j]) * (b.x[i * 6 + j] - c[k * 6 + j]);
      dist[k] = std::sqrt(t);
    }
    const int own = b.labels[i];
    double other = 1e300;
    for (int k = 0; k < 4; ++k)
      if (k != own) other = std::min(other, dist[k]);
    const double want = (other - dist[own]) / std::max(other, dist[own]);
    ASSERT_NEAR(s.samples[i], want, 1e-5) << "row " << i;
    mean += want;
    inertia += dist[own] * dist[own];
  }
  EXPECT_NEAR(s.score, mean / b.n, 1e-6);
  EXPECT_NEAR(m.inertia, inertia, 1e-9 * inertia);
  int64_t total = 0;
  for (auto v : m.cluster_sizes) total += v;
  EXPECT_EQ(total, b.n);
}

TEST(Metrics, CosineZeroRowIsAtDistanceOne) {
  // Rows: two tight pairs and a zero row; the zero row is at distance 1 from everything.
  std::vector<float> x = {1, 0, 1, 0.01f, 0, 1, 0.01f, 1, 0, 0, 1, 0.02f};
  std::vector<int32_t> labels = {0, 0, 1, 1, 1, 0};
  auto src = memory_source(x.data(), 6, 2);
  const auto want = brute_silhouette(x, 2, labels, 2, true);
  for (bool cluster_sums : {true, false}) {
    auto p = params("cosine");
    p.cosine_cluster_sums = cluster_sums;
    const auto s = silhouette(*src, labels, p);
    for (int i = 0; i < 6; ++i) EXPECT_NEAR(s.samples[i], want[i], 1e-5) << i;
  }
}

TEST(Metrics, BadLabelsAreNamedErrors) {
  testutil::TempDir tmp;
  std::vector<float> x(100 * 3);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((i * 7919) % 101);
  auto src = memory_source(x.data(), 100, 3, "x.h5:/data");
  std::vector<int32_t> labels(100);
  for (int i = 0; i < 100; ++i) labels[i] = i % 3;

  // Length.
  testutil::write_h5_i32(tmp.file("l.h5"), "/labels", std::vector<int32_t>(99, 1));
  std::string msg = error_of([&] { read_labels(tmp.file("l.h5") + ":/labels", 100); });
  EXPECT_NE(msg.find("l.h5:/labels has 99 rows; the data has 100"), std::string::npos) << msg;
  msg = error_of([&] { silhouette(*src, std::vector<int32_t>(99, 0), params()); });
  EXPECT_NE(msg.find("99 rows"), std::string::npos) << msg;
  // Not integers: the row is named.
  std::vector<float> frac(100, 1.0f);
  frac[42] = 2.5f;
  testutil::write_h5_f32(tmp.file("f.h5"), "/labels", frac, 100, 1);
  msg = error_of([&] { read_labels(tmp.file("f.h5") + ":/labels", 100); });
  EXPECT_NE(msg.find("row 42"), std::string::npos) << msg;
  EXPECT_NE(msg.find("not an integer"), std::string::npos) << msg;
  // Two columns.
  testutil::write_h5_f32(tmp.file("two.h5"), "/labels", std::vector<float>(200, 1.0f), 100, 2);
  msg = error_of([&] { read_labels(tmp.file("two.h5") + ":/labels", 100); });
  EXPECT_NE(msg.find("2 columns"), std::string::npos) << msg;
  // NaN in the labels.
  frac[42] = std::numeric_limits<float>::quiet_NaN();
  testutil::write_h5_f32(tmp.file("nan.h5"), "/labels", frac, 100, 1);
  msg = error_of([&] { read_labels(tmp.file("nan.h5") + ":/labels", 100); });
  EXPECT_NE(msg.find("row 42"), std::string::npos) << msg;
  // Cluster counts, scikit-learn's rule and message.
  msg = error_of([&] { silhouette(*src, std::vector<int32_t>(100, 4), params()); });
  EXPECT_NE(msg.find("Number of labels is 1. Valid values are 2 to n_samples - 1 (inclusive)"),
            std::string::npos) << msg;
  std::vector<int32_t> each(100);
  std::iota(each.begin(), each.end(), 0);
  msg = error_of([&] { cluster_metrics(*src, each, params()); });
  EXPECT_NE(msg.find("Number of labels is 100"), std::string::npos) << msg;
  // Noise left out can leave too few clusters; the message says why.
  std::vector<int32_t> noisy(100, -1);
  noisy[0] = 0;
  noisy[1] = 0;
  msg = error_of([&] { silhouette(*src, noisy, params()); });
  EXPECT_NE(msg.find("Number of labels is 1"), std::string::npos) << msg;
  EXPECT_NE(msg.find("98 noise rows"), std::string::npos) << msg;
  noisy[2] = 1;
  auto p = params();
  p.include_noise = true;
  EXPECT_NO_THROW(silhouette(*src, noisy, p));
  // Parameters.
  msg = error_of([&] { silhouette(*src, labels, params("manhattan")); });
  EXPECT_NE(msg.find("metric='manhattan'"), std::string::npos) << msg;
  // NaN in the data: the row is named.
  x[3 * 57 + 1] = std::numeric_limits<float>::quiet_NaN();
  msg = error_of([&] { silhouette(*src, labels, params()); });
  EXPECT_NE(msg.find("row 57"), std::string::npos) << msg;
  msg = error_of([&] { cluster_metrics(*src, labels, params()); });
  EXPECT_NE(msg.find("row 57"), std::string::npos) << msg;
}

// Labels 2^24 and 2^24 + 1 are one float32: read as integers, they stay two clusters, from HDF5,
// .npy (int64) and CSV alike; labels beyond 32 bits are refused, never wrapped.
TEST(Metrics, LabelsReadAsIntegersNotThroughFloat32) {
  testutil::TempDir tmp;
  std::vector<int32_t> labels(10, 0);
  labels[4] = 16777216;
  labels[5] = 16777217;
  labels[6] = -2147483647 - 1;
  labels[7] = 2147483647;
  testutil::write_h5_i32(tmp.file("l.h5"), "/labels", labels);
  EXPECT_EQ(read_labels(tmp.file("l.h5") + ":/labels", 10), labels);

  std::string csv = "label\n";
  for (auto l : labels) csv += std::to_string(l) + "\n";
  std::ofstream(tmp.file("l.csv")) << csv;
  EXPECT_EQ(read_labels(tmp.file("l.csv"), 10), labels);

  // .npy int64, one value past the 32-bit range.
  std::vector<int64_t> wide(labels.begin(), labels.end());
  std::string header = "{'descr': '<i8', 'fortran_order': False, 'shape': (10,), }";
  header.append(128 - 10 - header.size() - 1, ' ').push_back('\n');
  std::ofstream npy(tmp.file("l.npy"), std::ios::binary);
  npy.write("\x93NUMPY\x01\x00", 8);
  const uint16_t hlen = static_cast<uint16_t>(header.size());
  npy.write(reinterpret_cast<const char*>(&hlen), 2).write(header.data(), hlen);
  wide[9] = int64_t(3000000000);
  npy.write(reinterpret_cast<const char*>(wide.data()), 8 * 10);
  npy.close();
  const std::string msg = error_of([&] { read_labels(tmp.file("l.npy"), 10); });
  EXPECT_NE(msg.find("row 9 holds 3000000000, outside the 32-bit label range"), std::string::npos)
      << msg;
}
