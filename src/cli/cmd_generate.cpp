// embcluster generate: Gaussian-blob embeddings for tests and throughput benchmarks.
#include <chrono>
#include <cstdio>

#include "cli/commands.h"
#include "cli/common.h"
#include "embcluster/generate.h"

namespace embcluster::cli {

namespace {
Runner add_generate(CLI::App& app) {
  auto p = std::make_shared<GenerateParams>();
  auto* cmd = app.add_subcommand(
      "generate",
      "Write Gaussian-blob embeddings (/data, /labels, /centers) to an HDF5 file, streamed");
  cmd->add_option("--n", p->n, "Rows")->required()->check(at_least(1));
  cmd->add_option("--d", p->d, "Dimensions")->required()->check(at_least(1));
  cmd->add_option("--k", p->k, "Blobs")->required()->check(at_least(1));
  cmd->add_option("--out", p->out, "Output HDF5 file")->required();
  cmd->add_option("--seed", p->seed, "Random seed")->capture_default_str();
  cmd->add_option("--cluster-std", p->cluster_std, "Spread of each blob")->capture_default_str();
  cmd->add_option("--center-box", p->center_box, "Blob centres in [-B, B]^d")->capture_default_str();
  cmd->add_flag("--force", p->force, "Overwrite an existing file");
  return [p] {
    ProgressLine line;
    const auto t0 = std::chrono::steady_clock::now();
    generate_blobs(*p, [&](int64_t done) {
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const double rate = done / std::max(1e-9, s);
      line.update("generate: " + std::to_string(done) + "/" + std::to_string(p->n) + " rows, " +
                      human_rate(rate) + ", ETA " + human_seconds((p->n - done) / rate),
                  done == p->n);
    });
    line.finish();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    summary("wrote %s: /data %lld x %lld float32, /labels, /centers (%lld blobs) in %s\n",
            p->out.c_str(), static_cast<long long>(p->n), static_cast<long long>(p->d),
            static_cast<long long>(p->k), human_seconds(s).c_str());
    return 0;
  };
}

const Registration registered(10, "generate", add_generate);
}  // namespace

}  // namespace embcluster::cli
