// The fixed order of sums over rows (core/piece_tree.h): any cut of the pieces into contiguous
// runs (blocks, MPI ranks' slabs) combines into the tree one process builds, bit for bit.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "backend/kmeans_backend.h"
#include "core/piece_tree.h"
#include "embcluster/communicator.h"
#include "io/row_blocks.h"

namespace embcluster {
namespace {

// A partial sum whose bits depend on the order of additions.
struct Sum {
  double v = 0;
  void add(const Sum& r) { v += r.v; }
};

std::vector<double> awkward_values(int n, unsigned seed) {
  std::mt19937_64 g(seed);
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<double> v(static_cast<size_t>(n));
  for (auto& x : v) x = u(g) * std::pow(10.0, static_cast<int>(g() % 17) - 8);
  return v;
}

double one_tree(const std::vector<double>& v) {
  PieceTree<Sum> t;
  for (size_t i = 0; i < v.size(); ++i) t.push(static_cast<int64_t>(i), 0, Sum{v[i]});
  return t.fold().v;
}

TEST(PieceTree, AnyCutIntoRunsCombinesToTheOneProcessTree) {
  for (int pieces : {1, 2, 3, 7, 16, 37, 100}) {
    const auto v = awkward_values(pieces, static_cast<unsigned>(pieces));
    const double want = one_tree(v);
    std::mt19937 g(static_cast<unsigned>(pieces));
    for (int trial = 0; trial < 20; ++trial) {
      // Random cut points: runs of pieces, each its own tree (a rank), pushed in order.
      std::vector<int> cuts{0, pieces};
      for (int c = 0; c < 3; ++c) cuts.push_back(static_cast<int>(g() % (pieces + 1)));
      std::sort(cuts.begin(), cuts.end());
      PieceTree<Sum> all;
      for (size_t r = 0; r + 1 < cuts.size(); ++r) {
        PieceTree<Sum> mine;
        for (int i = cuts[r]; i < cuts[r + 1]; ++i) mine.push(i, 0, Sum{v[static_cast<size_t>(i)]});
        for (const auto& node : mine.nodes()) all.push(node.first, node.level, node.value);
      }
      EXPECT_EQ(all.fold().v, want) << pieces << " pieces, trial " << trial;
    }
  }
}

TEST(PieceTree, TheOrderIsNotTheRowOrder) {
  // The tree's order differs from a plain left-to-right sum on such values: the test above
  // would notice a combination in another order.
  int differ = 0;
  for (unsigned s = 1; s <= 20; ++s) {
    const auto v = awkward_values(37, s);
    double seq = 0;
    for (double x : v) seq += x;
    differ += seq != one_tree(v);
  }
  EXPECT_GT(differ, 0);
}

// A backend that combines its pieces itself (the CUDA backend, on the device) and hands the
// complete subtrees left to ClusterSums::push_subtree gets the totals of the piece-by-piece path,
// bit for bit, from any first piece.
TEST(PieceTree, SubtreesCombinedElsewhereGiveThePieceByPieceTotals) {
  const int64_t k = 3, d = 2;
  for (const int64_t first : {0, 3, 8}) {
    for (const int64_t pieces : {1, 5, 8, 13}) {
      std::vector<ClusterTotals> parts;
      for (int64_t p = 0; p < pieces; ++p) {
        ClusterTotals t;
        t.reset(k, d);
        const auto v =
            awkward_values(static_cast<int>(k * d + 2 * k), static_cast<unsigned>(p + 1));
        for (int64_t i = 0; i < k * d; ++i) t.sums[i] = v[i];
        for (int64_t c = 0; c < k; ++c) {
          t.counts[c] = p + c;
          t.weight[c] = v[k * d + c];
          t.sq_dist[c] = std::fabs(v[k * d + k + c]);
        }
        parts.push_back(t);
      }
      ClusterSums one_by_one, subtrees;
      one_by_one.reset(k, d);
      subtrees.reset(k, d);
      PieceTree<ClusterTotals> elsewhere;
      for (int64_t p = 0; p < pieces; ++p) {
        one_by_one.start_piece(first + p);
        static_cast<ClusterTotals&>(one_by_one) = parts[p];
        elsewhere.push(first + p, 0, parts[p]);
      }
      EXPECT_LE(elsewhere.nodes().size(), 4u);
      for (const auto& node : elsewhere.nodes()) {
        ClusterTotals t = node.value;
        subtrees.push_subtree(node.first, node.level, std::move(t));
      }
      one_by_one.finish();
      subtrees.finish();
      EXPECT_EQ(subtrees.sums, one_by_one.sums) << first << " + " << pieces;
      EXPECT_EQ(subtrees.counts, one_by_one.counts);
      EXPECT_EQ(subtrees.weight, one_by_one.weight);
      EXPECT_EQ(subtrees.sq_dist, one_by_one.sq_dist);
    }
  }
}

TEST(PieceTree, SlabsAreWholePiecesCoveringEveryRowOnce) {
  for (int64_t n :
       {int64_t(1), kSumPieceRows - 1, kSumPieceRows, 3 * kSumPieceRows + 5, 10 * kSumPieceRows}) {
    for (int ranks = 1; ranks <= 5; ++ranks) {
      int64_t at = 0, most = 0, least = n;
      for (int r = 0; r < ranks; ++r) {
        const RowSlab s = row_slab(n, r, ranks);
        EXPECT_EQ(s.first, at) << n << " rows, rank " << r << " of " << ranks;
        EXPECT_TRUE(s.first % kSumPieceRows == 0 || s.first == n);
        at = s.last;
        most = std::max(most, s.rows());
        least = std::min(least, s.rows());
      }
      EXPECT_EQ(at, n);
      // As even as whole pieces allow.
      if (n >= ranks * kSumPieceRows) EXPECT_LE(most - least, kSumPieceRows) << n << " " << ranks;
    }
  }
}

TEST(PieceTree, CpuSumsAreTheSameWhateverTheBlocksAndThreads) {
  // Three pieces and a bit: blocks within pieces, blocks across pieces, one block.
  const int64_t n = 3 * kSumPieceRows + 1234, d = 5, k = 7;
  std::mt19937 g(3);
  std::normal_distribution<float> u(0, 10);
  std::vector<float> x(static_cast<size_t>(n * d));
  for (auto& v : x) v = u(g);
  std::vector<float> centres(x.begin(), x.begin() + k * d);
  auto sums_of = [&](int64_t block_rows, int threads) {
    auto be = make_cpu_kmeans_backend(threads);
    be->set_weights(nullptr);
    be->set_centroids(centres.data(), k, d);
    ClusterSums s;
    s.reset(k, d);
    std::vector<int32_t> labels(static_cast<size_t>(n));
    std::vector<float> dist(static_cast<size_t>(n));
    for (int64_t b = 0, start = 0; start < n; ++b, start += block_rows) {
      const Block blk{b, start, std::min(block_rows, n - start), d, x.data() + start * d};
      be->assign(blk, labels.data() + start, dist.data() + start, &s);
    }
    s.finish();
    return s;
  };
  const ClusterSums want = sums_of(n, 1);
  int64_t rows = 0;
  for (int64_t c : want.counts) rows += c;
  EXPECT_EQ(rows, n);
  for (int64_t block_rows : {int64_t(4096), int64_t(3) * 8192, kSumPieceRows, int64_t(25) * 4096}) {
    for (int threads : {1, 2, 3}) {
      const ClusterSums got = sums_of(block_rows, threads);
      EXPECT_EQ(got.sums, want.sums) << block_rows << " rows per block, " << threads << " threads";
      EXPECT_EQ(got.sq_dist, want.sq_dist);
      EXPECT_EQ(got.counts, want.counts);
    }
  }
}

TEST(PieceTree, RowBlocksWalkASlabWithTheSourcesRowNumbers) {
  const int64_t n = 20000, d = 3;
  std::vector<float> x(static_cast<size_t>(n * d));
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i);
  auto src = memory_source(x.data(), n, d);
  for (int64_t budget : {int64_t(1) << 30, int64_t(4096) * 2 * d * 4}) {  // resident, streamed
    RowBlocks blocks(*src, budget, 4096, int64_t(1) << 18, 8192, 16385);
    EXPECT_EQ(blocks.rows(), 16385 - 8192);
    for (int pass = 0; pass < 2; ++pass) {
      int64_t next = 8192;
      blocks.for_each([&](const Block& b) {
        EXPECT_EQ(b.start, next);
        EXPECT_EQ(b.data[0], static_cast<float>(b.start * d));
        EXPECT_EQ(b.data[(b.rows - 1) * d + 2], static_cast<float>((b.start + b.rows) * d - 1));
        next += b.rows;
      });
      EXPECT_EQ(next, 16385) << "budget " << budget << " pass " << pass;
    }
  }
}

}  // namespace
}  // namespace embcluster
