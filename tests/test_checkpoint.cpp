// K-means checkpoints: a run interrupted at any iteration and resumed gives the uninterrupted
// run's figures bit for bit; a checkpoint of other data or parameters, or a damaged one, is
// refused with a message naming what differs.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

#include "embcluster/error.h"
#include "embcluster/kmeans.h"
#include "testutil.h"

using namespace embcluster;
using testutil::make_blobs;

namespace {

struct Interrupted : std::runtime_error {
  Interrupted() : std::runtime_error("interrupted") {}
};

// Overlapping blobs: several runs of a few dozen iterations each.
struct Data {
  testutil::Blobs b = make_blobs(3000, 5, 8, 21, 2.0f, 6.0f);
  std::unique_ptr<Source> src = memory_source(b.x.data(), b.n, b.d);
};

KMeansParams params(const std::string& dir) {
  KMeansParams p;
  p.n_clusters = 8;
  p.seed = 7;
  p.init = InitMethod::Random;
  p.n_init = 3;
  p.tol = 0;
  p.checkpoint.dir = dir;
  p.checkpoint.every = 1;
  return p;
}

ExecutionContext cpu(int threads = 1) {
  ExecutionContext ctx;
  ctx.device = parse_device("cpu");
  ctx.threads = threads;
  return ctx;
}

void expect_identical(const KMeansResult& a, const KMeansResult& b) {
  EXPECT_EQ(a.labels, b.labels);
  EXPECT_EQ(a.centroids, b.centroids);
  EXPECT_EQ(a.sizes, b.sizes);
  EXPECT_EQ(a.inertia, b.inertia);
  EXPECT_EQ(a.iterations, b.iterations);
  EXPECT_EQ(a.converged, b.converged);
  EXPECT_EQ(a.best_run, b.best_run);
  EXPECT_EQ(a.run_inertia, b.run_inertia);
  EXPECT_EQ(a.tol_abs, b.tol_abs);
  EXPECT_EQ(a.empty_cluster_relocations, b.empty_cluster_relocations);
  ASSERT_EQ(a.history.size(), b.history.size());
  for (size_t i = 0; i < a.history.size(); ++i) {
    EXPECT_EQ(a.history[i].inertia, b.history[i].inertia) << "iteration " << i + 1;
    EXPECT_EQ(a.history[i].centre_shift, b.history[i].centre_shift) << "iteration " << i + 1;
  }
}

// Runs with checkpoints and stops (as a kill would) at the stop-th Lloyd iteration over all
// runs; false when the run finished first.
bool run_until(Source& src, const KMeansParams& p, int stop) {
  int seen = 0;
  try {
    kmeans(src, p, cpu(), [&](const KMeansProgress& pr) {
      if (pr.phase == "iterate" && ++seen == stop) throw Interrupted();
    });
  } catch (const Interrupted&) {
    return true;
  }
  return false;
}

// Resumes on two threads: the result depends on no thread count.
KMeansResult resume(Source& src, KMeansParams p) {
  p.checkpoint.resume = true;
  return kmeans(src, p, cpu(2));
}

void damage(const std::string& file, size_t keep, long flip) {
  std::ifstream in(file, std::ios::binary);
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  in.close();
  if (keep < s.size()) s.resize(keep);
  if (flip >= 0) s[static_cast<size_t>(flip)] ^= 0x10;
  std::ofstream(file, std::ios::binary | std::ios::trunc) << s;
}

}  // namespace

TEST(KMeansCheckpoint, InterruptedAtAnyIterationResumesBitIdentical) {
  Data d;
  testutil::TempDir tmp;
  KMeansParams plain = params("");
  int total = 0, first_run = 0;  // iterations of all runs, of the first
  const KMeansResult ref = kmeans(*d.src, plain, cpu(), [&](const KMeansProgress& pr) {
    total += pr.phase == "iterate";
    first_run += pr.phase == "iterate" && pr.run == 0;
  });
  ASSERT_EQ(ref.run_inertia.size(), 3u);
  ASSERT_GT(total, 30);
  // A checkpointed run that is never interrupted changes nothing.
  expect_identical(kmeans(*d.src, params(tmp.file("full")), cpu()), ref);
  // The first iteration, inside runs, the first iteration of the second run, the last ones.
  for (int stop : {1, 5, total / 3, first_run + 1, 2 * total / 3, total}) {
    SCOPED_TRACE("stopped at iteration " + std::to_string(stop) + " of " + std::to_string(total));
    const KMeansParams p = params(tmp.file("cp" + std::to_string(stop)));
    ASSERT_TRUE(run_until(*d.src, p, stop));
    expect_identical(resume(*d.src, p), ref);
  }
}

TEST(KMeansCheckpoint, EveryNIterationsAndAFinishedRunResumeBitIdentical) {
  Data d;
  testutil::TempDir tmp;
  const KMeansResult ref = kmeans(*d.src, params(""), cpu());
  KMeansParams p = params(tmp.file("cp"));
  p.checkpoint.every = 4;
  for (int stop : {3, 7, 22}) {
    ASSERT_TRUE(run_until(*d.src, p, stop));
    expect_identical(resume(*d.src, p), ref);
  }
  // The checkpoint stays after the run: resuming a finished run gives its result again.
  const KMeansResult again = resume(*d.src, p);
  expect_identical(again, ref);
  // Resuming keeps saving: stop a resumed run, resume again.
  ASSERT_TRUE(run_until(*d.src, p, 10));
  KMeansParams r = p;
  r.checkpoint.resume = true;
  ASSERT_TRUE(run_until(*d.src, r, 5));
  expect_identical(resume(*d.src, p), ref);
}

TEST(KMeansCheckpoint, EmptyClusterRelocationsSurviveAResume) {
  auto b = make_blobs(2000, 4, 3, 11);
  auto src = memory_source(b.x.data(), b.n, b.d);
  testutil::TempDir tmp;
  // Two identical initial centres: the second is re-seeded in the first iteration.
  std::vector<float> init = {b.x[0], b.x[1], b.x[2], b.x[3], b.x[0], b.x[1],
                             b.x[2], b.x[3], b.x[4], b.x[5], b.x[6], b.x[7]};
  testutil::write_h5_f32(tmp.file("init.h5"), "/c", init, 3, 4);
  KMeansParams p = params(tmp.file("cp"));
  p.n_clusters = 3;
  p.init = InitMethod::File;
  p.init_file = tmp.file("init.h5") + ":/c";
  KMeansParams plain = p;
  plain.checkpoint.dir.clear();
  const KMeansResult ref = kmeans(*src, plain, cpu());
  ASSERT_GE(ref.empty_cluster_relocations, 1);
  ASSERT_GE(ref.iterations, 3);
  ASSERT_TRUE(run_until(*src, p, 2));
  expect_identical(resume(*src, p), ref);
}

TEST(KMeansCheckpoint, AStreamedResumeOfAnInMemoryRunIsBitIdentical) {
  auto b = make_blobs(12000, 4, 8, 31, 2.0f, 6.0f);
  auto src = memory_source(b.x.data(), b.n, b.d);
  testutil::TempDir tmp;
  KMeansParams p = params(tmp.file("cp"));
  p.n_init = 2;
  p.max_iter = 12;
  KMeansParams plain = p;
  plain.checkpoint.dir.clear();
  const KMeansResult in_memory = kmeans(*src, plain, cpu());
  ASSERT_TRUE(run_until(*src, p, 16));
  p.checkpoint.resume = true;
  ExecutionContext small = cpu(2);
  small.memory_budget = 100 * 1024;  // far below the 192 KB of data: blocks of 4096 rows
  const KMeansResult streamed = kmeans(*src, p, small);
  EXPECT_TRUE(streamed.streamed);
  expect_identical(streamed, in_memory);
}

TEST(KMeansCheckpoint, OtherDataOrParametersAreRefusedNamingTheDifference) {
  Data d;
  testutil::TempDir tmp;
  const KMeansParams p = params(tmp.file("cp"));
  ASSERT_TRUE(run_until(*d.src, p, 6));
  const std::string file = tmp.file("cp") + "/kmeans.ckpt";

  KMeansParams k = p;
  k.n_clusters = 9;
  EXPECT_ERROR(resume(*d.src, k), file.c_str(), "made for n_clusters=8, this run has n_clusters=9");
  KMeansParams seed = p;
  seed.seed = 8;
  EXPECT_ERROR(resume(*d.src, seed), "made for seed=7, this run has seed=8");
  KMeansParams tol = p;
  tol.tol = 1e-4;
  EXPECT_ERROR(resume(*d.src, tol), "made for tol=0, this run has tol=0.0001");
  KMeansParams fact = p;
  fact.checkpoint.identity = {{"file_size", "123"}};
  EXPECT_ERROR(resume(*d.src, fact), "made without file_size, this run has file_size=123");

  // Other rows of the same shape: the sampled rows differ.
  auto other = make_blobs(3000, 5, 8, 22, 2.0f, 6.0f);
  auto other_src = memory_source(other.x.data(), other.n, other.d);
  EXPECT_ERROR(resume(*other_src, p), "made for sampled_rows_hash=");
  // One row the identity does not sample: the first pass's variance differs.
  std::vector<float> x = d.b.x;
  x[1 * 5 + 2] += 0.5f;
  auto changed = memory_source(x.data(), d.b.n, d.b.d);
  EXPECT_ERROR(resume(*changed, p), "the data differ");
  // Other shape.
  auto fewer = memory_source(d.b.x.data(), d.b.n - 1, d.b.d);
  EXPECT_ERROR(resume(*fewer, p), "made for rows=3000, this run has rows=2999");
  // The refusals changed nothing: the checkpoint still resumes.
  expect_identical(resume(*d.src, p), kmeans(*d.src, params(""), cpu()));
}

TEST(KMeansCheckpoint, MissingOrDamagedCheckpointsAreRefused) {
  Data d;
  testutil::TempDir tmp;
  KMeansParams none = params(tmp.file("none"));
  const std::string missing = tmp.file("none") + "/kmeans.ckpt";
  EXPECT_ERROR(resume(*d.src, none), missing.c_str(), "not found");

  const KMeansParams p = params(tmp.file("cp"));
  ASSERT_TRUE(run_until(*d.src, p, 4));
  const std::string file = tmp.file("cp") + "/kmeans.ckpt";
  const std::string saved = testutil::read_text(file);
  damage(file, saved.size() - 3, -1);
  EXPECT_ERROR(resume(*d.src, p), file.c_str(), "corrupt");
  std::ofstream(file, std::ios::binary | std::ios::trunc) << saved;
  damage(file, saved.size(), static_cast<long>(saved.size() / 2));
  EXPECT_ERROR(resume(*d.src, p), file.c_str(), "corrupt (checksum mismatch)");
  std::ofstream(file, std::ios::binary | std::ios::trunc) << "not a checkpoint";
  EXPECT_ERROR(resume(*d.src, p), file.c_str(), "not a K-means checkpoint");

  KMeansParams bad = p;
  bad.checkpoint.every = 0;
  EXPECT_ERROR(kmeans(*d.src, bad, cpu()), "every=0");
  KMeansParams no_dir = params("");
  no_dir.checkpoint.resume = true;
  EXPECT_ERROR(kmeans(*d.src, no_dir, cpu()), "resume needs the checkpoint directory");
}
