// Exact silhouette checkpoints: an evaluation interrupted at any block and resumed gives the
// uninterrupted run's per-row values, score and per-cluster means bit for bit, under another
// memory budget too; a checkpoint of other data, labels or parameters is refused with a message
// naming what differs.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "embcluster/device.h"
#include "embcluster/error.h"
#include "embcluster/metrics.h"
#include "testutil.h"

using namespace embcluster;
using testutil::make_blobs;

namespace {

struct Stopped : std::runtime_error {
  Stopped() : std::runtime_error("stopped") {}
};

// 12 blocks of 1024 rows when streamed (12 progress reports each), 2 slabs of 8192 rows when
// held; a few rows of noise left out.
struct Data {
  testutil::Blobs b = make_blobs(12288, 8, 5, 3, 3.0f, 5.0f);
  std::unique_ptr<Source> src = memory_source(b.x.data(), b.n, b.d);
  Data() {
    for (int64_t i = 0; i < b.n; i += 97) b.labels[i] = -1;
  }
};

MetricsParams params(const std::string& dir, const char* metric = "euclidean") {
  MetricsParams p;
  p.metric = parse_metric(metric);
  p.checkpoint.dir = dir;
  p.checkpoint.every = 1;
  return p;
}

// Streamed (256 KiB) or every row held, scored in slabs (4 MiB).
ExecutionContext cpu(int64_t budget, int threads = 1) {
  ExecutionContext ctx;
  ctx.device = parse_device("cpu");
  ctx.threads = threads;
  ctx.memory_budget = budget;
  return ctx;
}
constexpr int64_t kStreamed = 256 << 10, kHeld = 4 << 20;

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

void expect_identical(const SilhouetteResult& a, const SilhouetteResult& b) {
  EXPECT_TRUE(same_bits(a.samples, b.samples));
  EXPECT_EQ(a.score, b.score);
  EXPECT_EQ(a.rows_scored, b.rows_scored);
  EXPECT_EQ(a.cluster_scored, b.cluster_scored);
  ASSERT_EQ(a.cluster_means.size(), b.cluster_means.size());
  for (size_t c = 0; c < a.cluster_means.size(); ++c)
    EXPECT_EQ(a.cluster_means[c], b.cluster_means[c]) << "cluster " << c;
}

// Progress reports after the start of a run.
int reports(Data& d, const MetricsParams& p, const ExecutionContext& ctx) {
  int n = 0;
  silhouette(*d.src, d.b.labels, p, ctx, [&](const MetricsProgress& pr) { n += pr.rows_done > 0; });
  return n;
}

// Runs until the stop-th progress report and throws there, as a cancelled or killed run stops.
void run_until(Data& d, const MetricsParams& p, const ExecutionContext& ctx, int stop) {
  int n = 0;
  EXPECT_THROW(silhouette(*d.src, d.b.labels, p, ctx,
                          [&](const MetricsProgress& pr) {
                            if (pr.rows_done > 0 && ++n == stop) throw Stopped();
                          }),
               Stopped);
}

SilhouetteResult resume(Data& d, MetricsParams p, const ExecutionContext& ctx) {
  p.checkpoint.resume = true;
  return silhouette(*d.src, d.b.labels, p, ctx);
}

}  // namespace

TEST(SilhouetteCheckpoint, InterruptedAnywhereResumesBitIdentical) {
  Data d;
  testutil::TempDir tmp;
  for (const char* metric : {"euclidean", "cosine"}) {
    SCOPED_TRACE(metric);
    MetricsParams plain = params("", metric);
    plain.cosine_cluster_sums = false;
    // Streamed, the rows are scored a block at a time without a checkpoint too: the same bits.
    const SilhouetteResult ref = silhouette(*d.src, d.b.labels, plain, cpu(kStreamed));
    MetricsParams full = params(tmp.file(std::string("full-") + metric), metric);
    full.cosine_cluster_sums = false;
    expect_identical(silhouette(*d.src, d.b.labels, full, cpu(kStreamed)), ref);
    const int total = reports(d, plain, cpu(kStreamed));
    ASSERT_EQ(total, 12 * 12 + 1);
    // Within the first block, at the start of the second, half-way, at the end.
    for (int stop : {1, 13, total / 2, total}) {
      SCOPED_TRACE("stopped at report " + std::to_string(stop) + " of " + std::to_string(total));
      MetricsParams p = params(tmp.file(metric + std::to_string(stop)), metric);
      p.cosine_cluster_sums = false;
      run_until(d, p, cpu(kStreamed), stop);
      const SilhouetteResult r = resume(d, p, cpu(kStreamed, 2));
      expect_identical(r, ref);
      if (stop > 12) EXPECT_GT(r.resumed_rows, 0);
    }
  }
}

TEST(SilhouetteCheckpoint, ResumedUnderAnotherMemoryBudgetAndEveryNBlocks) {
  Data d;
  testutil::TempDir tmp;
  const SilhouetteResult ref = silhouette(*d.src, d.b.labels, params(""), cpu(kStreamed));
  // Streamed (every third block saved), then every row held and scored in slabs of 8192 rows;
  // and one slab, then streamed.
  struct Case {
    int64_t first, then;
    int every, stop;
  };
  const int streamed = reports(d, params(""), cpu(kStreamed));
  ASSERT_EQ(reports(d, params(tmp.file("count")), cpu(kHeld)), 3);  // 2 slabs and the end
  for (const Case c : {Case{kStreamed, kHeld, 3, streamed / 2}, Case{kHeld, kStreamed, 1, 1}}) {
    MetricsParams p = params(tmp.file("cp" + std::to_string(c.first)));
    p.checkpoint.every = c.every;
    run_until(d, p, cpu(c.first), c.stop);
    const SilhouetteResult r = resume(d, p, cpu(c.then));
    expect_identical(r, ref);
    EXPECT_GT(r.resumed_rows, 0);
  }
}

TEST(SilhouetteCheckpoint, CosineClusterSumsResumeBitIdentical) {
  Data d;
  testutil::TempDir tmp;
  const SilhouetteResult ref = silhouette(*d.src, d.b.labels, params("", "cosine"), cpu(kStreamed));
  const int total = reports(d, params("", "cosine"), cpu(kStreamed));
  ASSERT_GT(total, 2);
  for (int stop : {1, total / 2, total - 1}) {
    const MetricsParams p = params(tmp.file("cp" + std::to_string(stop)), "cosine");
    run_until(d, p, cpu(kStreamed), stop);
    const SilhouetteResult r = resume(d, p, cpu(kHeld));
    expect_identical(r, ref);
    EXPECT_GT(r.resumed_rows, 0);
  }
}

TEST(SilhouetteCheckpoint, OtherDataLabelsOrParametersRefused) {
  Data d;
  testutil::TempDir tmp;
  const MetricsParams p = params(tmp.file("cp"));
  run_until(d, p, cpu(kStreamed), 5);
  MetricsParams r = p;
  r.checkpoint.resume = true;
  std::vector<int32_t> other = d.b.labels;
  other[1] = (other[1] + 1) % 5;
  EXPECT_ERROR(silhouette(*d.src, other, r, cpu(kStreamed)), "cp/silhouette.ckpt",
               "made for labels_hash=");
  MetricsParams cosine = r;
  cosine.metric = Metric::Cosine;
  EXPECT_ERROR(silhouette(*d.src, d.b.labels, cosine, cpu(kStreamed)),
               "made for metric=euclidean, this run has metric=cosine");
  std::vector<float> x = d.b.x;
  x[0] += 1;
  auto changed = memory_source(x.data(), d.b.n, d.b.d);
  EXPECT_ERROR(silhouette(*changed, d.b.labels, r, cpu(kStreamed)), "made for sampled_rows_hash=");
  MetricsParams sampled = p;
  sampled.sample_size = 100;
  EXPECT_ERROR(silhouette(*d.src, d.b.labels, sampled, cpu(kStreamed)),
               "the exact silhouette only");
  MetricsParams none = r;
  none.checkpoint.dir = tmp.file("none");
  EXPECT_ERROR(silhouette(*d.src, d.b.labels, none, cpu(kStreamed)), "not found");
  // The refusals left the checkpoint as it was.
  expect_identical(silhouette(*d.src, d.b.labels, r, cpu(kStreamed)),
                   silhouette(*d.src, d.b.labels, params(""), cpu(kStreamed)));
}

// The GPU runs the same driver: its slabs of grouped rows (every row held) and its streamed blocks
// are saved and resumed too, each by its own plan. Skipped, visibly, without a CUDA device.
TEST(SilhouetteCheckpoint, CudaResumesBitIdentical) {
  if (cuda_devices().empty()) GTEST_SKIP() << "no CUDA device";
  Data d;
  testutil::TempDir tmp;
  for (int64_t budget : {kStreamed, kHeld}) {
    ExecutionContext ctx = cpu(budget);
    ctx.device = parse_device("cuda");
    MetricsParams p = params(tmp.file("full" + std::to_string(budget)));
    const SilhouetteResult ref = silhouette(*d.src, d.b.labels, p, ctx);
    EXPECT_NE(ref.device, "cpu");
    p.checkpoint.dir = tmp.file("cp" + std::to_string(budget));
    const int total = reports(d, p, ctx);
    run_until(d, p, ctx, std::max(1, total / 2));
    expect_identical(resume(d, p, ctx), ref);
    // Another plan is refused: its progress counts other rows.
    p.checkpoint.resume = true;
    EXPECT_ERROR(silhouette(*d.src, d.b.labels, p, cpu(budget)), "made for backend=");
  }
}
