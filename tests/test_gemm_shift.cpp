// The shift of the GPU's reduced-precision GEMMs (kern::gemm_shift): small-integer rows and
// centres stay exact in bfloat16 and tf32 after it, and it takes an offset off to within a
// thirty-second of the centres' spread.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/rng.h"
#include "kernels/distance.cuh"

using namespace embcluster;

namespace {

uint32_t bits_of(float v) {
  uint32_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}
bool exact_in_bf16(float v) { return (bits_of(v) & 0xFFFFu) == 0; }
bool exact_in_tf32(float v) { return (bits_of(v) & 0x1FFFu) == 0; }

// The shift of column j of the centres c (k x d), as the kernel makes it.
float column_shift(const std::vector<float>& c, int64_t k, int64_t d, int64_t j) {
  double s = 0;
  for (int64_t i = 0; i < k; ++i) s += c[i * d + j];
  const double mean = s / static_cast<double>(k);
  double spread = 0;
  for (int64_t i = 0; i < k; ++i) spread = std::max(spread, std::fabs(c[i * d + j] - mean));
  return kern::gemm_shift(mean, spread);
}

}  // namespace

TEST(GemmShift, SmallIntegersStayExact) {
  Rng rng(5);
  for (int trial = 0; trial < 200; ++trial) {
    const int64_t k = 1 + static_cast<int64_t>(rng.below(60)), d = 8;
    const int lo = -static_cast<int>(rng.below(9)), width = 1 + static_cast<int>(rng.below(16));
    std::vector<float> c(static_cast<size_t>(k * d));
    for (auto& v : c) v = static_cast<float>(lo + static_cast<int>(rng.below(width)));
    for (int64_t j = 0; j < d; ++j) {
      const float s = column_shift(c, k, d, j);
      // Every row of the same integers, centres included, minus the shift.
      for (int x = lo; x < lo + width; ++x) {
        const float v = static_cast<float>(x) - s;
        EXPECT_EQ(static_cast<double>(v), static_cast<double>(x) - static_cast<double>(s))
            << "x " << x << " shift " << s;
        EXPECT_TRUE(exact_in_bf16(v)) << "x " << x << " shift " << s;
        EXPECT_TRUE(exact_in_tf32(v)) << "x " << x << " shift " << s;
      }
    }
  }
}

TEST(GemmShift, TakesTheOffsetOff) {
  Rng rng(7);
  for (const double offset : {1000.0, -250.0, 0.3, 1e6}) {
    for (const double width : {10.0, 0.05, 3.0}) {
      const int64_t k = 50, d = 4;
      std::vector<float> c(static_cast<size_t>(k * d));
      for (auto& v : c) v = static_cast<float>(offset + width * rng.uniform());
      for (int64_t j = 0; j < d; ++j) {
        double s = 0, spread = 0;
        for (int64_t i = 0; i < k; ++i) s += c[i * d + j];
        const double mean = s / k;
        for (int64_t i = 0; i < k; ++i) spread = std::max(spread, std::fabs(c[i * d + j] - mean));
        const float shift = column_shift(c, k, d, j);
        // Within spread / 32, and the float rounding of the shift itself.
        EXPECT_LE(std::fabs(mean - shift), spread / 32 + std::fabs(mean) * 0x1p-24)
            << "offset " << offset << " width " << width;
      }
    }
  }
  // One centre (spread 0): its own values.
  EXPECT_EQ(kern::gemm_shift(1234.5678, 0.0), 1234.5678f);
  EXPECT_EQ(kern::gemm_shift(0.0, 0.0), 0.0f);
}
