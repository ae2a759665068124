#pragma once
// Sums over the rows of a data set in an order fixed by the data alone. The rows are cut into
// pieces of kSumPieceRows consecutive rows counted from row 0; each piece is summed on its own,
// and the pieces are combined along the dyadic tree of their indices: pieces 2i and 2i+1 make a
// pair, pairs 2i and 2i+1 a quad, and so on; the subtrees left at the end are added from the
// largest (leftmost) on. Any contiguous run of pieces (a block, an MPI rank's slab) yields
// complete subtrees that merge with their neighbours' into the very tree one process builds from
// all the pieces, so the result is bit-identical whatever the blocks, threads or ranks.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "embcluster/error.h"

namespace embcluster {

// Rows per piece. Data of up to this many rows is one piece: summed in row order.
constexpr int64_t kSumPieceRows = int64_t(1) << 16;

// T: a partial sum with `void add(const T& right)` (this becomes this + right).
template <class T>
class PieceTree {
 public:
  struct Node {
    int64_t first = 0;  // first piece covered
    int level = 0;      // covers pieces [first, first + 2^level)
    T value;
  };

  // Adds the node covering pieces [first, first + 2^level): it must start where the last node
  // pushed ended (or anywhere for the first node) and be aligned (first a multiple of 2^level).
  void push(int64_t first, int level, T value) {
    EMBCLUSTER_ASSERT(first % (int64_t(1) << level) == 0, "piece ", first, " level ", level);
    EMBCLUSTER_ASSERT(nodes_.empty() || end() == first, "piece ", first, " after ", end());
    nodes_.push_back(Node{first, level, std::move(value)});
    // Siblings merge: equal levels, the left one at an even position of its level.
    while (nodes_.size() >= 2) {
      Node& l = nodes_[nodes_.size() - 2];
      const Node& r = nodes_.back();
      if (l.level != r.level || ((l.first >> l.level) & 1) != 0) break;
      l.value.add(r.value);
      l.level += 1;
      nodes_.pop_back();
    }
  }

  bool empty() const { return nodes_.empty(); }
  // The complete subtrees held, leftmost first: what a rank hands to the others.
  const std::vector<Node>& nodes() const { return nodes_; }
  // One past the last piece covered.
  int64_t end() const {
    return nodes_.empty() ? 0 : nodes_.back().first + (int64_t(1) << nodes_.back().level);
  }

  // The sum of every piece pushed (the tree must not be empty); the tree is empty after.
  T fold() {
    EMBCLUSTER_ASSERT(!nodes_.empty(), "no pieces");
    T total = std::move(nodes_[0].value);
    for (size_t i = 1; i < nodes_.size(); ++i) total.add(nodes_[i].value);
    nodes_.clear();
    return total;
  }

  void clear() { nodes_.clear(); }

 private:
  std::vector<Node> nodes_;
};

// The pieces of the rows [first, last): calls fn(piece, first_row, end_row) for every part of the
// range that lies in one piece, in row order.
template <class Fn>
void for_each_piece(int64_t first, int64_t last, Fn&& fn) {
  while (first < last) {
    const int64_t piece = first / kSumPieceRows;
    const int64_t end = std::min(last, (piece + 1) * kSumPieceRows);
    fn(piece, first, end);
    first = end;
  }
}

}  // namespace embcluster
