#pragma once
// A concurrent union-find over row indices for DBSCAN: lock-free unions from many threads.
//
// unite() links the larger root under the smaller one with a compare-and-swap, and find() halves
// paths with compare-and-swaps that may fail harmlessly (the steps are kern::uf_find and
// kern::uf_unite, which the CUDA kernels run too). Every parent is <= its child, so the root of a
// set is always its lowest member, whatever order the unions ran in: the final partition and its
// roots are deterministic.
#include <atomic>
#include <cstdint>
#include <memory>
#include <utility>

#include "kernels/dbscan_math.cuh"

namespace embcluster {

class ConcurrentUnionFind {
 public:
  explicit ConcurrentUnionFind(int64_t n) : n_(n), parent_(new std::atomic<int64_t>[n]) {
    for (int64_t i = 0; i < n; ++i) parent_[i].store(i, std::memory_order_relaxed);
  }

  int64_t size() const { return n_; }

  // The current root of x's set (a member that was a root at some moment during the call).
  int64_t find(int64_t x) {
    Parents p{parent_.get()};
    return kern::uf_find(p, x);
  }

  // Joins the sets of a and b. Returns true when they were separate.
  bool unite(int64_t a, int64_t b) {
    Parents p{parent_.get()};
    return kern::uf_unite(p, a, b);
  }

  // True when a and b are known to be in one set (never a false positive while unions run).
  bool same(int64_t a, int64_t b) { return find(a) == find(b); }

  // After all unions: points every element at its root, so root() is a plain read.
  void flatten() {
    for (int64_t i = 0; i < n_; ++i) parent_[i].store(find(i), std::memory_order_relaxed);
  }
  int64_t root(int64_t x) const { return parent_[x].load(std::memory_order_relaxed); }

 private:
  // The parent accessor of kern::uf_find / kern::uf_unite over std::atomic.
  struct Parents {
    std::atomic<int64_t>* a;
    int64_t load(int64_t i) const { return a[i].load(std::memory_order_relaxed); }
    void halve(int64_t i, int64_t expect, int64_t to) {
      a[i].compare_exchange_weak(expect, to, std::memory_order_relaxed);
    }
    bool link(int64_t i, int64_t expect, int64_t to) {
      return a[i].compare_exchange_strong(expect, to, std::memory_order_acq_rel);
    }
  };

  int64_t n_;
  std::unique_ptr<std::atomic<int64_t>[]> parent_;
};

}  // namespace embcluster
