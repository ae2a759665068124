#include "testutil.h"

#include <hdf5.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <stdexcept>

#include "embcluster/error.h"

namespace testutil {

embcluster::ExecutionContext cpu_context(int threads) {
  embcluster::ExecutionContext ctx;
  ctx.device.kind = embcluster::DeviceKind::Cpu;
  ctx.threads = threads;
  return ctx;
}
namespace fs = std::filesystem;

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "embcluster-test-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}
TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

static hid_t open_or_create(const std::string& file) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  hid_t f = fs::exists(file) ? H5Fopen(file.c_str(), H5F_ACC_RDWR, H5P_DEFAULT)
                             : H5Fcreate(file.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (f < 0) throw std::runtime_error("cannot open " + file);
  return f;
}

static void write_h5(const std::string& file, const std::string& dataset, hid_t type,
                     const void* data, int rank, const hsize_t* dims) {
  hid_t f = open_or_create(file);
  hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(lcpl, 1);
  hid_t space = H5Screate_simple(rank, dims, nullptr);
  hid_t ds = H5Dcreate2(f, dataset.c_str(), type, space, lcpl, H5P_DEFAULT, H5P_DEFAULT);
  if (ds < 0) throw std::runtime_error("cannot create " + dataset);
  H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
  H5Dclose(ds);
  H5Sclose(space);
  H5Pclose(lcpl);
  H5Fclose(f);
}

void write_h5_f32(const std::string& file, const std::string& dataset, const std::vector<float>& v,
                  int64_t rows, int64_t cols) {
  hsize_t dims[2] = {hsize_t(rows), hsize_t(cols)};
  write_h5(file, dataset, H5T_NATIVE_FLOAT, v.data(), 2, dims);
}

void write_h5_i32(const std::string& file, const std::string& dataset,
                  const std::vector<int32_t>& v) {
  hsize_t dims[1] = {hsize_t(v.size())};
  write_h5(file, dataset, H5T_NATIVE_INT32, v.data(), 1, dims);
}

std::vector<double> read_h5(const std::string& file, const std::string& dataset) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) throw std::runtime_error("cannot open " + file);
  hid_t ds = H5Dopen2(f, dataset.c_str(), H5P_DEFAULT);
  if (ds < 0) {
    H5Fclose(f);
    throw std::runtime_error("no dataset " + dataset + " in " + file);
  }
  hid_t space = H5Dget_space(ds);
  hssize_t n = H5Sget_simple_extent_npoints(space);
  std::vector<double> out(static_cast<size_t>(n));
  H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data());
  H5Sclose(space);
  H5Dclose(ds);
  H5Fclose(f);
  return out;
}

Blobs make_blobs(int64_t n, int64_t d, int k, uint64_t seed, float spread, float box) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> uni(-box, box);
  std::normal_distribution<float> normal(0.0f, spread);
  std::vector<float> centres(static_cast<size_t>(k * d));
  for (auto& c : centres) c = uni(rng);
  Blobs b;
  b.n = n;
  b.d = d;
  b.x.resize(static_cast<size_t>(n * d));
  b.labels.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    int c = static_cast<int>(i % k);  // every cluster populated
    b.labels[i] = c;
    for (int64_t j = 0; j < d; ++j) b.x[i * d + j] = centres[c * d + j] + normal(rng);
  }
  return b;
}

double adjusted_rand_index(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
  if (a.size() != b.size()) throw std::runtime_error("ARI of labelings of different lengths");
  std::map<std::pair<int32_t, int32_t>, int64_t> joint;
  std::map<int32_t, int64_t> ca, cb;
  for (size_t i = 0; i < a.size(); ++i) {
    joint[{a[i], b[i]}]++;
    ca[a[i]]++;
    cb[b[i]]++;
  }
  auto c2 = [](int64_t v) { return 0.5 * double(v) * double(v - 1); };
  double sum_joint = 0, sum_a = 0, sum_b = 0;
  for (auto& [key, v] : joint) sum_joint += c2(v);
  for (auto& [key, v] : ca) sum_a += c2(v);
  for (auto& [key, v] : cb) sum_b += c2(v);
  double total = c2(static_cast<int64_t>(a.size()));
  double expected = sum_a * sum_b / total;
  double max_index = 0.5 * (sum_a + sum_b);
  if (max_index == expected) return 1.0;
  return (sum_joint - expected) / (max_index - expected);
}

int run_cli(const std::string& args, std::string* out) {
  std::string cmd = std::string(EMBCLUSTER_CLI) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) throw std::runtime_error("popen failed");
  std::string text;
  char buf[4096];
  size_t got;
  while ((got = fread(buf, 1, sizeof buf, p)) > 0) text.append(buf, got);
  int status = pclose(p);
  if (out) *out = text;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool file_exists(const std::string& path) { return fs::exists(path); }

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const embcluster::Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace testutil
