#pragma once
// Labels as the metrics see them: checked against the data, mapped to dense cluster ids in
// ascending label order (as scikit-learn's LabelEncoder), noise (-1) left out unless asked for.
#include <cstdint>
#include <string>
#include <vector>

namespace embcluster {

class Source;
struct MetricsParams;

struct DenseLabels {
  std::vector<int32_t> id;      // per row: dense cluster id in [0, k), -1 for rows left out
  std::vector<int64_t> values;  // per dense id: the label value, ascending
  std::vector<int64_t> sizes;   // per dense id: rows
  int64_t k = 0;
  int64_t rows_in = 0;     // rows that count (all rows but the noise left out)
  int64_t noise_rows = 0;  // rows labelled -1
  bool noise_included = false;
};

// Throws Error when labels and data differ in length, or the clusters are fewer than 2 or more
// than rows_in - 1 (scikit-learn's rule for silhouette, Davies-Bouldin and Calinski-Harabasz).
DenseLabels dense_labels(const std::vector<int32_t>& labels, int64_t data_rows,
                         const std::string& data_name, bool include_noise);

// The rows a sampled silhouette scores: p.sample_size of the rows that count, drawn uniformly with
// p.seed (as source row indices, ascending); empty when every row that counts is scored.
std::vector<int64_t> silhouette_sample_rows(const DenseLabels& L, const MetricsParams& p,
                                            int64_t rows);

// The mean of the values that are not NaN and, over more than one, its standard error and 95%
// normal interval (the sampled silhouette's); over one value the interval is the mean itself.
struct MeanInterval {
  double mean = 0, std_error = 0, low = 0, high = 0;
};
MeanInterval mean_interval(const std::vector<float>& values);

// Throws Error for a metric other than euclidean or cosine, a negative sample size (when
// with_sample), thread count or memory budget, or data without columns.
void check_metrics_params(const Source& data, const MetricsParams& p, bool with_sample);

// sums[c * d + j] += x[i * d + j] for the rows i of x (rows x d) with ids[i] = c >= 0. Each
// thread owns a range of features and adds the rows in order: the same sums for any threads.
void add_cluster_feature_sums(const float* x, int64_t rows, int64_t d, const int32_t* ids,
                              double* sums, int threads);

}  // namespace embcluster
