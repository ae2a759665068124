#pragma once
// Per-phase GPU time from pairs of events recorded on a stream, read once the stream is idle.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cuda/cuda_resources.h"

namespace embcluster {

class PhaseTimer {
 public:
  void start(const std::string& phase, cudaStream_t s) {
    current_ = phase;
    begin_ = next_event();
    begin_->record(s);
  }
  void stop(cudaStream_t s) {
    Event* end = next_event();
    end->record(s);
    pending_.push_back({current_, begin_, end});
  }
  // Adds the elapsed times of the recorded pairs; the stream must be synchronised.
  void collect() {
    for (const auto& p : pending_) {
      float ms = 0;
      if (cudaEventElapsedTime(&ms, p.begin->get(), p.end->get()) == cudaSuccess)
        totals_[p.phase] += ms / 1000.0;
      else
        cudaGetLastError();
    }
    pending_.clear();
    used_ = 0;
  }
  const std::map<std::string, double>& totals() const { return totals_; }

 private:
  struct Pair {
    std::string phase;
    Event* begin;
    Event* end;
  };
  Event* next_event() {
    if (used_ == pool_.size()) pool_.push_back(std::make_unique<Event>());
    return pool_[used_++].get();
  }
  std::vector<std::unique_ptr<Event>> pool_;
  size_t used_ = 0;
  std::string current_;
  Event* begin_ = nullptr;
  std::vector<Pair> pending_;
  std::map<std::string, double> totals_;
};

}  // namespace embcluster
