#pragma once
// A concurrent union-find over row indices for DBSCAN: lock-free unions from many threads.
//
// unite() links the larger root under the smaller one with a compare-and-swap, and find() halves
// paths with compare-and-swaps that may fail harmlessly. Every parent is <= its child, so the root
// of a set is always its lowest member, whatever order the unions ran in: the final partition and
// its roots are deterministic.
#include <atomic>
#include <cstdint>
#include <memory>
#include <utility>

namespace embcluster {

class ConcurrentUnionFind {
 public:
  explicit ConcurrentUnionFind(int64_t n) : n_(n), parent_(new std::atomic<int64_t>[n]) {
    for (int64_t i = 0; i < n; ++i) parent_[i].store(i, std::memory_order_relaxed);
  }

  int64_t size() const { return n_; }

  // The current root of x's set (a member that was a root at some moment during the call).
  int64_t find(int64_t x) {
    for (;;) {
      int64_t p = parent_[x].load(std::memory_order_relaxed);
      if (p == x) return x;
      const int64_t g = parent_[p].load(std::memory_order_relaxed);
      if (g == p) return p;
      // Path halving: point x at its grandparent (an ancestor, so still in the set).
      parent_[x].compare_exchange_weak(p, g, std::memory_order_relaxed);
      x = g;
    }
  }

  // Joins the sets of a and b. Returns true when they were separate.
  bool unite(int64_t a, int64_t b) {
    for (;;) {
      a = find(a);
      b = find(b);
      if (a == b) return false;
      if (a > b) std::swap(a, b);
      int64_t expected = b;
      // b may have stopped being a root meanwhile: then retry from the new roots.
      if (parent_[b].compare_exchange_strong(expected, a, std::memory_order_acq_rel)) return true;
    }
  }

  // True when a and b are known to be in one set (never a false positive while unions run).
  bool same(int64_t a, int64_t b) { return find(a) == find(b); }

  // After all unions: points every element at its root, so root() is a plain read.
  void flatten() {
    for (int64_t i = 0; i < n_; ++i) parent_[i].store(find(i), std::memory_order_relaxed);
  }
  int64_t root(int64_t x) const { return parent_[x].load(std::memory_order_relaxed); }

 private:
  int64_t n_;
  std::unique_ptr<std::atomic<int64_t>[]> parent_;
};

}  // namespace embcluster
