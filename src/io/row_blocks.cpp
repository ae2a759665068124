#include "io/row_blocks.h"

#include <algorithm>
#include <chrono>
#include <future>

namespace embcluster {

namespace {
double now_s() {
  using clock = std::chrono::steady_clock;
  return std::chrono::duration<double>(clock::now().time_since_epoch()).count();
}
int64_t round_down(int64_t v, int64_t grain) { return std::max(grain, v / grain * grain); }
}  // namespace

RowBlocks::RowBlocks(Source& source, int64_t budget_bytes, int64_t grain, int64_t max_block_rows,
                     int64_t first_row, int64_t end_row)
    : source_(source),
      first_(first_row),
      end_(end_row < 0 ? source.rows() : std::min(end_row, source.rows())) {
  first_ = std::min(first_, end_);
  const int64_t row_bytes = source.cols() * static_cast<int64_t>(sizeof(float));
  const int64_t total = rows() * row_bytes;
  resident_ = total <= budget_bytes;
  int64_t n = resident_ ? max_block_rows : budget_bytes / (2 * row_bytes);  // two buffers
  n = std::min(n, max_block_rows);
  block_rows_ = std::min(round_down(n, grain), std::max<int64_t>(rows(), 1));
  block_rows_ = std::max<int64_t>(block_rows_, 1);
}

RowBlocks::~RowBlocks() {
  for (int i = 0; i < 2; ++i)
    if (pinned_[i]) pinning_->unpin(buf_[i].data());
}

int64_t RowBlocks::held_bytes() const {
  const int64_t row_bytes = source_.cols() * static_cast<int64_t>(sizeof(float));
  if (direct_ != nullptr) return 0;
  return resident_ ? rows() * row_bytes : 2 * block_rows_ * row_bytes;
}

void RowBlocks::for_each(const std::function<void(const Block&)>& fn) {
  const int64_t d = source_.cols();
  if (!resident_) return stream(fn);
  if (!loaded_ && source_.view(0, 0) != nullptr) {
    // The source's rows are in memory already: checked block by block on the first pass.
    for (int64_t b = 0, start = first_; start < end_; ++b, start += block_rows_) {
      const int64_t rows = std::min(block_rows_, end_ - start);
      fn(Block{b, start, rows, d, source_.view(start, rows)});
    }
    direct_ = source_.view(0, 0);
    loaded_ = true;
    return;
  }
  if (!loaded_) {
    // First pass: read block by block into the resident copy and hand each block on at once.
    all_.resize(static_cast<size_t>(rows() * d));
    for (int64_t b = 0, start = first_; start < end_; ++b, start += block_rows_) {
      const int64_t rows = std::min(block_rows_, end_ - start);
      float* at = all_.data() + (start - first_) * d;
      const double t0 = now_s();
      source_.read(start, rows, at);
      wait_seconds_ += now_s() - t0;
      fn(Block{b, start, rows, d, at});
    }
    loaded_ = true;
    return;
  }
  // Row r at base + r * d.
  const float* base = direct_ != nullptr ? direct_ : all_.data() - first_ * d;
  for (int64_t b = 0, start = first_; start < end_; ++b, start += block_rows_) {
    const int64_t rows = std::min(block_rows_, end_ - start);
    fn(Block{b, start, rows, d, base + start * d});
  }
}

void RowBlocks::stream(const std::function<void(const Block&)>& fn) {
  const int64_t d = source_.cols();
  std::vector<float>* buf = buf_;
  for (int i = 0; i < 2; ++i) {
    if (!buf[i].empty()) continue;  // made on the first pass, kept for the next
    buf[i].resize(static_cast<size_t>(block_rows_ * d));
    if (pinning_) pinned_[i] = pinning_->pin(buf[i].data(), buf[i].size() * sizeof(float));
  }
  auto read_block = [&](int64_t start, int slot) {
    const int64_t rows = std::min(block_rows_, end_ - start);
    source_.read(start, rows, buf[slot].data());
  };
  if (first_ >= end_) return;
  // The buffers are members: a read still pending when fn throws is joined (the future's
  // destructor) while they exist.
  std::future<void> pending = std::async(std::launch::async, read_block, first_, 0);
  for (int64_t b = 0, start = first_; start < end_; ++b, start += block_rows_) {
    const int slot = static_cast<int>(b & 1);
    const double t0 = now_s();
    pending.get();
    wait_seconds_ += now_s() - t0;
    const int64_t next = start + block_rows_;
    if (next < end_) pending = std::async(std::launch::async, read_block, next, 1 - slot);
    const int64_t rows = std::min(block_rows_, end_ - start);
    fn(Block{b, start, rows, d, buf[slot].data()});
  }
}

}  // namespace embcluster
