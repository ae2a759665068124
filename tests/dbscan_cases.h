#pragma once
// DBSCAN test data shared by the CPU and GPU suites: scikit-learn's reference cases
// (tests/data/dbscan_ref.json, made by the script beside it) and blobs with uniform noise rows.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "embcluster/dbscan.h"
#include "embcluster/source.h"
#include "testutil.h"

namespace testutil {

struct RefCase {
  std::vector<float> x;
  int64_t n = 0, d = 0;
  double eps = 0;
  int64_t min_samples = 0;
  std::vector<int32_t> labels;  // scikit-learn's
  std::vector<uint8_t> core;    // scikit-learn's core samples
  nlohmann::json json;
};

inline RefCase load_case(const std::string& name, const std::string& file) {
  const std::string data = EMBCLUSTER_TEST_DATA;
  const auto ref = nlohmann::json::parse(read_text(data + "/dbscan_ref.json"))[name];
  RefCase c;
  auto src = embcluster::open_source(data + "/" + file);
  c.n = src->rows();
  c.d = src->cols();
  c.x = embcluster::read_all(*src);
  c.eps = ref["eps"];
  c.min_samples = ref["min_samples"];
  c.labels = ref["labels"].get<std::vector<int32_t>>();
  c.core.assign(static_cast<size_t>(c.n), 0);
  for (int64_t i : ref["core"].get<std::vector<int64_t>>()) c.core[i] = 1;
  c.json = ref;
  return c;
}

// The case's eps and min_samples with the metric.
inline embcluster::DBSCANParams params_for(const RefCase& c, const std::string& metric) {
  embcluster::DBSCANParams p;
  p.eps = c.eps;
  p.min_samples = c.min_samples;
  p.metric = embcluster::parse_metric(metric);
  return p;
}

// Blobs with uniform noise rows: clusters, border points and noise.
inline Blobs noisy_blobs(int64_t n, int64_t d, int k, uint64_t seed) {
  auto b = make_blobs(n, d, k, seed, 1.0f, 12.0f);
  for (int64_t i = 0; i < n; i += 17)  // every 17th row becomes uniform noise
    for (int64_t j = 0; j < d; ++j)
      b.x[i * d + j] = -14.0f + 28.0f * float((i * 7919 + j * 104729) % 1000) / 1000.0f;
  return b;
}

}  // namespace testutil
