#pragma once
// Where and how a run executes, apart from what it computes: threads, memory budgets, the device,
// cancellation. Every entry point (kmeans, dbscan, kdist, silhouette, cluster_metrics,
// prepare_source) takes one; the params structs hold only the algorithm's parameters.
#include <cstdint>
#include <functional>
#include <memory>

#include "embcluster/enums.h"

namespace embcluster {

class Communicator;  // embcluster/communicator.h

struct ExecutionContext {
  // CPU threads of the run (OpenMP teams; BLAS runs single-threaded inside them). 0 = every core
  // (omp_get_max_threads() of the calling thread). The caller's OpenMP and OpenBLAS thread
  // settings are restored when the call returns. Results do not depend on it.
  int threads = 0;
  // Bytes of host memory for data blocks: data that fits is read once, larger data is streamed
  // in blocks. 0 = default_memory_budget() (half of the available memory, at least 64 MiB).
  int64_t memory_budget = 0;
  // Where the work runs: auto (default: a CUDA device when one is present, else the CPU, with a
  // note saying why), cpu, or cuda / cuda:N (an error when that device cannot be used).
  DeviceChoice device;
  // Bytes of device memory for the GPU backends. 0 = most of the free device memory (85%).
  int64_t device_memory_budget = 0;
  // Polled by the drivers between units of work (blocks, iterations, passes): when it returns
  // true the run stops by throwing Cancelled, an Error whose message is "cancelled". Empty
  // (default) = never cancelled.
  // Called from the thread that made the call.
  std::function<bool()> cancelled;
  // The ranks of a distributed run (embcluster/communicator.h): each rank works on its slab of
  // the rows and the results are combined, bit-identical to one process's. Null (default) or a
  // single rank = this process does everything. Drivers that cannot be distributed refuse one of
  // several ranks.
  std::shared_ptr<Communicator> comm;
};

// Throws Error naming the field when ctx holds a value no run accepts (negative threads or
// budgets).
void check_context(const ExecutionContext& ctx);

// The most threads a run starts: 4 x the cores (more only costs memory and, far beyond, crashes
// the OpenMP runtime).
int max_threads();

// ctx.threads capped at max_threads(), or every core for 0.
int context_threads(const ExecutionContext& ctx);

// ctx.memory_budget, or default_memory_budget() for 0.
int64_t context_memory_budget(const ExecutionContext& ctx);

// Throws Cancelled (an Error, "cancelled") when ctx.cancelled says so.
void throw_if_cancelled(const ExecutionContext& ctx);

}  // namespace embcluster
