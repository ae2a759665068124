// K-means throughput on the CPU beside the BLAS sgemm peak of the same machine, measured in the
// same run. GFLOP/s counts 2 n k d per Lloyd iteration.
//
//   bench_kmeans [--n N] [--d D] [--k K] [--iters I] [--data FILE.h5:/data] [--memory BYTES]
//                [--threads T] [--device cpu|cuda]
#include <CLI/CLI.hpp>
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "core/rng.h"
#include "embcluster/error.h"
#include "embcluster/kmeans.h"
#include "embcluster/memory.h"
#include "embcluster/source.h"

using namespace embcluster;

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Median sgemm rate over a few square products, OpenBLAS using every core. Measured before and
// after the K-means run: on a shared machine the rate drifts, and the ratio uses their mean.
double sgemm_peak_gflops(int threads) {
  openblas_set_num_threads(threads);  // a benchmark process: BLAS's own threads, every core
  const int n = 4096;
  std::vector<float> a(size_t(n) * n), b(size_t(n) * n), c(size_t(n) * n);
  Rng rng(1);
  for (auto& v : a) v = static_cast<float>(rng.uniform());
  for (auto& v : b) v = static_cast<float>(rng.uniform());
  std::vector<double> rates;
  for (int rep = 0; rep < 5; ++rep) {
    const double t0 = now_s();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, n, 1.0f, a.data(), n, b.data(), n,
                0.0f, c.data(), n);
    rates.push_back(2.0 * n * n * double(n) / (now_s() - t0) / 1e9);
  }
  std::sort(rates.begin(), rates.end());
  return rates[rates.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int64_t n = 1000000, d = 128, k = 1000;
  int iters = 20, threads = omp_get_max_threads();
  std::string data, device = "cpu", memory, algorithm = "lloyd";
  CLI::App app{"K-means throughput on the CPU beside the BLAS sgemm peak, measured in the same run"};
  app.add_option("--n", n, "rows of random normal data (without --data)")->capture_default_str();
  app.add_option("--d", d, "dimensions (without --data)")->capture_default_str();
  app.add_option("--k", k, "clusters")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--iters", iters, "Lloyd iterations")->capture_default_str();
  app.add_option("--data", data, "input instead of random data, e.g. FILE.h5:/data");
  app.add_option("--memory", memory, "memory budget, e.g. 256M (streams larger inputs)");
  app.add_option("--threads", threads, "threads")->capture_default_str();
  app.add_option("--device", device, "auto, cpu, cuda or cuda:N")->capture_default_str();
  app.add_option("--algorithm", algorithm, "lloyd, elkan, hamerly, yinyang or auto")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  std::vector<float> x;
  std::unique_ptr<Source> src;
  if (!data.empty()) {
    src = open_source(data);
  } else {
    x.resize(size_t(n) * d);
    Rng rng(3);
    for (auto& v : x) v = static_cast<float>(rng.normal());
    src = memory_source(x.data(), n, d);
  }
  n = src->rows();
  d = src->cols();

  const double peak_before = sgemm_peak_gflops(threads);
  KMeansParams p;
  p.n_clusters = k;
  p.max_iter = iters;
  p.tol = 0;  // run every iteration
  p.init = InitMethod::Random;
  p.n_init = 1;
  p.algorithm = parse_kmeans_algorithm(algorithm);
  ExecutionContext ctx;
  ctx.threads = threads;
  ctx.device = parse_device(device);
  if (!memory.empty()) ctx.memory_budget = parse_bytes(memory);
  KMeansResult r;
  try {
    r = kmeans(*src, p, ctx);
  } catch (const Error& e) {
    std::fprintf(stderr, "bench_kmeans: %s\n", e.what());
    return 1;
  }
  const double peak_after = sgemm_peak_gflops(threads);
  const double peak = 0.5 * (peak_before + peak_after);
  double assign_s = 0;
  for (auto& [name, s] : r.timings)
    if (name == "assign") assign_s = s;
  const int passes = r.iterations + 1;  // Lloyd iterations plus the final assignment
  const double gflops = 2.0 * n * k * double(d) * passes / assign_s / 1e9;
  std::printf("kmeans n=%lld d=%lld k=%lld iterations=%d threads=%d device=%s streamed=%d\n",
              (long long)n, (long long)d, (long long)k, r.iterations, threads, r.device.c_str(),
              int(r.streamed));
  std::printf(
      "  assignment passes: %d in %.3f s = %.3f s/iteration, %.1f GFLOP/s (Lloyd's count)\n",
      passes, assign_s, assign_s / passes, gflops);
  std::printf("  sgemm peak (4096^3, %d threads, median of 5): %.1f GFLOP/s before, %.1f after\n",
              threads, peak_before, peak_after);
  std::printf("  ratio to sgemm peak: %.3f\n", gflops / peak);
  for (auto& [name, v] : r.notes)
    if (name == "algorithm" || name == "distances computed" || name == "cpu_kernel")
      std::printf("  %s: %s\n", name.c_str(), v.c_str());
  std::printf("  inertia %.8g, peak RSS %s\n", r.inertia, format_bytes(peak_rss_bytes()).c_str());
  return 0;
}
