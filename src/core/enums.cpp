// Words <-> enums, for the command line and the reports only.
#include "embcluster/enums.h"

#include <climits>
#include <cstdlib>

#include "embcluster/error.h"

namespace embcluster {
namespace {

// Each enum's words, written once for parsing and printing.
template <class E>
struct Word {
  E value;
  const char* word;
};
constexpr Word<Metric> kMetrics[] = {{Metric::Euclidean, "euclidean"}, {Metric::Cosine, "cosine"}};
constexpr Word<InitMethod> kInits[] = {{InitMethod::KMeansPlusPlus, "k-means++"},
                                       {InitMethod::KMeansParallel, "k-means||"},
                                       {InitMethod::Random, "random"},
                                       {InitMethod::File, "file"}};
constexpr Word<DeviceKind> kDeviceKinds[] = {
    {DeviceKind::Auto, "auto"}, {DeviceKind::Cpu, "cpu"}, {DeviceKind::Cuda, "cuda"}};
constexpr Word<Precision> kPrecisions[] = {
    {Precision::Fp32, "fp32"}, {Precision::Tf32, "tf32"}, {Precision::Bf16, "bf16"}};
constexpr Word<DBSCANIndex> kIndexes[] = {{DBSCANIndex::Exact, "exact"},
                                          {DBSCANIndex::Flat, "flat"},
                                          {DBSCANIndex::Ivf, "ivf"},
                                          {DBSCANIndex::Hnsw, "hnsw"}};
constexpr Word<KMeansAlgorithm> kAlgorithms[] = {{KMeansAlgorithm::Auto, "auto"},
                                                 {KMeansAlgorithm::Lloyd, "lloyd"},
                                                 {KMeansAlgorithm::Elkan, "elkan"},
                                                 {KMeansAlgorithm::Hamerly, "hamerly"},
                                                 {KMeansAlgorithm::Yinyang, "yinyang"}};

// The value whose word is text, if any.
template <class E, size_t N>
bool value_of(const Word<E> (&words)[N], const std::string& text, E* value) {
  for (const auto& w : words)
    if (text == w.word) return *value = w.value, true;
  return false;
}

template <class E, size_t N>
std::string word_of(const Word<E> (&words)[N], E value, const char* type) {
  for (const auto& w : words)
    if (w.value == value) return w.word;
  EMBCLUSTER_UNREACHABLE("unknown ", type, " ", static_cast<int>(value));
}

}  // namespace

Metric parse_metric(const std::string& text) {
  Metric m;
  if (value_of(kMetrics, text, &m)) return m;
  throw_error("metric='", text, "' must be euclidean or cosine");
}

InitMethod parse_init(const std::string& text) {
  InitMethod m;
  return value_of(kInits, text, &m) ? m : InitMethod::File;  // any other text is a data spec
}

DeviceChoice parse_device(const std::string& text) {
  DeviceKind kind;
  if (value_of(kDeviceKinds, text, &kind)) return {kind, -1};
  if (text.rfind("cuda:", 0) == 0) {
    const std::string num = text.substr(5);
    char* end = nullptr;
    const long v = std::strtol(num.c_str(), &end, 10);
    if (!num.empty() && *end == '\0' && v >= 0 && v <= INT_MAX)
      return {DeviceKind::Cuda, static_cast<int>(v)};
  }
  throw_error("--device '", text, "' must be auto, cpu, cuda or cuda:N");
}

Precision parse_precision(const std::string& text) {
  Precision p;
  if (value_of(kPrecisions, text, &p)) return p;
  throw_error("precision='", text, "' must be fp32, tf32 or bf16");
}

DBSCANIndex parse_index(const std::string& text) {
  DBSCANIndex i;
  if (value_of(kIndexes, text, &i)) return i;
  throw_error("index='", text, "' must be exact, flat, ivf or hnsw");
}

KMeansAlgorithm parse_kmeans_algorithm(const std::string& text) {
  KMeansAlgorithm a;
  if (value_of(kAlgorithms, text, &a)) return a;
  throw_error("algorithm='", text, "' must be auto, lloyd, elkan, hamerly or yinyang");
}

std::string to_string(Metric m) { return word_of(kMetrics, m, "Metric"); }
std::string to_string(InitMethod m) { return word_of(kInits, m, "InitMethod"); }
std::string to_string(DeviceKind k) { return word_of(kDeviceKinds, k, "DeviceKind"); }
std::string to_string(Precision p) { return word_of(kPrecisions, p, "Precision"); }
std::string to_string(DBSCANIndex i) { return word_of(kIndexes, i, "DBSCANIndex"); }
std::string to_string(KMeansAlgorithm a) { return word_of(kAlgorithms, a, "KMeansAlgorithm"); }

std::string to_string(const DeviceChoice& d) {
  if (d.kind == DeviceKind::Cuda && d.index >= 0) return "cuda:" + std::to_string(d.index);
  return to_string(d.kind);
}

}  // namespace embcluster
