#include "algo/spatial/dbscan_tiles.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "io/row_blocks.h"
#include "kernels/dbscan_math.cuh"
#include "kernels/distance.cuh"

namespace embcluster {

void RowPrep::apply(float* x, int64_t m, int64_t d, int threads) const {
  if (!normalise) return;
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t i = 0; i < m; ++i) {
    float* r = x + i * d;
    double s = 0;
    for (int64_t j = 0; j < d; ++j) s += static_cast<double>(r[j]) * r[j];
    if (s <= 0) continue;  // a zero row stays zero
    const float inv = static_cast<float>(1.0 / std::sqrt(s));
    for (int64_t j = 0; j < d; ++j) r[j] *= inv;
  }
}

void read_rows(Source& source, const RowPrep& prep, const std::vector<int64_t>& picks,
               int64_t budget, int threads, std::vector<float>* out, int64_t first_row,
               int64_t end_row) {
  const int64_t d = source.cols();
  out->assign(picks.size() * d, 0.0f);
  if (picks.empty()) return;
  RowBlocks blocks(source, std::max<int64_t>(budget, 1 << 20), 4096, int64_t(1) << 18, first_row,
                   end_row);
  size_t next = 0;
  blocks.for_each([&](const Block& b) {
    for (; next < picks.size() && picks[next] < b.start + b.rows; ++next)
      std::memcpy(out->data() + next * d, b.data + (picks[next] - b.start) * d, sizeof(float) * d);
  });
  prep.apply(out->data(), static_cast<int64_t>(picks.size()), d, threads);
}

void for_prepared_blocks(
    Source& source, const RowPrep& prep, int64_t budget, int threads,
    const std::function<void(const Block& b, const float* x, const float* norms)>& fn,
    int64_t first_row, int64_t end_row) {
  const int64_t d = source.cols();
  RowBlocks blocks(source, budget, 4096, int64_t(1) << 18, first_row, end_row);
  std::vector<float> buf, norms;
  blocks.for_each([&](const Block& b) {
    buf.assign(b.data, b.data + b.rows * d);
    prep.apply(buf.data(), b.rows, d, threads);
    norms.resize(static_cast<size_t>(b.rows));
    for (int64_t i = 0; i < b.rows; ++i) norms[i] = kern::sq_norm(buf.data() + i * d, d);
    fn(b, buf.data(), norms.data());
  });
}

namespace {

constexpr int kSplitSteps = 8;
constexpr int64_t kMinTileRows = 1;

// Splits idx[0..count) in two groups of rows close together: 2-means (three Lloyd steps on at most
// 1024 evenly spaced rows, from two of them, then one assignment of every row), so that compact
// clusters stay whole; a split more lopsided than 1:7 (outliers) is replaced by a median split
// along the line between the two means. Returns the size of the first group. Deterministic:
// fixed arithmetic, ties to the first mean, then to the lower row.
int64_t split_rows(const float* x, int64_t d, int32_t* idx, int64_t count) {
  const int64_t stride = std::max<int64_t>(1, count / 1024);
  // Start from the first row and the sampled row farthest from it.
  const float* a = x + int64_t(idx[0]) * d;
  const float* b = a;
  float far = -1;
  for (int64_t i = 0; i < count; i += stride) {
    const float* r = x + int64_t(idx[i]) * d;
    float v = 0;
#pragma omp simd reduction(+ : v)
    for (int64_t j = 0; j < d; ++j) v += (r[j] - a[j]) * (r[j] - a[j]);
    if (v > far) far = v, b = r;
  }
  std::vector<float> c[2] = {std::vector<float>(a, a + d), std::vector<float>(b, b + d)};
  std::vector<uint8_t> side(static_cast<size_t>(count));
  std::vector<double> sum(static_cast<size_t>(2 * d));
  // Nearer to c1 than to c0: r.(c1 - c0) > (|c1|^2 - |c0|^2) / 2.
  std::vector<float> w(static_cast<size_t>(d));
  float cut = 0;
  auto set_plane = [&] {
    double n0 = 0, n1 = 0;
    for (int64_t j = 0; j < d; ++j) {
      w[j] = c[1][j] - c[0][j];
      n0 += double(c[0][j]) * c[0][j];
      n1 += double(c[1][j]) * c[1][j];
    }
    cut = static_cast<float>((n1 - n0) / 2);
  };
  auto nearer = [&](const float* r) {
    float v = 0;
#pragma omp simd reduction(+ : v)
    for (int64_t j = 0; j < d; ++j) v += r[j] * w[j];
    return static_cast<int>(v > cut);
  };
  set_plane();
  for (int step = 0; step < kSplitSteps; ++step) {
    std::fill(sum.begin(), sum.end(), 0.0);
    int64_t size[2] = {0, 0};
    for (int64_t i = 0; i < count; i += stride) {
      const float* r = x + int64_t(idx[i]) * d;
      const int s = nearer(r);
      ++size[s];
      double* acc = sum.data() + s * d;
#pragma omp simd
      for (int64_t j = 0; j < d; ++j) acc[j] += r[j];
    }
    if (size[0] == 0 || size[1] == 0) break;
    for (int s = 0; s < 2; ++s)
      for (int64_t j = 0; j < d; ++j) c[s][j] = static_cast<float>(sum[s * d + j] / size[s]);
    set_plane();
  }
  int64_t n1 = 0;
  for (int64_t i = 0; i < count; ++i) {
    side[i] = static_cast<uint8_t>(nearer(x + int64_t(idx[i]) * d));
    n1 += side[i] == 0;
  }
  if (n1 >= count / 32 && count - n1 >= count / 32) {
    std::vector<int32_t> sorted;
    sorted.reserve(static_cast<size_t>(count));
    for (int s = 0; s < 2; ++s)
      for (int64_t i = 0; i < count; ++i)
        if (side[i] == s) sorted.push_back(idx[i]);
    std::copy(sorted.begin(), sorted.end(), idx);
    return n1;
  }
  std::vector<std::pair<float, int32_t>> key(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    const float* r = x + int64_t(idx[i]) * d;
    float v = 0;
#pragma omp simd reduction(+ : v)
    for (int64_t j = 0; j < d; ++j) v += r[j] * (c[1][j] - c[0][j]);
    key[i] = {v, idx[i]};
  }
  const int64_t half = count / 2;
  std::nth_element(key.begin(), key.begin() + half, key.end());  // (projection, row): total order
  for (int64_t i = 0; i < count; ++i) idx[i] = key[i].second;
  return half;
}

// Largest distance of the rows idx[0..count) from their mean.
double rows_radius(const float* x, int64_t d, const int32_t* idx, int64_t count) {
  std::vector<double> c(static_cast<size_t>(d), 0.0);
  for (int64_t i = 0; i < count; ++i)
    for (int64_t j = 0; j < d; ++j) c[j] += x[int64_t(idx[i]) * d + j];
  for (auto& v : c) v /= static_cast<double>(count);
  double r2 = 0;
  for (int64_t i = 0; i < count; ++i) {
    double s = 0;
    for (int64_t j = 0; j < d; ++j) {
      const double t = x[int64_t(idx[i]) * d + j] - c[j];
      s += t * t;
    }
    r2 = std::max(r2, s);
  }
  return std::sqrt(r2);
}

// Splits until groups have at most leaf rows; records each leaf's (offset, rows).
void split_node(const float* x, int64_t d, int32_t* base, int64_t lo, int64_t count, int64_t leaf,
                std::vector<std::pair<int64_t, int64_t>>* leaves) {
  if (count <= leaf) {
#pragma omp critical(dbscan_leaves)
    leaves->emplace_back(lo, count);
    return;
  }
  const int64_t first = split_rows(x, d, base + lo, count);
#pragma omp task if (count > 2048) default(shared) firstprivate(lo, first)
  split_node(x, d, base, lo, first, leaf, leaves);
  split_node(x, d, base, lo + first, count - first, leaf, leaves);
#pragma omp taskwait
}

// Rearranges the rows of x (m x d) so that new row p is old row order[p].
void permute_rows(float* x, int64_t m, int64_t d, const int64_t* order, int64_t base) {
  std::vector<bool> done(static_cast<size_t>(m), false);
  std::vector<float> save(static_cast<size_t>(d));
  for (int64_t p = 0; p < m; ++p) {
    if (done[p]) continue;
    std::memcpy(save.data(), x + p * d, sizeof(float) * d);
    for (int64_t q = p;;) {
      done[q] = true;
      const int64_t src = order[q] - base;
      if (src == p) {
        std::memcpy(x + q * d, save.data(), sizeof(float) * d);
        break;
      }
      std::memcpy(x + q * d, x + src * d, sizeof(float) * d);
      q = src;
    }
  }
}

}  // namespace

void build_tile_order(const float* x, int64_t m, int64_t d, int64_t leaf, int threads,
                      std::vector<int32_t>* order, std::vector<int64_t>* starts) {
  order->resize(static_cast<size_t>(m));
  for (int64_t i = 0; i < m; ++i) (*order)[i] = static_cast<int32_t>(i);
  std::vector<std::pair<int64_t, int64_t>> leaves;
#pragma omp parallel num_threads(threads)
#pragma omp single
  split_node(x, d, order->data(), 0, m, leaf, &leaves);
  std::sort(leaves.begin(), leaves.end());

  // A leaf that straddles clusters has a radius far above the others and would be near every
  // tile: split such leaves (down to kMinTileRows rows) until they are no wider than twice the
  // median leaf.
  std::vector<double> radius(leaves.size());
#pragma omp parallel for num_threads(threads) schedule(dynamic, 16)
  for (size_t i = 0; i < leaves.size(); ++i)
    radius[i] = rows_radius(x, d, order->data() + leaves[i].first, leaves[i].second);
  std::vector<double> sorted(radius);
  std::nth_element(sorted.begin(), sorted.begin() + sorted.size() / 2, sorted.end());
  const double limit = 2 * sorted[sorted.size() / 2];
  std::vector<std::pair<int64_t, int64_t>> refined;
  for (size_t i = 0; i < leaves.size(); ++i) {
    if (radius[i] <= limit || leaves[i].second < 2 * kMinTileRows) {
      refined.push_back(leaves[i]);
      continue;
    }
    std::vector<std::pair<int64_t, int64_t>> todo{leaves[i]};
    while (!todo.empty()) {
      const auto [lo, count] = todo.back();
      todo.pop_back();
      if (count < 2 * kMinTileRows || rows_radius(x, d, order->data() + lo, count) <= limit) {
        refined.emplace_back(lo, count);
        continue;
      }
      const int64_t first = split_rows(x, d, order->data() + lo, count);
      todo.emplace_back(lo + first, count - first);
      todo.emplace_back(lo, first);
    }
  }
  std::sort(refined.begin(), refined.end());
  starts->clear();
  for (const auto& l : refined) starts->push_back(l.first);
  starts->push_back(m);
}

DbscanTiles::DbscanTiles(Source& source, bool normalise, int64_t budget, int threads,
                         const std::function<void(double)>& progress)
    : source_(source), n_(source.rows()), d_(source.cols()), threads_(threads) {
  const int64_t row_bytes = d_ * 4 + 4;
  const bool resident = n_ * row_bytes <= budget;
  // Streamed: the outer block, the inner block and the inner block being prefetched.
  block_rows_ = resident ? n_ : std::min(n_, std::max<int64_t>(budget / (3 * row_bytes), 32));
  const int64_t nb = (n_ + block_rows_ - 1) / block_rows_;
  ids_.resize(static_cast<size_t>(n_));
  block_tiles_.assign(1, 0);

  prep_.normalise = normalise;
  if (resident) {
    kept_ = std::make_shared<LoadedBlock>();
    kept_->rows = n_;
    kept_->data.resize(static_cast<size_t>(n_ * d_));
    const int64_t piece = std::max<int64_t>(1, (int64_t(16) << 20) / (d_ * 4));  // for progress
    for (int64_t s = 0; s < n_; s += piece) {
      const int64_t m = std::min(piece, n_ - s);
      source_.read(s, m, kept_->data.data() + s * d_);
      if (progress) progress(0.5 * (s + m) / n_);
    }
    prep_.apply(kept_->data.data(), n_, d_, threads_);
    tile_block(0, kept_->data.data(), n_, threads_);
    permute_rows(kept_->data.data(), n_, d_, ids_.data(), 0);
    kept_->norms.resize(static_cast<size_t>(n_));
#pragma omp parallel for num_threads(threads_) schedule(static)
    for (int64_t i = 0; i < n_; ++i)
      kept_->norms[i] = kern::sq_norm(kept_->data.data() + i * d_, d_);
    if (progress) progress(1.0);
    return;
  }

  std::vector<float> buf(static_cast<size_t>(block_rows_ * d_));
  for (int64_t b = 0; b < nb; ++b) {
    const int64_t start = b * block_rows_, m = std::min(block_rows_, n_ - start);
    source_.read(start, m, buf.data());
    prep_.apply(buf.data(), m, d_, threads_);
    tile_block(b, buf.data(), m, threads_);
    if (progress) progress(double(b + 1) / nb);
  }
}

void DbscanTiles::tile_block(int64_t b, float* x, int64_t m, int threads) {
  const int64_t pos0 = b * block_rows_;
  std::vector<int32_t> order;
  std::vector<int64_t> starts;
  build_tile_order(x, m, d_, kDbscanTileRows, threads, &order, &starts);
  for (int64_t p = 0; p < m; ++p) ids_[pos0 + p] = pos0 + order[p];
  const int64_t first = static_cast<int64_t>(tiles_.size()), count = starts.size() - 1;
  tiles_.resize(static_cast<size_t>(first + count));
  centres_.resize(static_cast<size_t>((first + count) * d_));
#pragma omp parallel for num_threads(threads) schedule(dynamic, 4)
  for (int64_t t = 0; t < count; ++t) {
    TileInfo& ti = tiles_[first + t];
    ti.block = b;
    ti.begin = pos0 + starts[t];
    ti.end = pos0 + starts[t + 1];
    double* c = centres_.data() + (first + t) * d_;
    std::fill(c, c + d_, 0.0);
    for (int64_t p = starts[t]; p < starts[t + 1]; ++p)
      for (int64_t j = 0; j < d_; ++j) c[j] += x[int64_t(order[p]) * d_ + j];
    const double inv = 1.0 / static_cast<double>(ti.rows());
    for (int64_t j = 0; j < d_; ++j) c[j] *= inv;
    double r2 = 0, n2 = 0;
    for (int64_t p = starts[t]; p < starts[t + 1]; ++p) {
      const float* r = x + int64_t(order[p]) * d_;
      double dist = 0, norm = 0;
      for (int64_t j = 0; j < d_; ++j) {
        const double v = r[j];
        dist += (v - c[j]) * (v - c[j]);
        norm += v * v;
      }
      r2 = std::max(r2, dist);
      n2 = std::max(n2, norm);
    }
    ti.radius = std::sqrt(r2) * (1 + 1e-9);
    ti.max_sq_norm = n2;
  }
  block_tiles_.push_back(first + count);
}

PairKind DbscanTiles::classify(int64_t s, int64_t t, float eps2f) const {
  const TileInfo& a = tiles_[s];
  const TileInfo& b = tiles_[t];
  const double* ca = centres_.data() + s * d_;
  const double* cb = centres_.data() + t * d_;
  double c2 = 0;
  for (int64_t j = 0; j < d_; ++j) c2 += (ca[j] - cb[j]) * (ca[j] - cb[j]);
  // Rounding of computed squared distances (see rounding_scale): a pair called far (near) is far
  // (near) by the computed distances too, so skipping never changes a result.
  switch (kern::tile_pair_kind(c2, a.radius, b.radius, a.max_sq_norm, b.max_sq_norm, eps2f,
                               rounding_scale(d_))) {
    case kern::kTilesFar:
      return PairKind::far;
    case kern::kTilesNear:
      return PairKind::near;
    default:
      return PairKind::mixed;
  }
}

std::shared_ptr<const LoadedBlock> DbscanTiles::load(int64_t b) {
  if (kept_) return kept_;
  auto blk = std::make_shared<LoadedBlock>();
  blk->index = b;
  blk->pos0 = b * block_rows_;
  blk->rows = std::min(block_rows_, n_ - blk->pos0);
  blk->data.resize(static_cast<size_t>(blk->rows * d_));
  source_.read(blk->pos0, blk->rows, blk->data.data());
  prep_.apply(blk->data.data(), blk->rows, d_, 1);
  permute_rows(blk->data.data(), blk->rows, d_, ids_.data() + blk->pos0, blk->pos0);
  blk->norms.resize(static_cast<size_t>(blk->rows));
  for (int64_t i = 0; i < blk->rows; ++i)
    blk->norms[i] = kern::sq_norm(blk->data.data() + i * d_, d_);
  return blk;
}

int64_t DbscanTiles::bytes_per_block() const { return block_rows_ * (d_ * 4 + 4); }

}  // namespace embcluster
