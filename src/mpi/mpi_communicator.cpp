#include "mpi/mpi_communicator.h"

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "embcluster/error.h"

namespace embcluster {
namespace {

double now_s() {
  using clock = std::chrono::steady_clock;
  return std::chrono::duration<double>(clock::now().time_since_epoch()).count();
}

// Variables the common launchers set in every process they start.
bool launched_by_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE",
                        "MPI_LOCALNRANKS", "MV2_COMM_WORLD_SIZE"})
    if (std::getenv(v)) return true;
  return false;
}

void check(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, msg, &len);
  throw Error(std::string("MPI ") + what + ": " + std::string(msg, static_cast<size_t>(len)));
}

class MpiWorld final : public Communicator {
 public:
  MpiWorld() {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    MPI_Comm local;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &local);
    MPI_Comm_rank(local, &local_rank_);
    MPI_Comm_free(&local);
  }
  ~MpiWorld() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Finalize();
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int local_rank() const override { return local_rank_; }

  std::vector<std::vector<char>> allgather(const std::vector<char>& mine) override {
    const double t0 = now_s();
    std::vector<int> counts(static_cast<size_t>(size_)), displs(static_cast<size_t>(size_));
    const int n = count_of(mine);
    check(MPI_Allgather(&n, 1, MPI_INT, counts.data(), 1, MPI_INT, MPI_COMM_WORLD), "allgather");
    std::vector<char> all(offsets(counts, displs));
    check(MPI_Allgatherv(mine.data(), n, MPI_BYTE, all.data(), counts.data(), displs.data(),
                         MPI_BYTE, MPI_COMM_WORLD),
          "allgatherv");
    bytes_ += n * static_cast<int64_t>(size_ - 1) + static_cast<int64_t>(all.size()) - n;
    seconds_ += now_s() - t0;
    return split(all, counts, displs);
  }

  std::vector<std::vector<char>> gather(const std::vector<char>& mine, int root) override {
    const double t0 = now_s();
    std::vector<int> counts(static_cast<size_t>(size_)), displs(static_cast<size_t>(size_));
    const int n = count_of(mine);
    check(MPI_Gather(&n, 1, MPI_INT, counts.data(), 1, MPI_INT, root, MPI_COMM_WORLD), "gather");
    std::vector<char> all(rank_ == root ? offsets(counts, displs) : 0);
    check(MPI_Gatherv(mine.data(), n, MPI_BYTE, all.data(), counts.data(), displs.data(), MPI_BYTE,
                      root, MPI_COMM_WORLD),
          "gatherv");
    bytes_ += rank_ == root ? static_cast<int64_t>(all.size()) - n : n;
    seconds_ += now_s() - t0;
    if (rank_ != root) return {};
    return split(all, counts, displs);
  }

  void broadcast(std::vector<char>& bytes, int root) override {
    const double t0 = now_s();
    int64_t n = static_cast<int64_t>(bytes.size());
    check(MPI_Bcast(&n, 1, MPI_INT64_T, root, MPI_COMM_WORLD), "bcast");
    bytes.resize(static_cast<size_t>(n));
    // In parts of at most 1 GiB: MPI counts are ints.
    for (int64_t at = 0; at < n; at += int64_t(1) << 30) {
      const int part = static_cast<int>(std::min<int64_t>(n - at, int64_t(1) << 30));
      check(MPI_Bcast(bytes.data() + at, part, MPI_BYTE, root, MPI_COMM_WORLD), "bcast");
    }
    bytes_ += n;
    seconds_ += now_s() - t0;
  }

 private:
  static int count_of(const std::vector<char>& v) {
    require(v.size() < (size_t(1) << 31), "MPI: a message of ", v.size(),
            " bytes is beyond MPI's int counts");
    return static_cast<int>(v.size());
  }
  static size_t offsets(const std::vector<int>& counts, std::vector<int>& displs) {
    int64_t at = 0;
    for (size_t r = 0; r < counts.size(); ++r) {
      require(at < (int64_t(1) << 31), "MPI: gathered messages beyond MPI's int counts");
      displs[r] = static_cast<int>(at);
      at += counts[r];
    }
    return static_cast<size_t>(at);
  }
  static std::vector<std::vector<char>> split(const std::vector<char>& all,
                                              const std::vector<int>& counts,
                                              const std::vector<int>& displs) {
    std::vector<std::vector<char>> parts(counts.size());
    for (size_t r = 0; r < counts.size(); ++r)
      parts[r].assign(all.begin() + displs[r], all.begin() + displs[r] + counts[r]);
    return parts;
  }

  int rank_ = 0, size_ = 1, local_rank_ = 0;
};

}  // namespace

std::shared_ptr<Communicator> mpi_world(int* argc, char*** argv) {
  if (!launched_by_mpi()) return nullptr;
  int provided = 0;
  // Only the thread that calls the library talks to MPI (OpenMP teams never do).
  if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
    throw Error("MPI: initialisation failed");
  return std::make_shared<MpiWorld>();
}

void mpi_abort(const std::string& message, int code) {
  std::fprintf(stderr, "%s\n", message.c_str());
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);
}

}  // namespace embcluster
