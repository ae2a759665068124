#include "embcluster/prepare.h"

#include <omp.h>

#include <cmath>

#include "backend/kmeans_backend.h"
#include "core/feature_stats.h"
#include "embcluster/error.h"
#include "io/row_blocks.h"

namespace embcluster {
namespace {

class PreparedSource final : public Source {
 public:
  PreparedSource(std::unique_ptr<Source> inner, std::string mode, std::vector<float> shift,
                 std::vector<float> scale)
      : Source(inner->name() + " (" + mode + ")", inner->rows(), inner->cols(), inner->dtype(),
               false),
        inner_(std::move(inner)),
        mode_(std::move(mode)),
        shift_(std::move(shift)),
        scale_(std::move(scale)) {
    set_column_names(inner_->column_names());
    for (const auto& n : inner_->notes()) add_note(n);
  }

 protected:
  void read_rows(int64_t start, int64_t count, float* out) override {
    inner_->read(start, count, out);
    const int64_t d = cols();
    if (mode_ == "standard") {
      for (int64_t i = 0; i < count; ++i)
        for (int64_t j = 0; j < d; ++j) out[i * d + j] = (out[i * d + j] - shift_[j]) * scale_[j];
      return;
    }
    for (int64_t i = 0; i < count; ++i) {  // l2
      float* x = out + i * d;
      double s = 0;
      for (int64_t j = 0; j < d; ++j) s += static_cast<double>(x[j]) * x[j];
      if (s <= 0) continue;
      const float inv = static_cast<float>(1.0 / std::sqrt(s));
      for (int64_t j = 0; j < d; ++j) x[j] *= inv;
    }
  }

 private:
  std::unique_ptr<Source> inner_;
  std::string mode_;
  std::vector<float> shift_, scale_;
};

}  // namespace

std::unique_ptr<Source> prepare_source(std::unique_ptr<Source> inner, const std::string& mode,
                                       const ExecutionContext& ctx) {
  if (mode == "none" || mode.empty()) return inner;
  require(mode == "standard" || mode == "l2", "--scale '", mode,
          "' must be none, standard or l2");
  std::vector<float> shift, scale;
  if (mode == "standard") {
    check_context(ctx);
    const int t = context_threads(ctx);
    FeatureStats stats(inner->cols());
    RowBlocks blocks(*inner, context_memory_budget(ctx), kAssignGrain, int64_t(1) << 16);
    // Statistics only: a streamed pass even when the data would fit, nothing is kept.
    blocks.for_each([&](const Block& b) { stats.add(b, kAssignGrain, t); });
    stats.finish();
    const auto var = stats.variance();
    for (size_t j = 0; j < var.size(); ++j) {
      shift.push_back(static_cast<float>(stats.mean()[j]));
      const double sd = std::sqrt(var[j]);
      scale.push_back(sd > 0 ? static_cast<float>(1.0 / sd) : 1.0f);
    }
  }
  return std::make_unique<PreparedSource>(std::move(inner), mode, std::move(shift),
                                          std::move(scale));
}

}  // namespace embcluster
