// The AVX2 panel kernel's dot products (cpu/panel_dots.h) against a double-precision reference,
// for row counts that leave a partial group of six, widths across slices of 256 dimensions and
// centre counts that leave a partial panel of 16.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "cpu/panel_dots.h"

using namespace embcluster;

TEST(PanelDots, EqualADoublePrecisionReferenceWithinRounding) {
  if (!panel_dots_available()) GTEST_SKIP() << "this CPU has no AVX2/FMA";
  std::mt19937 gen(11);
  std::normal_distribution<float> v(0.0f, 1.0f);
  for (const int64_t rows : {1, 5, 6, 7, 13}) {
    for (const int64_t d : {1, 7, 256, 300, 513}) {
      for (const int64_t k : {1, 15, 16, 17, 33}) {
        std::vector<float> x(static_cast<size_t>(rows * d)), c(static_cast<size_t>(k * d));
        for (auto& e : x) e = v(gen);
        for (auto& e : c) e = v(gen);
        std::vector<float> panels;
        pack_panels(c.data(), k, d, &panels);
        const int64_t ld = k + 3;  // a stride wider than k: the columns past k stay untouched
        std::vector<float> dots(static_cast<size_t>(rows * ld), -7.0f);
        panel_dots(x.data(), rows, d, panels.data(), k, dots.data(), ld);
        for (int64_t i = 0; i < rows; ++i) {
          for (int64_t j = 0; j < k; ++j) {
            double want = 0, mag = 0;
            for (int64_t t = 0; t < d; ++t) {
              want += static_cast<double>(x[i * d + t]) * c[j * d + t];
              mag += std::fabs(static_cast<double>(x[i * d + t]) * c[j * d + t]);
            }
            const double tol = static_cast<double>(d + 2) * std::ldexp(1.0, -24) * mag + 1e-30;
            ASSERT_NEAR(dots[i * ld + j], want, tol)
                << "rows " << rows << " d " << d << " k " << k << " at " << i << "," << j;
          }
          for (int64_t j = k; j < ld; ++j) ASSERT_EQ(dots[i * ld + j], -7.0f) << "column " << j;
        }
      }
    }
  }
}
