#pragma once
// The processes of one distributed run, as the drivers see them: an MPI communicator behind a
// narrow interface, so that the library itself never includes MPI. A run with a communicator of
// N ranks gives every rank a contiguous slab of the rows (cut at the fixed pieces of
// core/piece_tree.h); the ranks combine their partial results in a fixed order, so that labels,
// centroids, inertia and scores are bit-identical to one process's, whatever N.
//
// Every method is collective: every rank calls it, in the same order, from the thread that made
// the run's call.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace embcluster {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // The rank among the ranks of its own machine (the device it takes: local rank mod devices).
  virtual int local_rank() const = 0;

  // Every rank's bytes, in rank order, on every rank.
  virtual std::vector<std::vector<char>> allgather(const std::vector<char>& mine) = 0;
  // Every rank's bytes, in rank order, on `root`; other ranks get an empty vector.
  virtual std::vector<std::vector<char>> gather(const std::vector<char>& mine, int root) = 0;
  // Root's bytes on every rank (resized to root's size).
  virtual void broadcast(std::vector<char>& bytes, int root) = 0;

  // Seconds spent in the calls above and the bytes this rank sent and received through them.
  double seconds() const { return seconds_; }
  int64_t bytes() const { return bytes_; }

 protected:
  double seconds_ = 0;
  int64_t bytes_ = 0;
};

// Rows [first, last) of n: the slab of `rank` among `ranks`, cut at the fixed pieces of rows
// (whole pieces to every rank, as even as pieces allow; ranks past the pieces get none).
struct RowSlab {
  int64_t first = 0, last = 0;
  int64_t rows() const { return last - first; }
};
RowSlab row_slab(int64_t n, int rank, int ranks);

// What one rank of a distributed run did, for the report.
struct RankReport {
  int rank = 0;
  int64_t first_row = 0, rows = 0;  // its slab
  std::string device;               // where its rows ran
  double seconds = 0;               // its time in the call
  double comm_seconds = 0;          // of which communicating (waiting for the others included)
  int64_t comm_bytes = 0;           // sent and received
};

// Every rank's report, in rank order, on every rank (collective).
std::vector<RankReport> gather_rank_reports(const RankReport& mine, Communicator& comm);

}  // namespace embcluster
