#include "io/nonzero_rows.h"

#include "embcluster/error.h"

namespace embcluster {
namespace {

class NonzeroRows final : public Source {
 public:
  explicit NonzeroRows(Source& inner)
      : Source(inner.name(), inner.rows(), inner.cols(), inner.dtype(), false), inner_(inner) {
    set_column_names(inner.column_names());
    for (const auto& n : inner.notes()) add_note(n);
  }

 protected:
  void read_rows(int64_t start, int64_t count, float* out) override {
    inner_.read(start, count, out);
    const int64_t d = cols();
    for (int64_t i = 0; i < count; ++i) {
      const float* x = out + i * d;
      bool zero = true;
      for (int64_t j = 0; j < d && zero; ++j) zero = x[j] == 0.0f;
      require(!zero, name(), ": row ", start + i,
              " is all zeros: the cosine metric has no direction for it "
              "(scikit-learn puts it at "
              "distance 1 from every row); remove such rows or use --metric euclidean");
    }
  }

 private:
  Source& inner_;
};

}  // namespace

std::unique_ptr<Source> nonzero_rows(Source& inner) { return std::make_unique<NonzeroRows>(inner); }

}  // namespace embcluster
