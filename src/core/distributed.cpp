#include "core/distributed.h"

#include <chrono>

namespace embcluster {

RowSlab row_slab(int64_t n, int rank, int ranks) {
  EMBCLUSTER_ASSERT(ranks >= 1 && rank >= 0 && rank < ranks, "rank ", rank, " of ", ranks);
  const int64_t pieces = (n + kSumPieceRows - 1) / kSumPieceRows;
  const int64_t p0 = pieces * rank / ranks, p1 = pieces * (rank + 1) / ranks;
  return RowSlab{std::min(n, p0 * kSumPieceRows), std::min(n, p1 * kSumPieceRows)};
}

namespace {
double now_s() {
  using clock = std::chrono::steady_clock;
  return std::chrono::duration<double>(clock::now().time_since_epoch()).count();
}
}  // namespace

RankClock::RankClock(Communicator* comm, RowSlab slab)
    : comm_(comm),
      slab_(slab),
      t0_(now_s()),
      comm_s0_(comm ? comm->seconds() : 0),
      comm_bytes0_(comm ? comm->bytes() : 0) {}

std::vector<RankReport> RankClock::gather(const std::string& device) const {
  if (!comm_) return {};
  const RankReport me{comm_->rank(),
                      slab_.first,
                      slab_.rows(),
                      device,
                      now_s() - t0_,
                      comm_->seconds() - comm_s0_,
                      comm_->bytes() - comm_bytes0_};
  return gather_rank_reports(me, *comm_);
}

std::vector<RankReport> gather_rank_reports(const RankReport& mine, Communicator& comm) {
  Bytes b;
  b.put(mine.rank);
  b.put(mine.first_row);
  b.put(mine.rows);
  b.put(static_cast<int64_t>(mine.device.size()));
  b.put(mine.device.data(), mine.device.size());
  b.put(mine.seconds);
  b.put(mine.comm_seconds);
  b.put(mine.comm_bytes);
  std::vector<RankReport> all;
  for (const auto& part : comm.allgather(b.buffer())) {
    BytesReader r(part);
    RankReport x;
    x.rank = r.get<int>();
    x.first_row = r.get<int64_t>();
    x.rows = r.get<int64_t>();
    x.device.resize(static_cast<size_t>(r.get<int64_t>()));
    r.get(&x.device[0], x.device.size());
    x.seconds = r.get<double>();
    x.comm_seconds = r.get<double>();
    x.comm_bytes = r.get<int64_t>();
    all.push_back(std::move(x));
  }
  return all;
}

}  // namespace embcluster
