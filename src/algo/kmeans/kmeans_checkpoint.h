#pragma once
// K-means checkpoints: the state of a run between two iterations, written atomically to
// DIR/kmeans.ckpt with the identity of the data and of the parameters, and read back on resume.
#include <string>
#include <utility>
#include <vector>

#include "algo/kmeans/lloyd.h"
#include "core/checkpoint_file.h"
#include "embcluster/kmeans.h"
#include "embcluster/source.h"

namespace embcluster {

// Everything a resumed run needs to give the uninterrupted run's figures bit for bit. No random
// generator state is stored: run r's initialisation draws from Rng(seed, r + 1) and the
// initialisation sample from Rng(seed, 0x5a3d1e), both rebuilt from the seed. The first pass over
// the data (feature variance, sample) is deterministic and redone on resume; its mean feature
// variance must equal the stored one (a change in any row, sampled for the identity or not,
// shows there).
struct KMeansState {
  int run = 0;       // the run in progress (n_init when every run is done)
  LloydState lloyd;  // that run's state (iteration 0: not started, no centres stored)
  std::vector<double> run_inertia;  // of the finished runs
  bool has_best = false;
  int best_run = 0;
  // The best finished run: centroids, inertia, iterations, converged, history, relocations. Its
  // labels and sizes are not stored: one pass over its centroids gives them again.
  KMeansRun best;
  double mean_var = 0;  // of the first pass
};

// What a checkpoint must match to be resumed: the source's name, shape, type and a hash of up to
// 64 of its rows (read through the source, so it covers the data's preparation), the caller's
// KMeansCheckpoint::identity entries, every parameter of the result (n_init resolved), and the
// backend ("cpu" or the GPU's name: they round differently).
CheckpointIdentity checkpoint_identity(Source& src, const KMeansParams& p, int n_init,
                                       const std::string& backend);

// dir/kmeans.ckpt.
std::string checkpoint_file(const std::string& dir);

// Creates dir if needed and removes temporaries left there by checkpoint writers that died.
void prepare_checkpoint_dir(const std::string& dir);

// Writes s atomically: an exclusively created temporary beside path, flushed to disk, renamed
// over path, the directory flushed. Throws Error naming path.
void save_checkpoint(const std::string& path, const CheckpointIdentity& id, const KMeansState& s);

// Reads path. Throws Error naming the file when it is missing, unreadable or corrupt, and, for
// one made for other data or parameters, naming what differs ("made for n_clusters=10, this run
// has n_clusters=12").
KMeansState load_checkpoint(const std::string& path, const CheckpointIdentity& id);

}  // namespace embcluster
