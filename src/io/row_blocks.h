#pragma once
// Row blocks of a Source under a memory budget: the one way drivers walk the data.
// Data that fits the budget is read once and kept; larger data is streamed on every pass, with
// the next block read on a second thread while the current one is processed. Rows a source
// already holds in memory (Source::view) are used where they are: nothing is copied.
#include <cstdint>
#include <functional>
#include <vector>

#include "embcluster/source.h"
#include "io/host_pinning.h"

namespace embcluster {

constexpr int64_t kTransientBlock = -1;

struct Block {
  // 0-based block number; kTransientBlock: rows that are not the data's (an initialisation's
  // sample), of which a backend keeps nothing between calls (no cached copy, no bounds).
  int64_t index = 0;
  int64_t start = 0;  // first row
  int64_t rows = 0;
  int64_t cols = 0;
  const float* data = nullptr;  // rows x cols, row-major
};

class RowBlocks {
 public:
  // Block sizes are multiples of `grain` rows (except the last), so per-row work that is tiled in
  // grain-sized pieces lines up the same way in memory and streamed. max_block_rows caps a block
  // in memory too, so that drivers get several blocks to overlap work with.
  // first_row, end_row: the rows walked, [first_row, end_row) of the source (end_row -1 = to the
  // end; a distributed run's slab); first_row must be a multiple of grain. Blocks keep the
  // source's row numbers.
  RowBlocks(Source& source, int64_t budget_bytes, int64_t grain = 4096,
            int64_t max_block_rows = int64_t(1) << 18, int64_t first_row = 0, int64_t end_row = -1);
  ~RowBlocks();
  RowBlocks(const RowBlocks&) = delete;
  RowBlocks& operator=(const RowBlocks&) = delete;

  // Streamed data: the two block buffers (kept from pass to pass) are page-locked with `pinning`
  // (may be null) when first made, so that a device copies blocks from them directly; they are
  // unpinned before they are freed.
  void pin_buffers_with(HostPinning* pinning) { pinning_ = pinning; }

  bool resident() const { return resident_; }
  int64_t block_rows() const { return block_rows_; }
  int64_t block_count() const { return (rows() + block_rows_ - 1) / block_rows_; }
  // Rows walked (the whole source, or the slab).
  int64_t rows() const { return end_ - first_; }
  int64_t first_row() const { return first_; }
  int64_t end_row() const { return end_; }
  int64_t cols() const { return source_.cols(); }
  Source& source() { return source_; }

  // Calls fn for every block in row order.
  void for_each(const std::function<void(const Block&)>& fn);

  // Seconds the caller waited for data (reading that was not overlapped with work).
  double wait_seconds() const { return wait_seconds_; }
  // Bytes held for data blocks.
  int64_t held_bytes() const;

 private:
  void stream(const std::function<void(const Block&)>& fn);
  Source& source_;
  int64_t first_ = 0, end_ = 0;
  bool resident_ = false;
  bool loaded_ = false;
  int64_t block_rows_ = 0;
  std::vector<float> all_;         // resident data (rows from first_), loaded during the first pass
  std::vector<float> buf_[2];      // streamed data: the block being used and the one being read
  HostPinning* pinning_ = nullptr;
  bool pinned_[2] = {false, false};
  const float* direct_ = nullptr;  // the source's own rows in memory (checked on the first pass)
  double wait_seconds_ = 0;
};

}  // namespace embcluster
