#pragma once
// The per-cluster sums of one unit of rows (kAssignGrain rows at a fixed place in the data), made
// by one thread in row order while the unit's rows are still in cache, then added into the
// pass's ClusterSums in unit order (UnitFolder). Units sit at multiples of kAssignGrain rows of the
// whole data, so the sums are the same whatever the threads, the blocks or the MPI ranks. Rows are
// first added in float, kFloatRun at a time per cluster, then that short sum is added in double:
// the conversion to double runs once per kFloatRun rows, and a sum of so few rows loses nothing
// that matters next to the float centres it ends in. The arithmetic is kernels/unit_sums.cuh's,
// which the CUDA backend runs too: both make the same bits.
#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "backend/kmeans_backend.h"
#include "kernels/unit_sums.cuh"

namespace embcluster {

static_assert(kAssignGrain == kern::kUnitRows, "a unit is one grain of assign()");

class UnitSums {
 public:
  static constexpr int kFloatRun = kern::kFloatRun;

  UnitSums(int64_t k, int64_t d)
      : k_(k),
        d_(d),
        sums_(static_cast<size_t>(k * d)),
        run_(static_cast<size_t>(k * d)),
        in_run_(k),
        counts_(k),
        weight_(k),
        sq_(k),
        seen_(k) {}

  // Row x (d values) of cluster c, with weight w (1 without weights) and squared distance sq.
  // Weighted rows go to the double sums directly (weight x row in double).
  template <bool Weighted>
  void add(int64_t c, const float* x, double w, float sq) {
    if (!seen_[c]) {
      seen_[c] = 1;
      touched_.push_back(c);
    }
    if (Weighted) {
      double* dst = sums_.data() + c * d_;
#pragma omp simd
      for (int64_t j = 0; j < d_; ++j) dst[j] = kern::fma_d(w, static_cast<double>(x[j]), dst[j]);
    } else {
      float* r = run_.data() + c * d_;
#pragma omp simd
      for (int64_t j = 0; j < d_; ++j) r[j] += x[j];
      if (++in_run_[c] == kFloatRun) flush(c);
    }
    counts_[c] += 1;
    weight_[c] += w;
    sq_[c] = Weighted ? kern::fma_d(w, static_cast<double>(sq), sq_[c])
                      : sq_[c] + static_cast<double>(sq);
  }

  // Adds the unit into s (whose open piece holds the unit's rows) and empties it.
  void fold_into(ClusterSums& s) {
    for (const int64_t c : touched_) {
      if (in_run_[c] > 0) flush(c);
      double* src = sums_.data() + c * d_;
      double* dst = s.sums.data() + c * d_;
#pragma omp simd
      for (int64_t j = 0; j < d_; ++j) dst[j] += src[j];
      std::fill(src, src + d_, 0.0);
      s.counts[c] += counts_[c];
      s.weight[c] += weight_[c];
      s.sq_dist[c] += sq_[c];
      counts_[c] = 0;
      weight_[c] = sq_[c] = 0.0;
      seen_[c] = 0;
    }
    touched_.clear();
  }

 private:
  // The float run of cluster c into its double sums.
  void flush(int64_t c) {
    float* r = run_.data() + c * d_;
    double* dst = sums_.data() + c * d_;
#pragma omp simd
    for (int64_t j = 0; j < d_; ++j) dst[j] += static_cast<double>(r[j]);
    std::fill(r, r + d_, 0.0f);
    in_run_[c] = 0;
  }

  int64_t k_, d_;
  std::vector<double> sums_;
  std::vector<float> run_;
  std::vector<int> in_run_;
  std::vector<int64_t> counts_;
  std::vector<double> weight_, sq_;
  std::vector<char> seen_;
  std::vector<int64_t> touched_;
};

// Adds the units of a pass into its ClusterSums in unit order, whichever thread finishes first: a
// unit done before the ones ahead of it waits in a small pool of buffers instead of its thread.
class UnitFolder {
 public:
  // first_unit: the global index of the first unit to come (units at multiples of unit_rows).
  UnitFolder(ClusterSums* s, int64_t first_unit, int64_t unit_rows, int threads)
      : s_(s), next_(first_unit), unit_rows_(unit_rows), cap_(2 * threads + 2) {}

  // An empty buffer for global unit `unit` (waits while every buffer holds a unit not yet added,
  // except for the unit that every other waits on).
  std::unique_ptr<UnitSums> take(int64_t unit) {
    std::unique_lock<std::mutex> lock(m_);
    cv_.wait(lock, [&] { return !free_.empty() || made_ < cap_ || unit == next_; });
    if (!free_.empty()) {
      auto us = std::move(free_.back());
      free_.pop_back();
      return us;
    }
    ++made_;
    return std::make_unique<UnitSums>(s_->k, s_->d);
  }

  // The sums of global unit `unit`; adds every unit now next in order.
  void give(int64_t unit, std::unique_ptr<UnitSums> us) {
    std::lock_guard<std::mutex> lock(m_);
    pending_[unit] = std::move(us);
    while (!pending_.empty() && pending_.begin()->first == next_) {
      s_->start_piece(next_ * unit_rows_ / kSumPieceRows);
      pending_.begin()->second->fold_into(*s_);
      free_.push_back(std::move(pending_.begin()->second));
      pending_.erase(pending_.begin());
      ++next_;
    }
    cv_.notify_all();
  }

 private:
  ClusterSums* s_;
  int64_t next_, unit_rows_, cap_, made_ = 0;
  std::mutex m_;
  std::condition_variable cv_;
  std::map<int64_t, std::unique_ptr<UnitSums>> pending_;
  std::vector<std::unique_ptr<UnitSums>> free_;
};

}  // namespace embcluster
