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

}  // namespace
}  // namespace embcluster
