// The exact cosine silhouette from per-cluster sums of the unit rows: the sum over j in c of
// (1 - x_i.x_j) is |c| - x_i . S_c with S_c the sum of c's unit rows; the row itself is taken out
// of its own cluster: 1 - x_i.x_i. One pass for the sums, one (or none, for a sample gathered in
// the first) for the scores; O(rows x clusters x d) in double.
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "algo/metrics/silhouette_run.h"
#include "cpu/cluster_distance_sums.h"
#include "embcluster/memory.h"
#include "io/row_blocks.h"
#include "kernels/silhouette_math.cuh"

namespace embcluster {
namespace {

class CosineSums {
 public:
  CosineSums(const DenseLabels& labels, int64_t rows, int64_t d, int threads)
      : L_(labels), d_(d), k_(labels.k), threads_(threads) {
    s_.assign(static_cast<size_t>(k_ * d_), 0.0);
    out_.samples.assign(static_cast<size_t>(rows), std::numeric_limits<float>::quiet_NaN());
  }

  // The unit rows of a block, into unit_.
  const float* unit_block(const Block& b) {
    unit_.resize(static_cast<size_t>(b.rows * d_));
    unit_rows(b.data, b.rows, d_, unit_.data(), threads_);
    return unit_.data();
  }

  void add(const float* unit, const Block& b) {
    add_cluster_feature_sums(unit, b.rows, d_, L_.id.data() + b.start, s_.data(), threads_);
  }

  // Scores count unit rows x, source rows row_of[i] (or first + i when row_of is null).
  void score(const float* x, const int64_t* row_of, int64_t count, int64_t first) {
    constexpr int64_t kChunk = 4096;
    std::vector<double> dots(static_cast<size_t>(std::min(kChunk, count) * k_));
    for (int64_t c0 = 0; c0 < count; c0 += kChunk) {
      const int64_t cn = std::min(kChunk, count - c0);
      dot_rows_double(x + c0 * d_, cn, d_, s_.data(), k_, dots.data(), threads_);
#pragma omp parallel for num_threads(threads_) schedule(static)
      for (int64_t i = 0; i < cn; ++i) {
        const int64_t r = row_of ? row_of[c0 + i] : first + c0 + i;
        const int32_t own = L_.id[r];
        if (own < 0) continue;
        double* sums = dots.data() + i * k_;
        for (int64_t c = 0; c < k_; ++c) sums[c] = static_cast<double>(L_.sizes[c]) - sums[c];
        double self = 0;
        const float* xi = x + (c0 + i) * d_;
        for (int64_t j = 0; j < d_; ++j) self += static_cast<double>(xi[j]) * xi[j];
        sums[own] -= 1.0 - self;
        out_.samples[r] = kern::silhouette_from_sums(sums, own, L_.sizes.data(), k_);
      }
    }
  }

  SilhouetteScores out_;

 private:
  const DenseLabels& L_;
  int64_t d_, k_;
  int threads_;
  std::vector<double> s_;  // k x d sums of the unit rows
  std::vector<float> unit_;
};

}  // namespace

SilhouetteScores cosine_silhouette_from_cluster_sums(
    Source& src, const DenseLabels& labels, const MetricsParams& /*p*/, const ExecutionContext& ctx,
    const std::vector<int64_t>& sample, const RowsDone& done, SilhouetteCheckpoint* ckpt) {
  const int64_t n = src.rows(), d = src.cols(), m = static_cast<int64_t>(sample.size());
  // Small blocks: small unit-row copies.
  RowBlocks blocks(src, context_memory_budget(ctx), 4096, 16384);
  CosineSums cs(labels, n, d, context_threads(ctx));
  // A checkpoint's progress: the source rows scored (blocks are whole 4096-row chunks, so that a
  // resumed block's chunks line up as in an uninterrupted run).
  const bool saving = ckpt && ckpt->on();
  const int64_t start =
      saving ? ckpt->begin("cpu", "source rows by cluster sums", cs.out_.samples) : 0;
  std::vector<float> rows(static_cast<size_t>(m * d));
  size_t next = 0;
  blocks.for_each([&](const Block& b) {
    const float* unit = cs.unit_block(b);
    cs.add(unit, b);
    for (; next < sample.size() && sample[next] < b.start + b.rows; ++next)
      std::memcpy(rows.data() + next * d, unit + (sample[next] - b.start) * d, sizeof(float) * d);
  });
  cs.out_.passes = 1;
  if (m > 0) {
    cs.score(rows.data(), sample.data(), m, 0);
    if (done) done(m);
    return std::move(cs.out_);
  }
  ++cs.out_.passes;
  cs.out_.streamed = !blocks.resident();
  int64_t scored = 0;
  blocks.for_each([&](const Block& b) {
    const int64_t from = std::max(b.start, start), end = b.start + b.rows;
    if (from < end) {
      cs.score(cs.unit_block(b) + (from - b.start) * d, nullptr, end - from, from);
      if (saving) ckpt->step(end, cs.out_.samples, end == n);
    }
    for (int64_t i = b.start; i < end; ++i) scored += labels.id[i] >= 0;
    if (done) done(scored);
  });
  return std::move(cs.out_);
}

}  // namespace embcluster
