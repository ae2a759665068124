// GPU K-means benchmarks (run on a machine with a CUDA device):
//   1. the FAISS wiki job: n = 1,000,000, d = 256, k = 20,000, 25 iterations, fp32 and tf32, with
//      the share of tf32 labels equal to fp32;
//   2. assignment throughput as a fraction of plain cuBLAS SGEMM on the same shapes, measured in
//      the same run;
//   3. the k-means++ initialisation on the same data, and k-means|| with oversampling factors 2
//      (the default) and 0.25, each as a share of the fp32 Lloyd iterations.
//   bench_cuda_kmeans [--n N] [--d D] [--k K] [--iters I]
// The streamed 20,000,000 x 128 case runs through the CLI on an HDF5 file: bench_cuda_stream.py.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "core/rng.h"
#include "embcluster/device.h"
#include "embcluster/kmeans.h"
#include "embcluster/memory.h"
#include "embcluster/source.h"

#if defined(EMBCLUSTER_HAVE_CUDA)
#include <cublas_v2.h>
#include <cuda_runtime.h>
#endif

using namespace embcluster;

namespace {

double timing(const KMeansResult& r, const std::string& name) {
  for (const auto& [n, s] : r.timings)
    if (n == name) return s;
  return 0;
}

std::string note(const KMeansResult& r, const std::string& name) {
  for (const auto& [n, v] : r.notes)
    if (n == name) return v;
  return "";
}

#if defined(EMBCLUSTER_HAVE_CUDA)
// Seconds per plain cuBLAS SGEMM of (k x d) x (d x n), the GEMM inside one assignment pass.
double sgemm_seconds(int64_t n, int64_t d, int64_t k) {
  const int64_t rows = std::min<int64_t>(n, 65536), kc = std::min<int64_t>(k, 8192);
  float *a, *b, *c;
  cudaMalloc(&a, sizeof(float) * kc * d);
  cudaMalloc(&b, sizeof(float) * rows * d);
  cudaMalloc(&c, sizeof(float) * rows * kc);
  cudaMemset(a, 0, sizeof(float) * kc * d);
  cudaMemset(b, 0, sizeof(float) * rows * d);
  cublasHandle_t h;
  cublasCreate(&h);
  const float alpha = 1, beta = 0;
  cudaEvent_t e0, e1;
  cudaEventCreate(&e0);
  cudaEventCreate(&e1);
  auto pass = [&] {
    for (int64_t r0 = 0; r0 < n; r0 += rows)
      for (int64_t j0 = 0; j0 < k; j0 += kc)
        cublasSgemm(h, CUBLAS_OP_T, CUBLAS_OP_N, int(std::min(kc, k - j0)), int(std::min(rows, n - r0)),
                    int(d), &alpha, a, int(d), b, int(d), &beta, c, int(kc));
  };
  pass();  // warm-up
  cudaEventRecord(e0);
  for (int i = 0; i < 5; ++i) pass();
  cudaEventRecord(e1);
  cudaEventSynchronize(e1);
  float ms = 0;
  cudaEventElapsedTime(&ms, e0, e1);
  cublasDestroy(h);
  cudaFree(a);
  cudaFree(b);
  cudaFree(c);
  return ms / 1000.0 / 5;
}
#endif

}  // namespace

int main(int argc, char** argv) {
  int64_t n = 1000000, d = 256, k = 20000;
  int iters = 25;
  CLI::App app{"GPU K-means: the FAISS wiki job in fp32/tf32/bf16 and assignment vs cuBLAS SGEMM"};
  app.add_option("--n", n, "rows")->capture_default_str();
  app.add_option("--d", d, "dimensions")->capture_default_str();
  app.add_option("--k", k, "clusters")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--iters", iters, "Lloyd iterations")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  const auto devices = cuda_devices();
  if (devices.empty()) {
    std::printf("no CUDA device: nothing to measure\n");
    return 0;
  }
  std::printf("device: %s, %s\n", devices[0].name.c_str(), format_bytes(devices[0].total_bytes).c_str());
  std::vector<float> x(static_cast<size_t>(n * d));
  Rng rng(1);
  for (auto& v : x) v = static_cast<float>(rng.normal());
  auto src = memory_source(x.data(), n, d);

  std::vector<int32_t> fp32_labels;
  double fp32_lloyd = 0;
  for (const char* prec : {"fp32", "tf32", "bf16"}) {
    KMeansParams p;
    p.n_clusters = k;
    p.max_iter = iters;
    p.tol = 0;
    p.init = InitMethod::Random;  // as FAISS
    p.precision = parse_precision(prec);
    ExecutionContext ctx;
    ctx.device = parse_device("cuda");
    const auto r = kmeans(*src, p, ctx);
    const double lloyd = timing(r, "assign") + timing(r, "update");
    size_t same = 0;
    if (fp32_labels.empty()) fp32_labels = r.labels, fp32_lloyd = lloyd;
    for (size_t i = 0; i < r.labels.size(); ++i) same += r.labels[i] == fp32_labels[i];
    std::printf("%s: %d iterations in %.3f s (Lloyd passes), total %.3f s, inertia %.8g, labels equal "
                "to fp32 %.4f%%, device memory %s, gpu gemm %.3f s argmin %.3f s update %.3f s "
                "transfer %.3f s\n",
                prec, r.iterations, lloyd, timing(r, "total"), r.inertia,
                100.0 * same / r.labels.size(), note(r, "device_memory_used").c_str(),
                timing(r, "gpu_gemm"), timing(r, "gpu_argmin"), timing(r, "gpu_update"),
                timing(r, "gpu_transfer"));
#if defined(EMBCLUSTER_HAVE_CUDA)
    if (std::string(prec) == "fp32") {
      const double per_pass = timing(r, "assign") / (r.iterations + 1);
      const double gemm = sgemm_seconds(n, d, k);
      std::printf("assignment pass %.4f s vs plain cuBLAS SGEMM %.4f s on the same shapes: %.1f%%\n",
                  per_pass, gemm, 100.0 * gemm / per_pass);
    }
#endif
  }
  // The initialisations against the fp32 Lloyd iterations above: greedy k-means++ on the sample
  // (the command's default; its rounds on the device), then k-means|| (a few large assignments,
  // then k-means++ rounds over the weighted candidates), with the inertia after one iteration.
  for (const double oversampling : {0.0, 2.0, 0.25}) {
    KMeansParams p;
    p.n_clusters = k;
    p.max_iter = 1;
    p.init = oversampling > 0 ? InitMethod::KMeansParallel : InitMethod::KMeansPlusPlus;
    if (oversampling > 0) p.oversampling_factor = oversampling;
    ExecutionContext ctx;
    ctx.device = parse_device("cuda");
    const auto r = kmeans(*src, p, ctx);
    const double init = timing(r, "init");
    char name[64];
    std::snprintf(name, sizeof name, oversampling > 0 ? "k-means|| (oversampling %g)" : "k-means++",
                  oversampling);
    std::printf(
        "%s initialisation: %.3f s = %.1f%% of the fp32 Lloyd iterations, inertia after "
        "one iteration %.8g (%s%s%s)\n",
        name, init, fp32_lloyd > 0 ? 100.0 * init / fp32_lloyd : 0.0, r.inertia,
        note(r, "init_sample").c_str(), oversampling > 0 ? "; " : "",
        note(r, "init_k_means_parallel").c_str());
  }
  return 0;
}
