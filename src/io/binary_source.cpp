// Fixed-layout binary formats: .npy (C order) and .fvecs/.bvecs/.ivecs.
#include <cstring>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "embcluster/error.h"
#include "io/readers.h"

namespace embcluster {

float half_to_float(uint16_t h) {
  const uint32_t sign = (h & 0x8000u) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      int e = -1;
      uint32_t m = mant;
      do {
        ++e;
        m <<= 1;
      } while ((m & 0x400u) == 0);
      bits = sign | (uint32_t(127 - 15 - e) << 23) | ((m & 0x3ffu) << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

namespace {

enum class Elem { f16, f32, f64, i8, u8, i16, u16, i32, u32, i64 };

size_t elem_size(Elem e) {
  switch (e) {
    case Elem::i8: case Elem::u8: return 1;
    case Elem::f16: case Elem::i16: case Elem::u16: return 2;
    case Elem::f32: case Elem::i32: case Elem::u32: return 4;
    default: return 8;
  }
}

template <typename T>
void widen(const char* src, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) {
    T v;
    std::memcpy(&v, src + i * sizeof(T), sizeof(T));
    out[i] = static_cast<float>(v);
  }
}

void convert(Elem e, const char* src, int64_t n, float* out) {
  switch (e) {
    case Elem::f16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        out[i] = half_to_float(h);
      }
      break;
    case Elem::f32: std::memcpy(out, src, size_t(n) * 4); break;
    case Elem::f64: widen<double>(src, n, out); break;
    case Elem::i8: widen<int8_t>(src, n, out); break;
    case Elem::u8: widen<uint8_t>(src, n, out); break;
    case Elem::i16: widen<int16_t>(src, n, out); break;
    case Elem::u16: widen<uint16_t>(src, n, out); break;
    case Elem::i32: widen<int32_t>(src, n, out); break;
    case Elem::u32: widen<uint32_t>(src, n, out); break;
    case Elem::i64: widen<int64_t>(src, n, out); break;
  }
}

const char* elem_name(Elem e) {
  static const char* names[] = {"float16", "float32", "float64", "int8", "uint8",
                                "int16", "uint16", "int32", "uint32", "int64"};
  return names[static_cast<int>(e)];
}

// Rows stored at a fixed stride from an offset, each row with a `skip`-byte prefix.
class StridedSource final : public Source {
 public:
  StridedSource(std::string name, std::string path, int64_t rows, int64_t cols, Elem e,
                int64_t offset, int64_t prefix, bool check)
      : Source(name, rows, cols, elem_name(e), check), path_(std::move(path)), elem_(e),
        offset_(offset), prefix_(prefix), in_(path_, std::ios::binary) {
    require(in_.good(), this->name(), ": cannot open");
  }

 protected:
  void read_rows(int64_t start, int64_t count, float* out) override {
    const int64_t row_bytes = prefix_ + cols() * static_cast<int64_t>(elem_size(elem_));
    const int64_t per_chunk = std::max<int64_t>(1, (int64_t(8) << 20) / row_bytes);
    buf_.resize(static_cast<size_t>(std::min(count, per_chunk) * row_bytes));
    for (int64_t r = 0; r < count; r += per_chunk) {
      const int64_t n = std::min(per_chunk, count - r);
      in_.clear();
      in_.seekg(offset_ + (start + r) * row_bytes);
      in_.read(buf_.data(), n * row_bytes);
      require(in_.gcount() == n * row_bytes, name(), ": read failed at row ", start + r,
              " (file truncated?)");
      for (int64_t i = 0; i < n; ++i) {
        const char* row = buf_.data() + i * row_bytes;
        if (prefix_ > 0) {
          int32_t dim;
          std::memcpy(&dim, row, 4);
          require(dim == cols(), name(), ": row ", start + r + i, " declares ", dim,
                  " dimensions; the first row has ", cols(), " (corrupt file?)");
        }
        convert(elem_, row + prefix_, cols(), out + (r + i) * cols());
      }
    }
  }

 private:
  std::string path_;
  Elem elem_;
  int64_t offset_, prefix_;
  std::ifstream in_;
  std::vector<char> buf_;
};

int64_t file_size(const std::string& file) {
  std::ifstream in(file, std::ios::binary | std::ios::ate);
  require(in.good(), file, ": cannot open");
  return static_cast<int64_t>(in.tellg());
}

}  // namespace

std::unique_ptr<Source> open_npy(const std::string& file, const SourceOptions& options) {
  std::ifstream in(file, std::ios::binary);
  require(in.good(), file, ": cannot open");
  char magic[8] = {};
  in.read(magic, 8);
  require(in.gcount() == 8 && std::memcmp(magic, "\x93NUMPY", 6) == 0, file,
          ": not a valid .npy file (bad magic)");
  const int major = static_cast<unsigned char>(magic[6]);
  require(major >= 1 && major <= 3, file, ": not a valid .npy file (version ", major, ")");
  uint32_t header_len = 0;
  unsigned char lenb[4] = {};
  in.read(reinterpret_cast<char*>(lenb), major == 1 ? 2 : 4);
  header_len = lenb[0] | (lenb[1] << 8) | (major == 1 ? 0 : (lenb[2] << 16) | (uint32_t(lenb[3]) << 24));
  std::string header(header_len, '\0');
  in.read(header.data(), header_len);
  require(in.gcount() == static_cast<std::streamsize>(header_len), file,
          ": not a valid .npy file (truncated header)");
  const int64_t data_offset = (major == 1 ? 10 : 12) + header_len;

  std::smatch m;
  require(std::regex_search(header, m, std::regex("'descr'\\s*:\\s*'([^']*)'")), file,
          ": not a valid .npy file (no descr)");
  const std::string descr = m[1];
  const std::vector<std::pair<std::string, Elem>> types = {
      {"<f2", Elem::f16}, {"<f4", Elem::f32}, {"<f8", Elem::f64}, {"|i1", Elem::i8},
      {"|u1", Elem::u8},  {"<i2", Elem::i16}, {"<u2", Elem::u16}, {"<i4", Elem::i32},
      {"<u4", Elem::u32}, {"<i8", Elem::i64}};
  Elem elem = Elem::f32;
  bool known = false;
  for (const auto& [name, e] : types)
    if (descr == name) elem = e, known = true;
  require(known, file, ": dtype '", descr, "' is not numeric or not supported");
  require(std::regex_search(header, m, std::regex("'fortran_order'\\s*:\\s*(True|False)")), file,
          ": not a valid .npy file (no fortran_order)");
  require(m[1] == "False", file, ": Fortran-ordered arrays are not supported (save in C order)");
  require(std::regex_search(header, m, std::regex("'shape'\\s*:\\s*\\(([^)]*)\\)")), file,
          ": not a valid .npy file (no shape)");
  std::vector<int64_t> shape;
  const std::string dims = m[1];
  const std::regex number("\\d+");
  for (std::sregex_iterator it(dims.begin(), dims.end(), number), end; it != end; ++it)
    shape.push_back(std::stoll(it->str()));
  require(shape.size() == 2 || (shape.size() == 1 && options.allow_1d), file, " is ",
          shape.size(), "-D; expected a 2-D array");
  const int64_t rows = shape[0], cols = shape.size() == 2 ? shape[1] : 1;
  require(rows > 0, file, " is empty (0 rows)");
  require(cols > 0, file, " has 0 columns");
  const int64_t need = rows * cols * static_cast<int64_t>(elem_size(elem));
  const int64_t have = file_size(file) - data_offset;
  require(have >= need, file, ": truncated: expected ", need, " bytes of data, found ", have);
  return std::make_unique<StridedSource>(file, file, rows, cols, elem, data_offset, 0,
                                         options.check_finite);
}

std::unique_ptr<Source> open_vecs(const std::string& file, const std::string& ext,
                                  const SourceOptions& options) {
  const Elem elem = ext == ".fvecs" ? Elem::f32 : ext == ".bvecs" ? Elem::u8 : Elem::i32;
  const int64_t size = file_size(file);
  require(size >= 4, file, " is empty");
  std::ifstream in(file, std::ios::binary);
  int32_t d = 0;
  in.read(reinterpret_cast<char*>(&d), 4);
  require(d > 0 && d < (1 << 24), file, ": first row declares ", d,
          " dimensions (corrupt file?)");
  const int64_t row_bytes = 4 + int64_t(d) * static_cast<int64_t>(elem_size(elem));
  require(size % row_bytes == 0, file, ": file size ", size, " is not a multiple of the row size ",
          row_bytes, " (truncated or corrupt)");
  return std::make_unique<StridedSource>(file, file, size / row_bytes, d, elem, 0, 4,
                                         options.check_finite);
}

}  // namespace embcluster
