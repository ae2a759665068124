// The silhouette driver. Rows are held grouped by cluster within the backend's spans (a stable
// sort, so a cluster's rows keep their order): the CPU groups every 1024 source rows, so that its
// tiles do not depend on the block a range is read in; CUDA groups a whole set, so that every
// tile row reduces a few long segments. Data that fits the host budget is read once; larger data
// is read in blocks: each block of scored rows against every block of rows, the next block of
// rows read on a second thread while the backend works on this one.
#include "algo/metrics/silhouette_run.h"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <future>
#include <limits>
#include <numeric>

#include "core/distributed.h"
#include "cpu/cluster_distance_sums.h"
#include "embcluster/memory.h"
#include "kernels/silhouette_math.cuh"

namespace embcluster {
namespace {

constexpr int64_t kMinBlockRows = 1024;  // the smallest block of rows read at a time
constexpr int64_t kSlabSpans = 8;        // spans of query rows per slab (progress granularity)

// Rows of a set, grouped by cluster within spans, as the backend sees them.
struct HeldRows {
  std::vector<float> x;
  std::vector<int32_t> cluster;
  std::vector<int64_t> row;        // source row per position
  std::vector<int64_t> span_rows;  // rows per span
  int64_t first = 0, end = 0;      // the source rows covered (a range of the data)
  std::vector<int64_t> pos_of;     // per source row in [first, end): its position, -1 left out

  int64_t count() const { return static_cast<int64_t>(row.size()); }
  // The position of source row r, -1 when it is not in this range or left out.
  int64_t position(int64_t r) const { return r >= first && r < end ? pos_of[r - first] : -1; }
  ClusterRows view(int64_t d) const { return slab(d, 0, static_cast<int64_t>(span_rows.size())); }
  // The rows of spans [s0, s1).
  ClusterRows slab(int64_t d, int64_t s0, int64_t s1) const {
    int64_t p0 = 0, rows = 0;
    for (int64_t s = 0; s < s1; ++s) (s < s0 ? p0 : rows) += span_rows[s];
    return ClusterRows{x.data() + p0 * d, cluster.data() + p0, rows, span_rows.data() + s0,
                       s1 - s0};
  }
};

// Groups the items with ids in [0, k) by id within spans of `span` items (0: one span): fills
// cluster and span_rows and returns each item's position (-1 for the items left out).
std::vector<int64_t> group_items(const int32_t* ids, int64_t items, int64_t span, int64_t k,
                                 HeldRows& g) {
  std::vector<int64_t> pos(static_cast<size_t>(items), -1);
  if (span <= 0) {  // one span: a counting sort
    std::vector<int64_t> next(static_cast<size_t>(k + 1), 0);
    for (int64_t i = 0; i < items; ++i)
      if (ids[i] >= 0) ++next[ids[i] + 1];
    std::partial_sum(next.begin(), next.end(), next.begin());
    g.cluster.resize(static_cast<size_t>(next[k]));
    g.span_rows.push_back(next[k]);
    for (int64_t i = 0; i < items; ++i)
      if (ids[i] >= 0) g.cluster[pos[i] = next[ids[i]]++] = ids[i];
    return pos;
  }
  std::vector<int64_t> order;
  int64_t p = 0;
  for (int64_t s0 = 0; s0 < items; s0 += span) {
    order.clear();
    for (int64_t i = s0; i < std::min(items, s0 + span); ++i)
      if (ids[i] >= 0) order.push_back(i);
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t b) { return ids[a] < ids[b]; });
    for (int64_t i : order) {
      pos[i] = p++;
      g.cluster.push_back(ids[i]);
    }
    g.span_rows.push_back(static_cast<int64_t>(order.size()));
  }
  return pos;
}

class Driver {
 public:
  Driver(Source& src, const DenseLabels& labels, const MetricsParams& p,
         const ExecutionContext& ctx, ClusterDistanceSums& be, const RowsDone& done,
         SilhouetteCheckpoint* ckpt)
      : src_(src),
        L_(labels),
        n_(src.rows()),
        d_(src.cols()),
        k_(labels.k),
        cosine_(p.metric == Metric::Cosine),
        threads_(context_threads(ctx)),
        budget_(context_memory_budget(ctx)),
        be_(be),
        layout_(be.layout()),
        done_(done),
        ckpt_(ckpt && ckpt->on() ? ckpt : nullptr),
        comm_(ranks_of(ctx)),
        slab_(slab_of(n_, comm_)) {
    out_.samples.assign(static_cast<size_t>(n_), std::numeric_limits<float>::quiet_NaN());
  }

  SilhouetteScores run(const std::vector<int64_t>& sample) {
    total_ = sample.empty() ? L_.rows_in : static_cast<int64_t>(sample.size());
    out_.passes = 1;
    if (comm_)
      run_on_ranks(sample);
    else if (sample.empty())
      run_exact();
    else
      run_sampled(sample);
    report(total_);
    return std::move(out_);
  }

 private:
  using Also = std::function<void(const float*, int64_t, int64_t)>;

  void report(int64_t done) {
    if (done_) done_(done);
  }
  // Progress of a call that scores `rows` rows after `before`: never all until they are scored.
  ClusterDistanceSums::Progress part(int64_t before, int64_t rows) {
    return [this, before, rows](double f) {
      report(std::min(total_ - 1, before + static_cast<int64_t>(f * rows)));
    };
  }

  // A checkpointed run's progress to continue from. The CPU groups rows in spans of source rows:
  // its progress is always the source rows done, whatever the memory. CUDA's is `plan`'s own.
  int64_t resume_point(const std::string& plan) {
    if (!ckpt_) return 0;
    const std::string name = be_.device_name();
    return ckpt_->begin(
        name.rfind("cpu", 0) == 0 ? "cpu" : name,
        layout_.span > 0 ? "source rows in spans of " + std::to_string(layout_.span) : plan,
        out_.samples);
  }
  void save(int64_t next, bool last) {
    if (ckpt_) ckpt_->step(next, out_.samples, last);
  }
  // Rows that count among source rows [0, end).
  int64_t counted_before(int64_t end) const {
    int64_t c = 0;
    for (int64_t i = 0; i < end; ++i) c += L_.id[i] >= 0;
    return c;
  }

  // Host bytes per row of the data held (data, the backend's share, position), and of every row.
  int64_t row_bytes() const { return d_ * 4 + layout_.row_bytes + 8; }
  int64_t held_bytes() const { return n_ * row_bytes(); }
  // Rows per column block of a streamed pass.
  int64_t column_block_rows() const { return block_rows(budget_ / 4 / row_bytes()); }
  // Rows per block: whole spans, at least kMinBlockRows.
  int64_t block_rows(int64_t rows) const {
    const int64_t s = layout_.span;
    return s > 0 ? std::max(std::max(s, kMinBlockRows), rows / s * s)
                 : std::max(kMinBlockRows, rows);
  }

  // A copy of a row as the distances see it: unit length for cosine (a zero row stays zero).
  void place(const float* src, float* dst) const {
    if (cosine_)
      unit_row(src, d_, dst);
    else
      std::memcpy(dst, src, sizeof(float) * d_);
  }

  // Reads rows [b0, b1) (b0 a whole number of spans) and holds the ones that count; `also` sees
  // every chunk read.
  HeldRows read_rows(int64_t b0, int64_t b1, const Also& also = nullptr) {
    HeldRows g;
    g.first = b0;
    g.end = b1;
    g.pos_of = group_items(L_.id.data() + b0, b1 - b0, layout_.span, k_, g);
    g.row.resize(g.cluster.size());
    for (int64_t i = b0; i < b1; ++i)
      if (g.pos_of[i - b0] >= 0) g.row[g.pos_of[i - b0]] = i;
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

  // The sample rows (ascending source rows) grouped as a set of their own; their data comes
  // from gather_sample().
  HeldRows hold_sample(const std::vector<int64_t>& sample, std::vector<int64_t>* pos) {
    HeldRows q;
    std::vector<int32_t> ids(sample.size());
    for (size_t i = 0; i < sample.size(); ++i) ids[i] = L_.id[sample[i]];
    *pos = group_items(ids.data(), static_cast<int64_t>(ids.size()), layout_.span, k_, q);
    q.row.resize(sample.size());
    for (size_t i = 0; i < sample.size(); ++i) q.row[(*pos)[i]] = sample[i];
    q.x.resize(static_cast<size_t>(q.count() * d_));
    return q;
  }

  // Scores the positions [p0, p0 + rows) of g from their sums (rows x k).
  void score(const HeldRows& g, int64_t p0, int64_t rows, const std::vector<double>& sums) {
    for (int64_t p = p0; p < p0 + rows; ++p)
      out_.samples[g.row[p]] = kern::silhouette_from_sums(sums.data() + (p - p0) * k_, g.cluster[p],
                                                          L_.sizes.data(), k_);
  }

  void run_exact();
  void run_on_ranks(const std::vector<int64_t>& sample);
  void exact_in_slabs();
  void run_sampled(const std::vector<int64_t>& sample);
  void score_against_all(const HeldRows& a, int64_t done);
  void against_all_columns(const ClusterRows& q, const std::vector<int64_t>& rows,
                           std::vector<double>& sums, const std::function<void(int64_t)>& after);

  Source& src_;
  const DenseLabels& L_;
  int64_t n_, d_, k_;
  bool cosine_;
  int threads_;
  int64_t budget_;
  ClusterDistanceSums& be_;
  ClusterSumsLayout layout_;
  const RowsDone& done_;
  SilhouetteCheckpoint* ckpt_;  // null when off
  Communicator* comm_;          // the ranks of a distributed run, else null
  RowSlab slab_;                // this rank's rows (every row in one process)
  int64_t total_ = 0;
  SilhouetteScores out_;
};

void Driver::run_exact() {
  const int64_t pairs_bytes = L_.rows_in * k_ * 8 + layout_.all_pairs_bytes;
  const int64_t slab_bytes = kSlabSpans * kSilTileRows * k_ * 8;
  // A checkpointed run scores blocks of rows, each against every row, to save them as it goes.
  if (!ckpt_ && held_bytes() + pairs_bytes <= budget_) {
    // Every pair once: the rows' sums for all clusters are held (rows x k doubles).
    const HeldRows all = read_rows(0, n_);
    be_.set_columns(all.view(d_));
    std::vector<double> sums(static_cast<size_t>(all.count() * k_), 0.0);
    be_.add_all_pair_sums(sums.data(), part(0, total_));
    score(all, 0, all.count(), sums);
    return;
  }
  if (held_bytes() + slab_bytes <= budget_) return exact_in_slabs();
  // Streamed: a block of query rows at a time against every block of column rows.
  out_.streamed = true;
  const int64_t a_rows = block_rows(budget_ / 2 / (row_bytes() + 8 * k_));
  const int64_t start = resume_point("source rows against column blocks of " +
                                     std::to_string(column_block_rows()) + " rows");
  int64_t done = counted_before(std::min(start, n_));
  for (int64_t a0 = start; a0 < n_; a0 += a_rows) {
    const HeldRows a = read_rows(a0, std::min(n_, a0 + a_rows));
    score_against_all(a, done);
    done += a.count();
    save(a.end, a.end == n_);
  }
}

// A distributed run: each rank scores the rows of its slab that are to be scored, in blocks,
// against every row of the source read in column blocks (in row order, as one process streams
// them: the same bits), and the ranks' scores are gathered by every rank.
void Driver::run_on_ranks(const std::vector<int64_t>& sample) {
  out_.streamed = true;
  const int64_t a_rows = block_rows(budget_ / 2 / (row_bytes() + 8 * k_));
  int64_t done = 0;
  for (int64_t a0 = slab_.first; a0 < slab_.last; a0 += a_rows) {
    const int64_t a1 = std::min(slab_.last, a0 + a_rows);
    HeldRows a;
    if (sample.empty()) {
      a = read_rows(a0, a1);
    } else {
      // The sample rows of [a0, a1), gathered from one read of those rows.
      const auto b = std::lower_bound(sample.begin(), sample.end(), a0);
      const std::vector<int64_t> picks(b, std::lower_bound(b, sample.end(), a1));
      std::vector<int64_t> pos;
      a = hold_sample(picks, &pos);
      size_t next = 0;
      read_rows(a0, a1, [&](const float* x, int64_t start, int64_t count) {
        for (; next < picks.size() && picks[next] < start + count; ++next)
          place(x + (picks[next] - start) * d_, a.x.data() + pos[next] * d_);
      });
    }
    score_against_all(a, done);
    done += a.count();
  }
  const std::vector<float> mine(out_.samples.begin() + slab_.first,
                                out_.samples.begin() + slab_.last);
  out_.samples = allgather_values(mine, *comm_);
}

// Every row held, their sums a slab of query rows at a time (whole spans, or kSlabSpans *
// kSilTileRows rows when the backend groups the whole set).
void Driver::exact_in_slabs() {
  const int64_t start = resume_point("positions of every row held");
  const HeldRows all = read_rows(0, n_);
  be_.set_columns(all.view(d_));
  const bool by_span = layout_.span > 0;
  const int64_t steps = by_span ? static_cast<int64_t>(all.span_rows.size()) : all.count();
  const int64_t step = by_span ? kSlabSpans : kSlabSpans * kSilTileRows;
  std::vector<double> sums;
  std::vector<int64_t> self;
  // Resumed: from the first span not done (spans: source rows), or the first position.
  const int64_t first =
      std::min(steps, by_span ? (start + layout_.span - 1) / layout_.span : start);
  int64_t p0 = by_span ? all.slab(d_, 0, first).count : first;
  for (int64_t s0 = first; s0 < steps; s0 += step) {
    const int64_t s1 = std::min(steps, s0 + step);
    const ClusterRows q =
        by_span ? all.slab(d_, s0, s1)
                : ClusterRows{all.x.data() + s0 * d_, all.cluster.data() + s0, s1 - s0, nullptr, 0};
    self.resize(static_cast<size_t>(q.count));
    std::iota(self.begin(), self.end(), p0);
    sums.assign(static_cast<size_t>(q.count * k_), 0.0);
    be_.add_sums(q, self.data(), sums.data());
    score(all, p0, q.count, sums);
    p0 += q.count;
    save(by_span ? std::min(n_, s1 * layout_.span) : s1, s1 == steps);
    report(p0);
  }
}

// Scores the held rows a against every row of the source, read in column blocks (one more pass);
// `done`: rows scored before them, for the progress.
void Driver::score_against_all(const HeldRows& a, int64_t done) {
  std::vector<double> sums(static_cast<size_t>(a.count() * k_), 0.0);
  ++out_.passes;
  against_all_columns(a.view(d_), a.row, sums,
                      [&](int64_t b1) { report(done + a.count() * b1 / n_); });
  score(a, 0, a.count(), sums);
}

// Streams column blocks of the whole data (the next one read while this one is used) and adds
// the sums of the queries q (source rows `rows`) against each, in row order.
void Driver::against_all_columns(const ClusterRows& q, const std::vector<int64_t>& rows,
                                 std::vector<double>& sums,
                                 const std::function<void(int64_t)>& after) {
  const int64_t b_rows = column_block_rows();
  auto load = [this, b_rows](int64_t b0) { return read_rows(b0, std::min(n_, b0 + b_rows)); };
  std::future<HeldRows> next = std::async(std::launch::async, load, int64_t(0));
  std::vector<int64_t> self(rows.size());
  for (int64_t b0 = 0; b0 < n_; b0 += b_rows) {
    const HeldRows cols = next.get();
    if (b0 + b_rows < n_) next = std::async(std::launch::async, load, b0 + b_rows);
    for (size_t i = 0; i < rows.size(); ++i) self[i] = cols.position(rows[i]);
    be_.set_columns(cols.view(d_));
    be_.add_sums(q, self.data(), sums.data());
    after(std::min(n_, b0 + b_rows));
  }
}

void Driver::run_sampled(const std::vector<int64_t>& sample) {
  const int64_t m = static_cast<int64_t>(sample.size());
  std::vector<int64_t> pos;
  HeldRows q = hold_sample(sample, &pos);
  size_t next = 0;
  auto gather = [&](const float* x, int64_t start, int64_t count) {
    for (; next < sample.size() && sample[next] < start + count; ++next)
      place(x + (sample[next] - start) * d_, q.x.data() + pos[next] * d_);
  };
  std::vector<double> sums(static_cast<size_t>(m * k_), 0.0);
  if (held_bytes() + m * (row_bytes() + 8 * k_) <= budget_) {
    const HeldRows all = read_rows(0, n_, gather);
    std::vector<int64_t> self(static_cast<size_t>(m));
    for (int64_t p = 0; p < m; ++p) self[p] = all.position(q.row[p]);
    be_.set_columns(all.view(d_));
    be_.add_sums(q.view(d_), self.data(), sums.data(), part(0, m));
    score(q, 0, m, sums);
    return;
  }
  // Streamed: one pass gathers the sample, then the blocks of rows follow.
  out_.streamed = true;
  const int64_t chunk = block_rows(budget_ / 4 / (d_ * 4));
  std::vector<float> buf(static_cast<size_t>(std::min(chunk, n_) * d_));
  for (int64_t s = 0; s < n_; s += chunk) {
    const int64_t c = std::min(chunk, n_ - s);
    src_.read(s, c, buf.data());
    gather(buf.data(), s, c);
  }
  std::vector<float>().swap(buf);
  ++out_.passes;
  against_all_columns(q.view(d_), q.row, sums, [&](int64_t b1) { report(m * b1 / n_); });
  score(q, 0, m, sums);
}

}  // namespace

SilhouetteScores silhouette_scores(Source& src, const DenseLabels& labels, const MetricsParams& p,
                                   const ExecutionContext& ctx, ClusterDistanceSums& sums,
                                   const std::vector<int64_t>& sample, const RowsDone& done,
                                   SilhouetteCheckpoint* ckpt) {
  Driver run(src, labels, p, ctx, sums, done, ckpt);
  return run.run(sample);
}

}  // namespace embcluster
