#include "cpu/panel_check.h"

#include <vector>

#include "cpu/panel_dots.h"

namespace embcluster {
namespace {

// Rows and dimensions that leave partial micro-tiles and slices in every kernel: 29 rows are 4
// micro-tiles of 6 (AVX2) or 2 of 12 (AVX-512) and 5 more; 300 dimensions are 1 slice of 256 or
// 2 of 128 and 44 more.
constexpr int64_t kRows = 29, kDims = 300;
constexpr float kUnwritten = -0.5f;  // no dot of integers is this

// Small integers from a fixed sequence: -4 ... 4.
float value(uint32_t& state) {
  state = state * 1664525u + 1013904223u;
  return static_cast<float>(static_cast<int>(state >> 28) % 9 - 4);
}

}  // namespace

bool panel_kernel_checks_out(PanelKernel kernel, int64_t width) {
  const int64_t k = 2 * width + 5, ld = k + 3, spare = 13;
  uint32_t state = 12345;
  std::vector<float> x(static_cast<size_t>(kRows * kDims)), c(static_cast<size_t>(k * kDims));
  for (auto& v : x) v = value(state);
  for (auto& v : c) v = value(state);
  std::vector<float> panels;
  pack_panels(c.data(), k, kDims, width, &panels);
  std::vector<float> dots(static_cast<size_t>((kRows + spare) * ld), kUnwritten);
  kernel(x.data(), kRows, kDims, panels.data(), k, dots.data(), ld);
  for (int64_t i = 0; i < kRows + spare; ++i)
    for (int64_t j = 0; j < ld; ++j) {
      float want = kUnwritten;
      if (i < kRows && j < k) {
        int64_t s = 0;  // |s| <= 300 x 16: exact in float
        for (int64_t t = 0; t < kDims; ++t)
          s += static_cast<int64_t>(x[i * kDims + t]) * static_cast<int64_t>(c[j * kDims + t]);
        want = static_cast<float>(s);
      }
      if (dots[i * ld + j] != want) return false;
    }
  return true;
}

}  // namespace embcluster
