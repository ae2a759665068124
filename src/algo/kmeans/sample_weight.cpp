#include "algo/kmeans/sample_weight.h"

#include <cmath>
#include <string>

#include "embcluster/error.h"
#include "embcluster/kmeans.h"
#include "io/row_values.h"

namespace embcluster {

void validate_weights(const std::vector<double>& w, int64_t n, int64_t k) {
  if (w.empty()) return;
  require(static_cast<int64_t>(w.size()) == n, "sample_weight: ", w.size(), " weights for ", n,
          " rows");
  int64_t positive = 0;
  for (int64_t i = 0; i < n; ++i) {
    require(std::isfinite(w[i]) && w[i] >= 0, "sample_weight: row ", i, ": ", w[i],
            " is not a finite weight >= 0");
    positive += w[i] > 0;
  }
  require(positive >= k, "sample_weight: only ", positive,
          " rows have a weight > 0, fewer than n_clusters=", k);
}

std::vector<double> read_sample_weight(const std::string& spec, int64_t expected_rows) {
  auto src = open_row_values(spec, "weights", expected_rows);
  std::vector<double> w(static_cast<size_t>(src->rows()));
  for_each_value_chunk(*src, [&](int64_t s, const double* v, int64_t m) {
    for (int64_t i = 0; i < m; ++i) {
      require(std::isfinite(v[i]) && v[i] >= 0, "weights ", src->name(), ": row ", s + i, " holds ",
              v[i], ", not a finite weight >= 0");
      w[s + i] = v[i];
    }
  });
  return w;
}

}  // namespace embcluster
