#pragma once
// The exact silhouette's checkpoint (MetricsParams::checkpoint): the per-row values scored so far
// and how far the scoring got, in DIR/silhouette.ckpt, in the shared file format
// (core/checkpoint_file.h).
#include <cstdint>
#include <string>
#include <vector>

#include "core/checkpoint_file.h"
#include "embcluster/metrics.h"

namespace embcluster {

class SilhouetteCheckpoint {
 public:
  // Off (every call a no-op) when p.checkpoint.dir is empty. Otherwise checks the parameters,
  // prepares the directory and takes the identity of the data and labels.
  SilhouetteCheckpoint(Source& src, const std::vector<int32_t>& labels, const MetricsParams& p);
  bool on() const { return !path_.empty(); }
  std::string path() const { return path_; }

  // Called once, before any pass over the data, by the loop that scores the rows: `device` is
  // "cpu" or the GPU's name, `plan` how the loop cuts and orders its rows (the unit of its
  // progress: resumed only by the same plan). Not resuming, writes the empty state. Returns the
  // progress to continue from (0 when not resuming) and, when resuming, sets samples to the values
  // stored.
  int64_t begin(const std::string& device, const std::string& plan, std::vector<float>& samples);

  // After a block: `next` is the progress reached, samples hold every row scored so far. Writes
  // every `every` calls, and when last.
  void step(int64_t next, const std::vector<float>& samples, bool last);

  // Rows with a value when the run resumed.
  int64_t resumed_rows() const { return resumed_rows_; }

 private:
  void write(int64_t next, const std::vector<float>& samples) const;

  std::string path_;
  CheckpointIdentity base_;  // of the data, labels and parameters
  CheckpointIdentity id_;    // base_ and the device and plan of begin()
  int every_ = 1;
  bool resume_ = false;
  int since_ = 0;
  int64_t resumed_rows_ = 0;
};

}  // namespace embcluster
