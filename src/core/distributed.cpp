#include "core/distributed.h"

namespace embcluster {

RowSlab row_slab(int64_t n, int rank, int ranks) {
  EMBCLUSTER_ASSERT(ranks >= 1 && rank >= 0 && rank < ranks, "rank ", rank, " of ", ranks);
  const int64_t pieces = (n + kSumPieceRows - 1) / kSumPieceRows;
  const int64_t p0 = pieces * rank / ranks, p1 = pieces * (rank + 1) / ranks;
  return RowSlab{std::min(n, p0 * kSumPieceRows), std::min(n, p1 * kSumPieceRows)};
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
