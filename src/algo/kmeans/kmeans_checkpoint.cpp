// The K-means checkpoint: its header fields and arrays in the shared file format
// (core/checkpoint_file.h).
#include "algo/kmeans/kmeans_checkpoint.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/checkpoint_file.h"
#include "embcluster/error.h"

namespace embcluster {
namespace {

const char kMagic[] = "embcluster kmeans checkpoint 1\n";

std::string exact(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::vector<double> flatten(const std::vector<KMeansIteration>& h) {
  std::vector<double> v;
  for (const auto& i : h) v.insert(v.end(), {i.inertia, i.centre_shift});
  return v;
}

std::vector<KMeansIteration> unflatten(const std::vector<double>& v) {
  std::vector<KMeansIteration> h;
  for (size_t i = 0; i + 1 < v.size(); i += 2) h.push_back({v[i], v[i + 1]});
  return h;
}

std::string encode(const CheckpointIdentity& id, const KMeansState& s) {
  nlohmann::json h;
  h["run"] = s.run;
  h["iteration"] = s.lloyd.iteration;
  h["relocations"] = s.lloyd.relocations;
  h["has_best"] = s.has_best;
  h["best_run"] = s.best_run;
  h["best_iterations"] = s.best.iterations;
  h["best_converged"] = s.best.converged;
  h["best_relocations"] = s.best.relocations;
  std::string out = checkpoint_begin(kMagic, id, h);
  checkpoint_put(out, std::vector<double>{s.mean_var, s.best.inertia});
  checkpoint_put(out, s.run_inertia);
  checkpoint_put(out, s.lloyd.centres);
  checkpoint_put(out, s.lloyd.prev_centres);
  checkpoint_put(out, flatten(s.lloyd.history));
  checkpoint_put(out, s.best.centroids);
  checkpoint_put(out, flatten(s.best.history));
  return out;
}

// "none", or the weights' count and hash (their exact bytes).
std::string weights_identity(const std::vector<double>& w) {
  if (w.empty()) return "none";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%zu weights, fnv1a %016llx", w.size(),
                static_cast<unsigned long long>(fnv1a(w.data(), w.size() * sizeof(double))));
  return buf;
}

}  // namespace

CheckpointIdentity checkpoint_identity(Source& src, const KMeansParams& p, int n_init,
                                       const std::string& backend) {
  CheckpointIdentity id = source_identity(src);
  for (const auto& e : p.checkpoint.identity) id.push_back(e);
  const std::vector<std::pair<std::string, std::string>> params = {
      {"n_clusters", std::to_string(p.n_clusters)},
      {"init", to_string(p.init)},
      {"init_file", p.init == InitMethod::File ? p.init_file : ""},
      {"n_init", std::to_string(n_init)},
      {"max_iter", std::to_string(p.max_iter)},
      {"tol", exact(p.tol)},
      {"seed", std::to_string(p.seed)},
      {"init_sample", std::to_string(p.init_sample)},
      {"precision", to_string(p.precision)},
      {"metric", to_string(p.metric)},
      {"sample_weight", weights_identity(p.sample_weight)},
      {"backend", backend}};
  id.insert(id.end(), params.begin(), params.end());
  if (p.init == InitMethod::KMeansParallel) {
    id.emplace_back("oversampling_factor", exact(p.oversampling_factor));
    id.emplace_back("init_rounds", std::to_string(p.init_rounds));
  }
  return id;
}

std::string checkpoint_file(const std::string& dir) { return dir + "/kmeans.ckpt"; }

void prepare_checkpoint_dir(const std::string& dir) { prepare_checkpoint_dir(dir, "kmeans.ckpt"); }

void save_checkpoint(const std::string& path, const CheckpointIdentity& id, const KMeansState& s) {
  write_checkpoint_file(path, encode(id, s));
}

KMeansState load_checkpoint(const std::string& path, const CheckpointIdentity& id) {
  const CheckpointFile f = read_checkpoint_file(path, kMagic, "K-means", id);
  const nlohmann::json& h = f.header;
  KMeansState st;
  try {
    st.run = h.at("run");
    st.lloyd.iteration = h.at("iteration");
    st.lloyd.relocations = h.at("relocations");
    st.has_best = h.at("has_best");
    st.best_run = h.at("best_run");
    st.best.iterations = h.at("best_iterations");
    st.best.converged = h.at("best_converged");
    st.best.relocations = h.at("best_relocations");
  } catch (const std::exception&) {
    throw_error("checkpoint ", path, ": corrupt (incomplete header)");
  }
  CheckpointReader r(path, f.body, f.arrays);
  const std::vector<double> scalars = r.get<double>();
  require(scalars.size() == 2, "checkpoint ", path, ": corrupt (scalars)");
  st.mean_var = scalars[0];
  st.best.inertia = scalars[1];
  st.run_inertia = r.get<double>();
  st.lloyd.centres = r.get<float>();
  st.lloyd.prev_centres = r.get<float>();
  st.lloyd.history = unflatten(r.get<double>());
  st.best.centroids = r.get<float>();
  st.best.history = unflatten(r.get<double>());
  r.finish();
  return st;
}

}  // namespace embcluster
