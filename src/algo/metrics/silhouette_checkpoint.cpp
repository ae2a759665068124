// The exact silhouette's checkpoint: the header holds the progress, the one array the per-row
// values (NaN where not scored yet or never).
#include "algo/metrics/silhouette_checkpoint.h"

#include <cmath>

#include "embcluster/error.h"

namespace embcluster {
namespace {

const char kMagic[] = "embcluster silhouette checkpoint 1\n";
const char kFile[] = "silhouette.ckpt";

}  // namespace

SilhouetteCheckpoint::SilhouetteCheckpoint(Source& src, const std::vector<int32_t>& labels,
                                           const MetricsParams& p) {
  const MetricsCheckpoint& c = p.checkpoint;
  if (c.dir.empty()) {
    require(!c.resume, "resume needs the checkpoint directory (checkpoint.dir)");
    return;
  }
  require(c.every >= 1, "checkpoint every=", c.every, " must be at least 1 block");
  require(p.sample_size <= 0, "checkpoint: the exact silhouette only (sample_size=", p.sample_size,
          " asks for a sample)");
  every_ = c.every;
  resume_ = c.resume;
  base_ = source_identity(src);
  base_.insert(base_.end(), c.identity.begin(), c.identity.end());
  const uint64_t h = fnv1a(labels.data(), labels.size() * sizeof(int32_t));
  base_.insert(base_.end(), {{"labels_hash", hex64(h)},
                             {"metric", to_string(p.metric)},
                             {"include_noise", p.include_noise ? "true" : "false"},
                             {"cosine_cluster_sums", p.cosine_cluster_sums ? "true" : "false"}});
  prepare_checkpoint_dir(c.dir, kFile);
  path_ = c.dir + "/" + kFile;
}

int64_t SilhouetteCheckpoint::begin(const std::string& device, const std::string& plan,
                                    std::vector<float>& samples) {
  if (!on()) return 0;
  id_ = base_;  // a second begin: the CPU after a GPU that failed
  id_.insert(id_.end(), {{"backend", device}, {"plan", plan}});
  resumed_rows_ = 0;
  if (!resume_) {  // a run killed before its first block resumes from the start
    write(0, samples);
    return 0;
  }
  const CheckpointFile f = read_checkpoint_file(path_, kMagic, "silhouette", id_);
  int64_t next = 0;
  try {
    next = f.header.at("next").get<int64_t>();
  } catch (const std::exception&) {
    throw_error("checkpoint ", path_, ": corrupt (incomplete header)");
  }
  CheckpointReader r(path_, f.body, f.arrays);
  std::vector<float> stored = r.get<float>();
  r.finish();
  require(next >= 0 && stored.size() == samples.size(), "checkpoint ", path_,
          ": corrupt (inconsistent state)");
  samples = std::move(stored);
  for (float v : samples) resumed_rows_ += !std::isnan(v);
  return next;
}

void SilhouetteCheckpoint::step(int64_t next, const std::vector<float>& samples, bool last) {
  if (!on() || (++since_ < every_ && !last)) return;
  since_ = 0;
  write(next, samples);
}

void SilhouetteCheckpoint::write(int64_t next, const std::vector<float>& samples) const {
  std::string out = checkpoint_begin(kMagic, id_, {{"next", next}});
  checkpoint_put(out, samples);
  write_checkpoint_file(path_, std::move(out));
}

}  // namespace embcluster
