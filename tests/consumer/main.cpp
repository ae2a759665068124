// Clusters eight rows held in memory into two groups through the installed library and checks
// the labels and centres. Exit code 0 when they are right.
#include <embcluster/error.h>
#include <embcluster/kmeans.h>
#include <embcluster/source.h>

#include <cmath>
#include <cstdio>
#include <vector>

int main() {
  const std::vector<float> rows = {0.0f, 0.0f, 0.1f,  0.0f, 0.0f, 0.1f,  0.1f,  0.1f,
                                   10.f, 10.f, 10.1f, 10.f, 10.f, 10.1f, 10.1f, 10.1f};
  try {
    auto source = embcluster::memory_source(rows.data(), 8, 2);
    embcluster::KMeansParams params;
    params.n_clusters = 2;
    params.seed = 1;
    const embcluster::KMeansResult r = embcluster::kmeans(*source, params);
    bool ok = r.labels.size() == 8 && r.centroids.size() == 4 && r.labels[0] != r.labels[4];
    for (int i = 0; ok && i < 8; ++i) ok = r.labels[i] == r.labels[i < 4 ? 0 : 4];
    for (int i = 0; ok && i < 2; ++i) {
      const float want = r.labels[0] == i ? 0.05f : 10.05f;
      ok = std::fabs(r.centroids[2 * i] - want) < 1e-4f &&
           std::fabs(r.centroids[2 * i + 1] - want) < 1e-4f;
    }
    std::printf("consumer: %s on %s, inertia %g\n", ok ? "ok" : "WRONG", r.device.c_str(),
                r.inertia);
    return ok ? 0 : 1;
  } catch (const embcluster::Error& e) {
    std::fprintf(stderr, "consumer: %s\n", e.what());
    return 1;
  }
}
