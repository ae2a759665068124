// NumPy .npy files (versions 1.0 to 3.0, C order), read at row offsets in bounded chunks.
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "embcluster/error.h"
#include "io/readers.h"

namespace embcluster {

float half_to_float(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0 && mant == 0) {
    bits = sign;  // signed zero
  } else if (exp == 0) {
    // Subnormal half: shift the mantissa up until its leading one is the implicit bit.
    int e = 127 - 15 + 1;
    while ((mant & 0x400u) == 0) {
      mant <<= 1;
      --e;
    }
    bits = sign | (uint32_t(e) << 23) | ((mant & 0x3ffu) << 13);
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);  // Inf, or NaN keeping its payload
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

namespace {

// Converts n little-endian elements of one dtype to floats or doubles.
template <typename Out>
using Convert = void (*)(const char* src, int64_t n, Out* out);

template <typename T, typename Out>
void widen(const char* src, int64_t n, Out* out) {
  for (int64_t i = 0; i < n; ++i) {
    T v;
    std::memcpy(&v, src + i * int64_t(sizeof(T)), sizeof(T));
    out[i] = static_cast<Out>(v);
  }
}

template <typename Out>
void widen_halves(const char* src, int64_t n, Out* out) {
  for (int64_t i = 0; i < n; ++i) {
    uint16_t h;
    std::memcpy(&h, src + 2 * i, 2);
    out[i] = half_to_float(h);
  }
}

struct ElemInfo {
  const char* descr;  // as numpy writes it
  const char* name;
  int64_t size;
  Convert<float> convert;  // nullptr for float32: read straight into the output
  Convert<double> convert_f64;
};

template <typename T>
constexpr ElemInfo elem(const char* descr, const char* name) {
  return {descr, name, sizeof(T), widen<T, float>, widen<T, double>};
}

constexpr ElemInfo kElems[] = {{"<f2", "float16", 2, widen_halves<float>, widen_halves<double>},
                               {"<f4", "float32", 4, nullptr, widen<float, double>},
                               elem<double>("<f8", "float64"),
                               elem<int8_t>("|i1", "int8"),
                               elem<uint8_t>("|u1", "uint8"),
                               elem<int16_t>("<i2", "int16"),
                               elem<uint16_t>("<u2", "uint16"),
                               elem<int32_t>("<i4", "int32"),
                               elem<uint32_t>("<u4", "uint32"),
                               elem<int64_t>("<i8", "int64")};

class NpySource final : public Source {
 public:
  NpySource(const std::string& file, int64_t rows, int64_t cols, const ElemInfo& elem,
            int64_t data_offset, bool check)
      : Source(file, rows, cols, elem.name, check),
        file_(file),
        elem_(elem),
        data_offset_(data_offset) {}

 protected:
  void read_rows(int64_t start, int64_t count, float* out) override {
    read_as(start, count, out, elem_.convert);
  }
  void read_rows_f64(int64_t start, int64_t count, double* out) override {
    read_as(start, count, out, elem_.convert_f64);
  }

 private:
  // Rows through a buffer of at most ~4 MiB (memory stays bounded for any block), converted to Out;
  // a null convert means the stored layout is already Out's.
  template <typename Out>
  void read_as(int64_t start, int64_t count, Out* out, Convert<Out> convert) {
    const int64_t row_bytes = cols() * elem_.size;
    const int64_t per_chunk = std::max<int64_t>(1, (int64_t(4) << 20) / row_bytes);
    for (int64_t r = 0; r < count; r += per_chunk) {
      const int64_t n = std::min(per_chunk, count - r);
      const int64_t bytes = n * row_bytes;
      const int64_t offset = data_offset_ + (start + r) * row_bytes;
      Out* dst = out + r * cols();
      int64_t got;
      if (convert == nullptr) {
        got = file_.read_at(offset, dst, bytes);
      } else {
        buf_.resize(static_cast<size_t>(bytes));
        got = file_.read_at(offset, buf_.data(), bytes);
        if (got == bytes) convert(buf_.data(), n * cols(), dst);
      }
      require(got == bytes, name(), ": read failed at rows ", start + r, "..", start + r + n - 1,
              " (file truncated?)");
    }
  }

  PositionalFile file_;
  ElemInfo elem_;
  int64_t data_offset_;
  std::vector<char> buf_;
};

// Finds `'key':` in the header dict and returns the position just after the colon.
size_t find_key(const std::string& header, const std::string& key) {
  for (const char q : {'\'', '"'}) {
    const std::string quoted = std::string(1, q) + key + q;
    size_t pos = header.find(quoted);
    if (pos == std::string::npos) continue;
    pos = header.find_first_not_of(" ", pos + quoted.size());
    if (pos != std::string::npos && header[pos] == ':') return pos + 1;
  }
  return std::string::npos;
}

size_t skip_spaces(const std::string& s, size_t pos) {
  pos = s.find_first_not_of(" ", pos);
  return pos == std::string::npos ? s.size() : pos;
}

[[noreturn]] void invalid(const std::string& file, const std::string& why) {
  throw_error(file, ": not a valid .npy file (", why, ")");
}

// Reads the magic, version and header length, then the header dict itself; *data_offset becomes
// the byte offset of the array data.
std::string read_header(const PositionalFile& in, const std::string& file, int64_t* data_offset) {
  unsigned char pre[12] = {};
  const int64_t got = in.read_at(0, pre, 12);
  if (got < 10 || std::memcmp(pre, "\x93NUMPY", 6) != 0) invalid(file, "bad magic");
  const int major = pre[6];
  if (major < 1 || major > 3) invalid(file, "unknown version " + std::to_string(major));
  const int prefix = major == 1 ? 10 : 12;
  if (got < prefix) invalid(file, "truncated header");
  uint32_t header_len = pre[8] | (uint32_t(pre[9]) << 8);
  if (major > 1) header_len |= (uint32_t(pre[10]) << 16) | (uint32_t(pre[11]) << 24);
  if (header_len > (64u << 20)) invalid(file, "header length " + std::to_string(header_len));
  std::string header(header_len, '\0');
  if (in.read_at(prefix, header.data(), header_len) != header_len)
    invalid(file, "truncated header");
  *data_offset = prefix + int64_t(header_len);
  return header;
}

// The header is a Python dict literal, e.g.
//   {'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }
// The element type named by 'descr'.
const ElemInfo& parse_descr(const std::string& file, const std::string& header) {
  size_t pos = find_key(header, "descr");
  if (pos == std::string::npos) invalid(file, "no 'descr'");
  pos = skip_spaces(header, pos);
  const char quote = pos < header.size() ? header[pos] : '\0';
  const size_t end =
      quote == '\'' || quote == '"' ? header.find(quote, pos + 1) : std::string::npos;
  if (end == std::string::npos) {  // a structured dtype is a list, not a string
    throw_error(file, ": has a structured dtype; expected numbers");
  }
  const std::string descr = header.substr(pos + 1, end - pos - 1);
  const ElemInfo* elem = nullptr;
  for (const auto& e : kElems)
    if (descr == e.descr) elem = &e;
  require(elem != nullptr, file, ": dtype '", descr,
          "' is not supported (expected little-endian <f2, <f4, <f8, |i1, |u1, <i2, <u2, <i4, "
          "<u4 or <i8)");
  return *elem;
}

// Only C order is read: 'fortran_order' must be False.
void check_c_order(const std::string& file, const std::string& header) {
  size_t pos = find_key(header, "fortran_order");
  if (pos == std::string::npos) invalid(file, "no 'fortran_order'");
  pos = skip_spaces(header, pos);
  if (header.compare(pos, 4, "True") == 0) {
    throw_error(file,
                ": Fortran-ordered arrays are not supported (save in C order, e.g. "
                "np.save(f, np.ascontiguousarray(x)))");
  }
  if (header.compare(pos, 5, "False") != 0) invalid(file, "bad 'fortran_order'");
}

// The dimensions in the 'shape' tuple.
std::vector<int64_t> parse_shape(const std::string& file, const std::string& header) {
  size_t pos = find_key(header, "shape");
  if (pos == std::string::npos) invalid(file, "no 'shape'");
  pos = skip_spaces(header, pos);
  const size_t close = header.find(')', pos);
  if (pos >= header.size() || header[pos] != '(' || close == std::string::npos)
    invalid(file, "bad 'shape'");
  std::vector<int64_t> shape;
  std::string tok;
  for (size_t i = pos + 1; i <= close; ++i) {
    const char c = header[i];
    if (c == ',' || c == ')') {
      if (!tok.empty()) {
        if (tok.back() == 'L') tok.pop_back();  // Python 2 longs
        if (tok.empty() || tok.size() > 18 ||
            tok.find_first_not_of("0123456789") != std::string::npos)
          invalid(file, "bad 'shape'");
        shape.push_back(std::stoll(tok));
      } else if (c == ',') {
        invalid(file, "bad 'shape'");
      }
      tok.clear();
    } else if (c != ' ') {
      tok += c;
    }
  }
  return shape;
}

}  // namespace

std::unique_ptr<Source> open_npy(const std::string& file, const SourceOptions& options) {
  PositionalFile in(file);
  const int64_t file_size = in.size();
  int64_t data_offset = 0;
  const std::string header = read_header(in, file, &data_offset);
  const ElemInfo& elem = parse_descr(file, header);
  check_c_order(file, header);
  const std::vector<int64_t> shape = parse_shape(file, header);
  require(shape.size() == 2 || (shape.size() == 1 && options.allow_1d), file, " is ", shape.size(),
          "-D; expected a 2-D array");
  const int64_t rows = shape[0];
  const int64_t cols = shape.size() == 2 ? shape[1] : 1;
  require(rows > 0, file, " is empty (0 rows)");
  require(cols > 0, file, " has 0 columns");
  int64_t need = 0;
  require(
      !__builtin_mul_overflow(rows, cols, &need) && !__builtin_mul_overflow(need, elem.size, &need),
      file, ": shape (", rows, ", ", cols, ") is too large");
  const int64_t have = std::max<int64_t>(0, file_size - data_offset);
  require(have >= need, file, ": truncated: expected ", need, " bytes of data, found ", have);
  return std::make_unique<NpySource>(file, rows, cols, elem, data_offset, options.check_finite);
}

}  // namespace embcluster
