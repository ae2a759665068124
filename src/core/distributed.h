#pragma once
// What the drivers use of a Communicator (embcluster/communicator.h): whether a run is spread over
// several ranks, its slab, typed gathers, and the combination of piece trees across ranks.
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "core/piece_tree.h"
#include "embcluster/communicator.h"
#include "embcluster/context.h"

namespace embcluster {

// The run's communicator when it has more than one rank; null for a one-process run.
inline Communicator* ranks_of(const ExecutionContext& ctx) {
  return ctx.comm && ctx.comm->size() > 1 ? ctx.comm.get() : nullptr;
}

// This process's rows of n: all of them without a communicator of several ranks.
inline RowSlab slab_of(int64_t n, const Communicator* comm) {
  return comm ? row_slab(n, comm->rank(), comm->size()) : RowSlab{0, n};
}

// A rank's part of a call, for the report: started at construction; gather() (collective) gives
// every rank's slab, device, seconds and communication since then.
class RankClock {
 public:
  RankClock(Communicator* comm, RowSlab slab);
  std::vector<RankReport> gather(const std::string& device) const;

 private:
  Communicator* comm_;
  RowSlab slab_;
  double t0_, comm_s0_;
  int64_t comm_bytes0_;
};

// Appends trivially copyable values to a byte buffer, and reads them back in the same order.
class Bytes {
 public:
  template <class T>
  void put(const T* v, size_t count) {
    static_assert(std::is_trivially_copyable<T>::value, "plain values only");
    const size_t at = buf_.size();
    buf_.resize(at + sizeof(T) * count);
    if (count) std::memcpy(buf_.data() + at, v, sizeof(T) * count);
  }
  template <class T>
  void put(const T& v) {
    put(&v, 1);
  }
  std::vector<char>& buffer() { return buf_; }

 private:
  std::vector<char> buf_;
};

class BytesReader {
 public:
  explicit BytesReader(const std::vector<char>& b) : b_(b) {}
  template <class T>
  void get(T* v, size_t count) {
    EMBCLUSTER_ASSERT(at_ + sizeof(T) * count <= b_.size(), "message of ", b_.size(), " bytes");
    if (count) std::memcpy(v, b_.data() + at_, sizeof(T) * count);
    at_ += sizeof(T) * count;
  }
  template <class T>
  T get() {
    T v;
    get(&v, 1);
    return v;
  }
  bool done() const { return at_ == b_.size(); }

 private:
  const std::vector<char>& b_;
  size_t at_ = 0;
};

// Every rank's values concatenated in rank order, on every rank.
template <class T>
std::vector<T> allgather_values(const std::vector<T>& mine, Communicator& comm) {
  Bytes b;
  b.put(mine.data(), mine.size());
  std::vector<T> all;
  for (const auto& part : comm.allgather(b.buffer())) {
    const size_t at = all.size();
    all.resize(at + part.size() / sizeof(T));
    if (!part.empty()) std::memcpy(all.data() + at, part.data(), part.size());
  }
  return all;
}

// Every rank's values concatenated in rank order, on root (empty elsewhere).
template <class T>
std::vector<T> gather_values(const std::vector<T>& mine, Communicator& comm, int root = 0) {
  Bytes b;
  b.put(mine.data(), mine.size());
  std::vector<T> all;
  for (const auto& part : comm.gather(b.buffer(), root)) {
    const size_t at = all.size();
    all.resize(at + part.size() / sizeof(T));
    if (!part.empty()) std::memcpy(all.data() + at, part.data(), part.size());
  }
  return all;
}

// True when v is true on every rank (v itself without a communicator).
inline bool all_ranks(bool v, Communicator* comm) {
  if (!comm) return v;
  for (char c : allgather_values(std::vector<char>{static_cast<char>(v)}, *comm))
    if (!c) return false;
  return true;
}

// The subtrees of every rank pushed, in rank order, onto one tree: the tree one process builds
// from all the pieces. pack(Bytes&, const T&) and unpack(BytesReader&) -> T move a partial sum.
template <class T, class Pack, class Unpack>
void gather_tree(PieceTree<T>& tree, Communicator& comm, Pack pack, Unpack unpack) {
  Bytes b;
  b.put(static_cast<int64_t>(tree.nodes().size()));
  for (const auto& node : tree.nodes()) {
    b.put(node.first);
    b.put(node.level);
    pack(b, node.value);
  }
  const auto parts = comm.allgather(b.buffer());
  tree.clear();
  for (const auto& part : parts) {
    BytesReader r(part);
    const auto count = r.get<int64_t>();
    for (int64_t i = 0; i < count; ++i) {
      const auto first = r.get<int64_t>();
      const auto level = r.get<int>();
      tree.push(first, level, unpack(r));
    }
  }
}

}  // namespace embcluster
