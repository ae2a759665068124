// K-means throughput on the CPU beside the BLAS sgemm peak of the same machine, measured in the
// same run. GFLOP/s counts 2 n k d per assignment pass (the Lloyd iterations and the final
// assignment). On a shared machine both rates drift by more than the differences that matter, so
// the fit and the sgemm take turns, --repeats times, and the ratio is given both ways: best
// against best, and the median of each turn's own ratio.
//
//   bench_kmeans [--n N] [--d D] [--k K] [--iters I] [--repeats R] [--data FILE.h5:/data]
//                [--memory BYTES] [--threads T] [--device cpu|cuda] [--algorithm A]
#include <CLI/CLI.hpp>
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
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

// The best sgemm rate of two 4096^3 products, OpenBLAS on `threads` threads. Then a pause:
// OpenBLAS's idle threads spin for a while after a call, and would take the cores from the fit
// that follows.
double sgemm_gflops(int threads, const std::vector<float>& a, const std::vector<float>& b,
                    std::vector<float>& c) {
  openblas_set_num_threads(threads);  // a benchmark process: BLAS's own threads, every core
  const int n = 4096;
  double best = 0;
  for (int rep = 0; rep < 2; ++rep) {
    const double t0 = now_s();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, n, 1.0f, a.data(), n, b.data(), n,
                0.0f, c.data(), n);
    best = std::max(best, 2.0 * n * n * double(n) / (now_s() - t0) / 1e9);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  return best;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

}  // namespace

int main(int argc, char** argv) {
  int64_t n = 1000000, d = 128, k = 1000;
  int iters = 20, repeats = 3, threads = omp_get_max_threads();
  std::string data, device = "cpu", memory, algorithm = "lloyd";
  CLI::App app{"K-means throughput on the CPU beside the BLAS sgemm peak, measured in the same run"};
  app.add_option("--n", n, "rows of random normal data (without --data)")->capture_default_str();
  app.add_option("--d", d, "dimensions (without --data)")->capture_default_str();
  app.add_option("--k", k, "clusters")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--iters", iters, "Lloyd iterations")->capture_default_str();
  app.add_option("--repeats", repeats, "turns of sgemm then K-means")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
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

  const int64_t sq = int64_t(4096) * 4096;
  std::vector<float> ga(static_cast<size_t>(sq)), gb(static_cast<size_t>(sq)),
      gc(static_cast<size_t>(sq));
  Rng grng(1);
  for (auto& v : ga) v = static_cast<float>(grng.uniform());
  for (auto& v : gb) v = static_cast<float>(grng.uniform());

  std::printf("kmeans n=%lld d=%lld k=%lld iterations=%d threads=%d device=%s\n", (long long)n,
              (long long)d, (long long)k, iters, threads, device.c_str());
  std::printf("  turn  sgemm 4096^3 GFLOP/s  assignment passes  s/pass  GFLOP/s  ratio\n");
  KMeansResult r;
  std::vector<double> sgemm, lloyd, ratio;
  for (int t = 0; t < repeats; ++t) {
    sgemm.push_back(sgemm_gflops(threads, ga, gb, gc));
    try {
      r = kmeans(*src, p, ctx);
    } catch (const Error& e) {
      std::fprintf(stderr, "bench_kmeans: %s\n", e.what());
      return 1;
    }
    double assign_s = 0;
    for (auto& [name, s] : r.timings)
      if (name == "assign") assign_s = s;
    const int passes = r.iterations + 1;  // Lloyd iterations plus the final assignment
    lloyd.push_back(2.0 * n * k * double(d) * passes / assign_s / 1e9);
    ratio.push_back(lloyd.back() / sgemm.back());
    std::printf("  %4d  %20.1f  %17d  %6.3f  %7.1f  %5.3f\n", t + 1, sgemm.back(), passes,
                assign_s / passes, lloyd.back(), ratio.back());
  }
  const double best_sgemm = *std::max_element(sgemm.begin(), sgemm.end());
  const double best_lloyd = *std::max_element(lloyd.begin(), lloyd.end());
  std::printf("  device %s, streamed=%d\n", r.device.c_str(), int(r.streamed));
  std::printf("  best K-means %.1f GFLOP/s / best sgemm %.1f GFLOP/s = %.3f\n", best_lloyd,
              best_sgemm, best_lloyd / best_sgemm);
  std::printf("  median of the turns' ratios: %.3f\n", median(ratio));
  for (auto& [name, v] : r.notes)
    if (name == "algorithm" || name == "distances computed" || name == "cpu_kernel")
      std::printf("  %s: %s\n", name.c_str(), v.c_str());
  std::printf("  inertia %.8g, peak RSS %s\n", r.inertia, format_bytes(peak_rss_bytes()).c_str());
  return 0;
}
