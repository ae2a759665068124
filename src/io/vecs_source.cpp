// .fvecs / .bvecs / .ivecs (the TEXMEX/ANN-benchmark layout): every row is an int32 dimension
// followed by that many float32, uint8 or int32 values.
#include <algorithm>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "embcluster/error.h"
#include "io/readers.h"

namespace embcluster {
namespace {

enum class VecsElem { f32, u8, i32 };

int64_t elem_size(VecsElem e) { return e == VecsElem::u8 ? 1 : 4; }

const char* elem_name(VecsElem e) {
  return e == VecsElem::f32 ? "float32" : e == VecsElem::u8 ? "uint8" : "int32";
}

class VecsSource final : public Source {
 public:
  VecsSource(const std::string& file, int64_t rows, int64_t cols, VecsElem elem, bool check)
      : Source(file, rows, cols, elem_name(elem), check), file_(file), elem_(elem) {}

 protected:
  void read_rows(int64_t start, int64_t count, float* out) override { read_as(start, count, out); }
  // .ivecs holds int32: exact as double, not always as float.
  void read_rows_f64(int64_t start, int64_t count, double* out) override {
    read_as(start, count, out);
  }

 private:
  template <typename Out>
  void read_as(int64_t start, int64_t count, Out* out) {
    const int64_t row_bytes = 4 + cols() * elem_size(elem_);
    const int64_t per_chunk = std::max<int64_t>(1, (int64_t(4) << 20) / row_bytes);
    buf_.resize(static_cast<size_t>(std::min(count, per_chunk) * row_bytes));
    for (int64_t r = 0; r < count; r += per_chunk) {
      const int64_t n = std::min(per_chunk, count - r);
      const int64_t got = file_.read_at((start + r) * row_bytes, buf_.data(), n * row_bytes);
      require(got == n * row_bytes, name(), ": read failed at rows ", start + r, "..",
              start + r + n - 1, " (file truncated?)");
      for (int64_t i = 0; i < n; ++i) {
        const char* row = buf_.data() + i * row_bytes;
        int32_t dim;
        std::memcpy(&dim, row, 4);
        // A wrong dimension means the rows are misaligned from here on: the file is corrupt.
        require(dim == cols(), name(), ": row ", start + r + i, " declares ", dim,
                " dimensions; the first row has ", cols(), " (corrupt file?)");
        convert(row + 4, out + (r + i) * cols());
      }
    }
  }

  template <typename Out>
  void convert(const char* src, Out* dst) const {
    const int64_t n = cols();
    if (elem_ == VecsElem::f32 && std::is_same_v<Out, float>) {
      std::memcpy(dst, src, size_t(n) * 4);
    } else if (elem_ == VecsElem::f32) {
      for (int64_t j = 0; j < n; ++j) {
        float v;
        std::memcpy(&v, src + 4 * j, 4);
        dst[j] = v;
      }
    } else if (elem_ == VecsElem::u8) {
      for (int64_t j = 0; j < n; ++j) dst[j] = static_cast<unsigned char>(src[j]);
    } else {
      for (int64_t j = 0; j < n; ++j) {
        int32_t v;
        std::memcpy(&v, src + 4 * j, 4);
        dst[j] = static_cast<Out>(v);
      }
    }
  }

  PositionalFile file_;
  VecsElem elem_;
  std::vector<char> buf_;
};

}  // namespace

std::unique_ptr<Source> open_vecs(const std::string& file, const std::string& ext,
                                  const SourceOptions& options) {
  const VecsElem elem = ext == ".fvecs"   ? VecsElem::f32
                        : ext == ".bvecs" ? VecsElem::u8
                                          : VecsElem::i32;
  PositionalFile in(file);
  const int64_t size = in.size();
  require(size > 0, file, " is empty");
  int32_t d = 0;
  require(in.read_at(0, &d, 4) == 4, file, ": truncated (", size,
          " bytes; a row starts with a "
          "4-byte dimension)");
  require(d > 0, file, ": the first row declares ", d, " dimensions (corrupt file?)");
  const int64_t row_bytes = 4 + int64_t(d) * elem_size(elem);
  require(size % row_bytes == 0, file, ": file size is not a multiple of the row size (", size,
          " bytes, rows of ", row_bytes, " bytes for d = ", d, "; truncated or corrupt)");
  return std::make_unique<VecsSource>(file, size / row_bytes, d, elem, options.check_finite);
}

}  // namespace embcluster
