// Rows a memory source holds (the caller's array, e.g. a numpy array from Python) are used where
// they are: RowBlocks hands out pointers into them and copies nothing, still checking values.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <vector>

#include "embcluster/source.h"
#include "io/row_blocks.h"
#include "testutil.h"

namespace embcluster {
namespace {

TEST(RowBlocks, MemoryRowsAreUsedInPlace) {
  std::vector<float> v(1000 * 4);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i % 17);
  auto mem = memory_source(v.data(), 1000, 4, "array");
  EXPECT_EQ(mem->view(10, 5), v.data() + 40);
  RowBlocks blocks(*mem, 1 << 20, 64, 256);
  ASSERT_TRUE(blocks.resident());
  for (int pass = 0; pass < 2; ++pass) {
    int64_t rows = 0;
    blocks.for_each([&](const Block& b) {
      EXPECT_EQ(b.data, v.data() + b.start * 4) << "pass " << pass << ", block " << b.index;
      rows += b.rows;
    });
    EXPECT_EQ(rows, 1000);
  }
  EXPECT_EQ(blocks.held_bytes(), 0);
}

TEST(RowBlocks, MemoryRowsAreCheckedOnTheFirstPass) {
  std::vector<float> v(300 * 2, 1.0f);
  v[2 * 250 + 1] = INFINITY;
  auto mem = memory_source(v.data(), 300, 2, "array");
  EXPECT_ERROR(mem->view(200, 100), "array: row 250 contains Inf (column 1)");
  EXPECT_ERROR(mem->view(290, 20), "array: rows 290..309 are out of range (300 rows)");
  RowBlocks blocks(*mem, 1 << 20, 64, 128);
  EXPECT_ERROR(blocks.for_each([](const Block&) {}), "array: row 250 contains Inf");
}

TEST(RowBlocks, FileSourcesHaveNoRowsInMemory) {
  testutil::TempDir tmp;
  std::ofstream(tmp.file("w.csv")) << "a,b\n1,2\n3,4\n";
  auto src = open_source(tmp.file("w.csv"));
  EXPECT_EQ(src->view(0, 1), nullptr);
}

// Records what RowBlocks pins and unpins; `accept` false refuses every pin.
struct RecordingPinning : HostPinning {
  explicit RecordingPinning(bool a) : accept(a) {}
  bool pin(void* p, size_t bytes) override {
    pinned.push_back({static_cast<char*>(p), bytes});
    return accept;
  }
  void unpin(void* p) override { unpinned.push_back(static_cast<char*>(p)); }
  bool accept;
  std::vector<std::pair<char*, size_t>> pinned;
  std::vector<char*> unpinned;
};

// Streamed data: the two block buffers are pinned once (not on every pass), every block lies in
// one of them, and both are unpinned when the blocks go; a refused pin is never undone.
TEST(RowBlocks, StreamingBuffersArePinnedOnceAndUnpinnedAtTheEnd) {
  testutil::TempDir tmp;
  const int64_t n = 1000, d = 3;
  std::vector<float> v(static_cast<size_t>(n * d));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i % 101);
  testutil::write_h5_f32(tmp.file("x.h5"), "/x", v, n, d);
  for (const bool accept : {true, false}) {
    RecordingPinning pins(accept);
    auto src = open_source(tmp.file("x.h5") + ":/x");
    {
      RowBlocks blocks(*src, 2 * 128 * d * 4, 64, 128);  // two buffers of 128 rows
      ASSERT_FALSE(blocks.resident());
      blocks.pin_buffers_with(&pins);
      for (int pass = 0; pass < 3; ++pass) {
        std::vector<float> seen;
        blocks.for_each([&](const Block& b) {
          const char* p = reinterpret_cast<const char*>(b.data);
          bool inside = false;
          for (const auto& [base, bytes] : pins.pinned)
            inside |= p >= base && p + b.rows * d * sizeof(float) <= base + bytes;
          EXPECT_TRUE(inside) << "block " << b.index << " pass " << pass;
          seen.insert(seen.end(), b.data, b.data + b.rows * d);
        });
        EXPECT_EQ(seen, v) << "pass " << pass;
        EXPECT_EQ(pins.pinned.size(), 2u) << "pass " << pass;
      }
      EXPECT_TRUE(pins.unpinned.empty());
    }
    if (accept) {
      ASSERT_EQ(pins.unpinned.size(), 2u);
      EXPECT_EQ(pins.unpinned[0], pins.pinned[0].first);
      EXPECT_EQ(pins.unpinned[1], pins.pinned[1].first);
    } else {
      EXPECT_TRUE(pins.unpinned.empty());
    }
  }
}

}  // namespace
}  // namespace embcluster
