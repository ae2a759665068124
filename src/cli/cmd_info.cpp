// embcluster info [FILE]: the build and the devices, or the datasets of a file.
#include <omp.h>

#include <cstdio>

#include "cli/commands.h"
#include "cli/common.h"
#include "embcluster/device.h"
#include "embcluster/memory.h"

namespace embcluster::cli {

namespace {
struct InfoOptions {
  std::string file;
};

int run_info(const InfoOptions& o) {
  if (!o.file.empty()) {
    for (const auto& ds : list_datasets(o.file)) {
      std::string shape;
      for (size_t i = 0; i < ds.shape.size(); ++i)
        shape += (i ? " x " : "") + std::to_string(ds.shape[i]);
      std::printf("%-32s %-20s %s\n", ds.path.c_str(), shape.c_str(), ds.dtype.c_str());
    }
    return 0;
  }
  std::printf("embcluster %s\n", EMBCLUSTER_VERSION_STRING);
  std::printf("cpu: %d threads (OpenMP), BLAS: OpenBLAS\n", omp_get_max_threads());
  std::printf("memory budget default: %s\n", format_bytes(default_memory_budget()).c_str());
  std::printf("formats: HDF5, .npy, .fvecs/.bvecs/.ivecs, CSV\n");
  std::printf("cuda backend: %s\n", cuda_built() ? "built" : "not built");
  const auto devices = cuda_devices();
  if (devices.empty()) {
    std::printf("no CUDA device: using the CPU\n");
    return 0;
  }
  for (const auto& d : devices) {
    const std::string check = cuda_self_test(d.index);
    std::printf("cuda:%d  %s  sm_%d%d  %d SMs  %s total, %s free  self-test: %s\n", d.index,
                d.name.c_str(), d.cc_major, d.cc_minor, d.multiprocessors,
                format_bytes(d.total_bytes).c_str(), format_bytes(d.free_bytes).c_str(),
                check.empty() ? "ok" : check.c_str());
  }
  return 0;
}
}  // namespace

namespace {
Runner add_info(CLI::App& app) {
  auto o = std::make_shared<InfoOptions>();
  auto* cmd = app.add_subcommand("info", "Show the build and CUDA devices, or the datasets in FILE");
  cmd->add_option("file", o->file, "HDF5, .npy, .fvecs or CSV file to describe");
  return [o] { return run_info(*o); };
}

const Registration registered(0, "info", add_info);
}  // namespace

}  // namespace embcluster::cli
