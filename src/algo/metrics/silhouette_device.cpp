// The silhouette's GPU driver. Rows are grouped by cluster on the host (a stable counting sort,
// so a cluster's rows keep their order) before they go to the device, so that every tile row
// reduces a few long contiguous segments. Data that fits the host budget is read once and handed
// to the device whole (which holds it, or streams it when it does not fit the device); larger
// data is read in blocks: each block of scored rows against every block of rows.
#include "algo/metrics/silhouette_device.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <numeric>

#include "cpu/cluster_distance_sums.h"
#include "cuda/cuda_metrics.h"
#include "embcluster/error.h"
#include "embcluster/memory.h"
#include "kernels/silhouette_math.cuh"

namespace embcluster {

namespace {

double now_s() {
  using clock = std::chrono::steady_clock;
  return std::chrono::duration<double>(clock::now().time_since_epoch()).count();
}

// Rows [first, end) of the source that count, grouped by cluster, as the distances see them.
struct GroupedRows {
  int64_t first = 0, end = 0;
  std::vector<float> x;         // count x d
  std::vector<int64_t> row;     // source row per position
  std::vector<int64_t> start;   // k + 1: the positions of cluster c are [start[c], start[c + 1])
  std::vector<int64_t> pos_of;  // per source row in [first, end): its position, -1 if left out
  int64_t count() const { return static_cast<int64_t>(row.size()); }
  // The position of source row r, -1 when it is not in this block or left out.
  int64_t position(int64_t r) const { return r >= first && r < end ? pos_of[r - first] : -1; }
};

class DeviceRun {
 public:
  DeviceRun(Source& src, const DenseLabels& labels, const MetricsParams& p,
            const ExecutionContext& ctx, int device, const MetricsCallback& progress)
      : src_(src),
        L_(labels),
        n_(src.rows()),
        d_(src.cols()),
        k_(labels.k),
        cosine_(p.metric == Metric::Cosine),
        threads_(context_threads(ctx)),
        budget_(context_memory_budget(ctx)),
        progress_(progress),
        t0_(now_s()) {
    sums_ = make_cuda_cluster_sums(device, cosine_ ? TileMetric::cosine : TileMetric::euclidean, k_,
                                   d_, ctx.device_memory_budget);
    out_.device = sums_->device_name();
    out_.samples.assign(static_cast<size_t>(n_), std::numeric_limits<float>::quiet_NaN());
  }

  DeviceSilhouette run(const std::vector<int64_t>& sample) {
    total_ = sample.empty() ? L_.rows_in : static_cast<int64_t>(sample.size());
    out_.passes = 1;
    if (sample.empty())
      run_exact();
    else
      run_sampled(sample);
    report(total_);
    return std::move(out_);
  }

 private:
  void report(int64_t done) {
    if (progress_) progress_(MetricsProgress{done, total_, now_s() - t0_});
  }

  // A copy of a row as the distances see it: unit length for cosine (a zero row stays zero).
  void place(const float* src, float* dst) const {
    if (cosine_)
      unit_row(src, d_, dst);
    else
      std::memcpy(dst, src, sizeof(float) * d_);
  }

  // Reads rows [b0, b1) and groups the ones that count by cluster; `also` sees every chunk read.
  GroupedRows read_grouped(int64_t b0, int64_t b1,
                           const std::function<void(const float*, int64_t, int64_t)>& also) {
    GroupedRows g;
    g.first = b0;
    g.end = b1;
    g.start.assign(static_cast<size_t>(k_ + 1), 0);
    for (int64_t i = b0; i < b1; ++i)
      if (L_.id[i] >= 0) ++g.start[L_.id[i] + 1];
    std::partial_sum(g.start.begin(), g.start.end(), g.start.begin());
    std::vector<int64_t> next(g.start.begin(), g.start.end() - 1);
    g.pos_of.assign(static_cast<size_t>(b1 - b0), -1);
    g.row.resize(static_cast<size_t>(g.start[k_]));
    for (int64_t i = b0; i < b1; ++i) {
      const int32_t c = L_.id[i];
      if (c < 0) continue;
      const int64_t p = next[c]++;
      g.pos_of[i - b0] = p;
      g.row[p] = i;
    }
    g.x.resize(static_cast<size_t>(g.count() * d_));
    const int64_t chunk =
        std::min(b1 - b0, std::clamp<int64_t>(budget_ / 16 / (d_ * 4), 1024, 65536));
    std::vector<float> buf(static_cast<size_t>(std::max<int64_t>(chunk, 0) * d_));
    for (int64_t s = b0; s < b1; s += chunk) {
      const int64_t m = std::min(chunk, b1 - s);
      src_.read(s, m, buf.data());
      if (also) also(buf.data(), s, m);
#pragma omp parallel for num_threads(threads_) schedule(static)
      for (int64_t i = 0; i < m; ++i) {
        const int64_t p = g.pos_of[s + i - b0];
        if (p >= 0) place(buf.data() + i * d_, g.x.data() + p * d_);
      }
    }
    return g;
  }

  // Scores the rows of `rows` (queries) from their sums.
  void score(const std::vector<int64_t>& rows, const std::vector<double>& sums) {
    for (size_t i = 0; i < rows.size(); ++i) {
      const int64_t r = rows[i];
      out_.samples[r] =
          kern::silhouette_from_sums(sums.data() + i * k_, L_.id[r], L_.sizes.data(), k_);
    }
  }

  int64_t block_rows(int64_t bytes, int64_t per_row) const {
    return std::max<int64_t>(1024, bytes / per_row);
  }

  void run_exact() {
    const int64_t per_row = d_ * 4 + 16 + k_ * 8;
    if (L_.rows_in * per_row + n_ * 8 <= budget_) {
      // Every row at once: each pair of GEMM tiles computed once on the device.
      const GroupedRows all = read_grouped(0, n_, nullptr);
      sums_->set_columns(all.x.data(), all.count(), all.start.data());
      std::vector<double> sums(static_cast<size_t>(all.count() * k_), 0.0);
      sums_->add_all_pair_sums(sums.data(), [&](double f) {
        report(std::min(total_ - 1, static_cast<int64_t>(f * total_)));
      });
      score(all.row, sums);
      return;
    }
    // Streamed: a block of scored rows at a time against every block of rows.
    out_.streamed = true;
    const int64_t a_rows = block_rows(budget_ / 2, per_row);
    const int64_t b_rows = block_rows(budget_ / 4, d_ * 4 + 16);
    int64_t done = 0;
    for (int64_t a0 = 0; a0 < n_; a0 += a_rows) {
      const GroupedRows a = read_grouped(a0, std::min(n_, a0 + a_rows), nullptr);
      ++out_.passes;
      std::vector<double> sums(static_cast<size_t>(a.count() * k_), 0.0);
      against_blocks(a.x.data(), a.row, b_rows, sums,
                     [&](int64_t b1) { report(done + a.count() * b1 / n_); });
      score(a.row, sums);
      done += a.count();
    }
  }

  // The queries (rows x d, source rows `rows`) against every block of b_rows source rows.
  void against_blocks(const float* queries, const std::vector<int64_t>& rows, int64_t b_rows,
                      std::vector<double>& sums, const std::function<void(int64_t)>& after) {
    const int64_t m = static_cast<int64_t>(rows.size());
    std::vector<int64_t> self(static_cast<size_t>(m));
    for (int64_t b0 = 0; b0 < n_; b0 += b_rows) {
      const int64_t b1 = std::min(n_, b0 + b_rows);
      const GroupedRows b = read_grouped(b0, b1, nullptr);
      for (int64_t i = 0; i < m; ++i) self[i] = b.position(rows[i]);
      sums_->set_columns(b.x.data(), b.count(), b.start.data());
      sums_->add_sums(queries, m, self.data(), sums.data());
      after(b1);
    }
  }

  void run_sampled(const std::vector<int64_t>& sample) {
    const int64_t m = static_cast<int64_t>(sample.size());
    std::vector<float> q(static_cast<size_t>(m * d_));
    size_t next = 0;
    auto gather = [&](const float* x, int64_t start, int64_t count) {
      for (; next < sample.size() && sample[next] < start + count; ++next)
        place(x + (sample[next] - start) * d_, q.data() + next * d_);
    };
    std::vector<double> sums(static_cast<size_t>(m * k_), 0.0);
    const int64_t per_row = d_ * 4 + 16;
    if (L_.rows_in * per_row + n_ * 8 + m * (d_ * 4 + k_ * 8 + 8) <= budget_) {
      const GroupedRows all = read_grouped(0, n_, gather);
      std::vector<int64_t> self(static_cast<size_t>(m));
      for (int64_t i = 0; i < m; ++i) self[i] = all.position(sample[i]);
      sums_->set_columns(all.x.data(), all.count(), all.start.data());
      sums_->add_sums(q.data(), m, self.data(), sums.data(),
                      [&](double f) { report(std::min(m - 1, static_cast<int64_t>(f * m))); });
      score(sample, sums);
      return;
    }
    // Streamed: one pass gathers the sample, then the blocks of rows follow.
    out_.streamed = true;
    const int64_t chunk = block_rows(budget_ / 4, d_ * 4);
    std::vector<float> buf(static_cast<size_t>(std::min(chunk, n_) * d_));
    for (int64_t s = 0; s < n_; s += chunk) {
      const int64_t c = std::min(chunk, n_ - s);
      src_.read(s, c, buf.data());
      gather(buf.data(), s, c);
    }
    std::vector<float>().swap(buf);
    ++out_.passes;
    against_blocks(q.data(), sample, block_rows(budget_ / 4, per_row), sums,
                   [&](int64_t b1) { report(m * b1 / n_); });
    score(sample, sums);
  }

  Source& src_;
  const DenseLabels& L_;
  int64_t n_, d_, k_;
  bool cosine_;
  int threads_;
  int64_t budget_;
  const MetricsCallback& progress_;
  double t0_;
  int64_t total_ = 0;
  std::unique_ptr<DeviceClusterSums> sums_;
  DeviceSilhouette out_;
};

}  // namespace

DeviceSilhouette silhouette_on_device(Source& src, const DenseLabels& labels,
                                      const MetricsParams& p, const ExecutionContext& ctx,
                                      int device, const std::vector<int64_t>& sample,
                                      const MetricsCallback& progress) {
  DeviceRun run(src, labels, p, ctx, device, progress);
  return run.run(sample);
}

}  // namespace embcluster
