// Words <-> enums, for the command line and the reports only.
#include "embcluster/enums.h"

#include <climits>
#include <cstdlib>

#include "embcluster/error.h"

namespace embcluster {

Metric parse_metric(const std::string& text) {
  if (text == "euclidean") return Metric::Euclidean;
  if (text == "cosine") return Metric::Cosine;
  throw_error("metric='", text, "' must be euclidean or cosine");
}

InitMethod parse_init(const std::string& text) {
  if (text == "k-means++") return InitMethod::KMeansPlusPlus;
  if (text == "random") return InitMethod::Random;
  return InitMethod::File;
}

DeviceChoice parse_device(const std::string& text) {
  if (text == "auto") return {DeviceKind::Auto, -1};
  if (text == "cpu") return {DeviceKind::Cpu, -1};
  if (text == "cuda") return {DeviceKind::Cuda, -1};
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
  if (text == "fp32") return Precision::Fp32;
  if (text == "tf32") return Precision::Tf32;
  if (text == "bf16") return Precision::Bf16;
  throw_error("precision='", text, "' must be fp32, tf32 or bf16");
}

DBSCANIndex parse_index(const std::string& text) {
  if (text == "exact") return DBSCANIndex::Exact;
  if (text == "flat") return DBSCANIndex::Flat;
  if (text == "ivf") return DBSCANIndex::Ivf;
  if (text == "hnsw") return DBSCANIndex::Hnsw;
  throw_error("index='", text, "' must be exact, flat, ivf or hnsw");
}

std::string to_string(Metric m) { return m == Metric::Cosine ? "cosine" : "euclidean"; }

std::string to_string(InitMethod m) {
  switch (m) {
    case InitMethod::KMeansPlusPlus:
      return "k-means++";
    case InitMethod::Random:
      return "random";
    case InitMethod::File:
      return "file";
  }
  EMBCLUSTER_UNREACHABLE("unknown InitMethod ", static_cast<int>(m));
}

std::string to_string(DeviceKind k) {
  switch (k) {
    case DeviceKind::Auto:
      return "auto";
    case DeviceKind::Cpu:
      return "cpu";
    case DeviceKind::Cuda:
      return "cuda";
  }
  EMBCLUSTER_UNREACHABLE("unknown DeviceKind ", static_cast<int>(k));
}

std::string to_string(const DeviceChoice& d) {
  if (d.kind == DeviceKind::Cuda && d.index >= 0) return "cuda:" + std::to_string(d.index);
  return to_string(d.kind);
}

std::string to_string(Precision p) {
  switch (p) {
    case Precision::Fp32:
      return "fp32";
    case Precision::Tf32:
      return "tf32";
    case Precision::Bf16:
      return "bf16";
  }
  EMBCLUSTER_UNREACHABLE("unknown Precision ", static_cast<int>(p));
}

std::string to_string(DBSCANIndex i) {
  switch (i) {
    case DBSCANIndex::Exact:
      return "exact";
    case DBSCANIndex::Flat:
      return "flat";
    case DBSCANIndex::Ivf:
      return "ivf";
    case DBSCANIndex::Hnsw:
      return "hnsw";
  }
  EMBCLUSTER_UNREACHABLE("unknown DBSCANIndex ", static_cast<int>(i));
}

}  // namespace embcluster
