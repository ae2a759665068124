#include "embcluster/context.h"

#include <omp.h>

#include <algorithm>

#include "embcluster/error.h"
#include "embcluster/memory.h"

namespace embcluster {

void check_context(const ExecutionContext& ctx) {
  require(ctx.threads >= 0, "threads=", ctx.threads, " must be >= 0 (0 = all cores)");
  require(ctx.memory_budget >= 0, "memory budget must be positive");
  require(ctx.device_memory_budget >= 0, "device memory budget must be positive");
}

int max_threads() { return 4 * std::max(1, omp_get_num_procs()); }

int context_threads(const ExecutionContext& ctx) {
  return ctx.threads > 0 ? std::min(ctx.threads, max_threads()) : omp_get_max_threads();
}

int64_t context_memory_budget(const ExecutionContext& ctx) {
  return ctx.memory_budget > 0 ? ctx.memory_budget : default_memory_budget();
}

void throw_if_cancelled(const ExecutionContext& ctx) {
  if (ctx.cancelled && ctx.cancelled()) throw Cancelled();
}

}  // namespace embcluster
