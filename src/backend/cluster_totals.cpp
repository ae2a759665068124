// The per-cluster sums of a pass, piece by piece (backend/kmeans_backend.h).
#include <utility>

#include "backend/kmeans_backend.h"
#include "core/distributed.h"

namespace embcluster {

void ClusterTotals::reset(int64_t k_, int64_t d_) {
  k = k_;
  d = d_;
  sums.assign(static_cast<size_t>(k * d), 0.0);
  counts.assign(static_cast<size_t>(k), 0);
  weight.assign(static_cast<size_t>(k), 0.0);
  sq_dist.assign(static_cast<size_t>(k), 0.0);
}

void ClusterTotals::add(const ClusterTotals& r) {
  for (size_t i = 0; i < sums.size(); ++i) sums[i] += r.sums[i];
  for (size_t c = 0; c < counts.size(); ++c) {
    counts[c] += r.counts[c];
    weight[c] += r.weight[c];
    sq_dist[c] += r.sq_dist[c];
  }
}

void ClusterSums::reset(int64_t k_, int64_t d_) {
  ClusterTotals::reset(k_, d_);
  piece_ = -1;
  done_.clear();
}

void ClusterSums::start_piece(int64_t piece) {
  if (piece == piece_) return;
  if (piece_ >= 0) {
    done_.push(piece_, 0, static_cast<ClusterTotals&&>(*this));
    ClusterTotals::reset(k, d);
  }
  piece_ = piece;
}

void ClusterSums::push_subtree(int64_t first, int level, ClusterTotals&& t) {
  EMBCLUSTER_ASSERT(piece_ < 0, "piece ", piece_, " is open");
  done_.push(first, level, std::move(t));
}

void ClusterSums::finish(Communicator* comm) {
  if (piece_ >= 0) {
    done_.push(piece_, 0, static_cast<ClusterTotals&&>(*this));
    ClusterTotals::reset(k, d);
  }
  piece_ = -1;
  if (comm) {
    const size_t kd = sums.size(), kk = counts.size();
    gather_tree(
        done_, *comm,
        [](Bytes& b, const ClusterTotals& t) {
          b.put(t.sums.data(), t.sums.size());
          b.put(t.counts.data(), t.counts.size());
          b.put(t.weight.data(), t.weight.size());
          b.put(t.sq_dist.data(), t.sq_dist.size());
        },
        [&](BytesReader& r) {
          ClusterTotals t;
          t.reset(k, d);
          r.get(t.sums.data(), kd);
          r.get(t.counts.data(), kk);
          r.get(t.weight.data(), kk);
          r.get(t.sq_dist.data(), kk);
          return t;
        });
  }
  if (!done_.empty()) static_cast<ClusterTotals&>(*this) = done_.fold();
}

}  // namespace embcluster
