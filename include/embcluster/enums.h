#pragma once
// The choices the library's parameters take, as enums. Text exists only at the edges (the command
// line, report.json): parse_* turns the user's words into a value (an unknown word throws Error
// naming the parameter), to_string gives the words back.
#include <string>

namespace embcluster {

// How distances are measured. Cosine: rows are L2-normalised as they are read and
// 1 - cos(a, b) = ||a - b||^2 / 2 is used.
enum class Metric { Euclidean, Cosine };

// K-means initial centres: greedy k-means++ (as scikit-learn), scalable k-means++ (k-means||,
// Bahmani et al. 2012: a few rounds that each draw many candidates at once, then greedy
// k-means++ over the weighted candidates), random distinct rows, or the centres held in a data
// file (KMeansParams::init_file).
enum class InitMethod { KMeansPlusPlus, KMeansParallel, Random, File };

// Where a run goes: Auto (a CUDA device when one is present, else the CPU), the CPU, a CUDA device.
enum class DeviceKind { Auto, Cpu, Cuda };

// A device as the user names it: "auto", "cpu", "cuda" (device 0) or "cuda:N".
struct DeviceChoice {
  DeviceKind kind = DeviceKind::Auto;
  // Cuda only: the device number; -1 means "cuda" without a number (device 0).
  int index = -1;
  // The CUDA device to use for kind Cuda: index, or 0 when none was given.
  int cuda_device() const { return index >= 0 ? index : 0; }
};

// GEMM precision on the GPU (the CPU always computes in fp32).
enum class Precision { Fp32, Tf32, Bf16 };

// How K-means finds each row's nearest centre (KMeansParams::algorithm). Lloyd measures every
// row against every centre each pass; the others keep lower bounds on each row's distances to
// groups of centres and measure only what the bounds leave open: Hamerly one group, Elkan a group
// per centre, Yinyang k/10 groups of nearby centres (Ding et al., ICML 2015). All give Lloyd's
// labels. Auto: a bound per centre up to 64 centres, else Yinyang's groups, at most d / 8 and as
// the memory budget allows (Lloyd for k = 1).
enum class KMeansAlgorithm { Auto, Lloyd, Elkan, Hamerly, Yinyang };

// Where DBSCAN's neighbourhoods come from (see DBSCANParams::index).
enum class DBSCANIndex { Exact, Flat, Ivf, Hnsw };

// "euclidean" | "cosine"; anything else throws Error "metric='x' must be euclidean or cosine".
Metric parse_metric(const std::string& text);
// "k-means++" | "k-means||" | "random"; any other text is a data spec: InitMethod::File (never
// throws).
InitMethod parse_init(const std::string& text);
// "auto" | "cpu" | "cuda" | "cuda:N"; anything else throws Error naming --device.
DeviceChoice parse_device(const std::string& text);
// "fp32" | "tf32" | "bf16"; anything else throws Error naming precision.
Precision parse_precision(const std::string& text);
// "exact" | "flat" | "ivf" | "hnsw"; anything else throws Error naming index.
DBSCANIndex parse_index(const std::string& text);
// "auto" | "lloyd" | "elkan" | "hamerly" | "yinyang"; anything else throws Error naming algorithm.
KMeansAlgorithm parse_kmeans_algorithm(const std::string& text);

std::string to_string(Metric m);
std::string to_string(InitMethod m);           // "k-means++", "k-means||", "random", "file"
std::string to_string(DeviceKind k);           // "auto", "cpu", "cuda"
std::string to_string(const DeviceChoice& d);  // "auto", "cpu", "cuda", "cuda:N"
std::string to_string(Precision p);
std::string to_string(DBSCANIndex i);
std::string to_string(KMeansAlgorithm a);

}  // namespace embcluster
