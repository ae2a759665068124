// The panel kernels' dot products (cpu/panel_dots.h) against a double-precision reference, for
// row counts that leave partial micro-tiles, widths across slices and centre counts that leave a
// partial panel: the AVX2 kernel, the AVX-512 kernel where the CPU has it, and everywhere the
// AVX-512 kernel's logic run with AVX2 instructions (tests/panel_wide_avx2.cpp) and its own source
// under SIMDe's portable AVX-512 (tests/panel_avx512_simde.cpp). Then the self-check that every
// kernel passes before a process uses it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "cpu/panel_check.h"
#include "cpu/panel_dots.h"
#include "cpu/panel_dots_isa.h"
#include "embcluster/error.h"

namespace embcluster {
void panel_dots_wide_on_avx2(const float* x, int64_t rows, int64_t d, const float* panels,
                             int64_t k, float* dots, int64_t ld);
void panel_dots_avx512_simde(const float* x, int64_t rows, int64_t d, const float* panels,
                             int64_t k, float* dots, int64_t ld);
}

using namespace embcluster;

namespace {

using Kernel =
    std::function<void(const float*, int64_t, int64_t, const float*, int64_t, float*, int64_t)>;

void expect_dots(const Kernel& dots_of, int64_t width, const std::vector<int64_t>& row_counts,
                 const std::vector<int64_t>& widths, const std::vector<int64_t>& centre_counts) {
  std::mt19937 gen(11);
  std::normal_distribution<float> v(0.0f, 1.0f);
  for (const int64_t rows : row_counts) {
    for (const int64_t d : widths) {
      for (const int64_t k : centre_counts) {
        std::vector<float> x(static_cast<size_t>(rows * d)), c(static_cast<size_t>(k * d));
        for (auto& e : x) e = v(gen);
        for (auto& e : c) e = v(gen);
        std::vector<float> panels;
        pack_panels(c.data(), k, d, width, &panels);
        // A stride wider than k, and rows past `rows`: neither the columns past k nor those rows
        // may be written.
        const int64_t ld = k + 3, spare = 12;
        std::vector<float> dots(static_cast<size_t>((rows + spare) * ld), -7.0f);
        dots_of(x.data(), rows, d, panels.data(), k, dots.data(), ld);
        for (int64_t e = rows * ld; e < (rows + spare) * ld; ++e)
          ASSERT_EQ(dots[e], -7.0f) << "past the last row, at " << e - rows * ld;
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

// A plain kernel over panels of 16 centres, right (Fault 0) or with one fault: 1 leaves out the
// last dimension, 2 writes a row past the last, 3 writes the column past the last centre, 4 swaps
// the last panel's first two centres, 5 adds one rounding error (1 ulp) to one dot.
template <int Fault>
void plain_kernel(const float* x, int64_t rows, int64_t d, const float* panels, int64_t k,
                  float* dots, int64_t ld) {
  constexpr int64_t W = 16;
  const int64_t last_panel = (k - 1) / W;
  for (int64_t i = 0; i < rows + (Fault == 2); ++i)
    for (int64_t j = 0; j < k + (Fault == 3); ++j) {
      int64_t col = j;
      if (Fault == 4 && j / W == last_panel && j % W < 2) col = j ^ 1;
      float s = 0;
      for (int64_t t = 0; t < d - (Fault == 1); ++t)
        s += x[std::min(i, rows - 1) * d + t] * panels[(col / W) * d * W + t * W + col % W];
      if (Fault == 5 && i == rows / 2 && j == k / 2) s = std::nextafter(s, 1e9f);
      dots[i * ld + j] = s;
    }
}

Kernel kernel_of(PanelIsa isa) {
  return [isa](const float* x, int64_t rows, int64_t d, const float* p, int64_t k, float* o,
               int64_t ld) { panel_dots(isa, x, rows, d, p, k, o, ld); };
}

}  // namespace

TEST(PanelDots, Avx2EqualsADoublePrecisionReferenceWithinRounding) {
  if (!panel_isa_runs(PanelIsa::Avx2)) GTEST_SKIP() << "this CPU has no AVX2/FMA";
  EXPECT_EQ(panel_width(PanelIsa::Avx2), 16);
  expect_dots(kernel_of(PanelIsa::Avx2), 16, {1, 5, 6, 7, 13}, {1, 7, 256, 300, 513},
              {1, 15, 16, 17, 33});
}

TEST(PanelDots, Avx512EqualsADoublePrecisionReferenceWithinRounding) {
  if (!panel_isa_runs(PanelIsa::Avx512)) GTEST_SKIP() << "this CPU has no AVX-512F";
  EXPECT_EQ(panel_width(PanelIsa::Avx512), 32);
  expect_dots(kernel_of(PanelIsa::Avx512), 32, {1, 11, 12, 13, 25}, {1, 7, 128, 129, 300, 513},
              {1, 31, 32, 33, 65});
}

TEST(PanelDots, TheAvx512LogicOnAvx2EqualsTheReference) {
  if (!panel_isa_runs(PanelIsa::Avx2)) GTEST_SKIP() << "this CPU has no AVX2/FMA";
  expect_dots(panel_dots_wide_on_avx2, 32, {1, 11, 12, 13, 25}, {1, 7, 128, 129, 300, 513},
              {1, 31, 32, 33, 65});
}

TEST(PanelDots, TheAvx512SourceUnderSimdeEqualsTheReference) {
  if (!panel_isa_runs(PanelIsa::Avx2)) GTEST_SKIP() << "this CPU has no AVX2/FMA";
  expect_dots(panel_dots_avx512_simde, 32, {1, 11, 12, 13, 25}, {1, 7, 128, 129, 300, 513},
              {1, 31, 32, 33, 70});
}

// The self-check every kernel passes before a process uses it (cpu/panel_check.h).
TEST(PanelDots, EveryKernelThisCpuRunsPassesItsSelfCheck) {
  EXPECT_TRUE(panel_kernel_checks_out(plain_kernel<0>, 16));
  if (!panel_isa_runs(PanelIsa::Avx2)) GTEST_SKIP() << "this CPU has no AVX2/FMA";
  EXPECT_TRUE(panel_kernel_checks_out(panel_dots_avx2, kAvx2Width));
  EXPECT_TRUE(panel_kernel_checks_out(panel_dots_wide_on_avx2, kAvx512Width));
  EXPECT_TRUE(panel_kernel_checks_out(panel_dots_avx512_simde, kAvx512Width));
  if (panel_isa_runs(PanelIsa::Avx512))
    EXPECT_TRUE(panel_kernel_checks_out(panel_dots_avx512, kAvx512Width));
}

TEST(PanelDots, TheSelfCheckFailsAKernelWithAnyOfFiveFaults) {
  EXPECT_FALSE(panel_kernel_checks_out(plain_kernel<1>, 16)) << "the last dimension left out";
  EXPECT_FALSE(panel_kernel_checks_out(plain_kernel<2>, 16)) << "a row past the last written";
  EXPECT_FALSE(panel_kernel_checks_out(plain_kernel<3>, 16)) << "a column past k written";
  EXPECT_FALSE(panel_kernel_checks_out(plain_kernel<4>, 16)) << "two centres swapped";
  EXPECT_FALSE(panel_kernel_checks_out(plain_kernel<5>, 16)) << "one dot 1 ulp off";
}

// The process's choice: the widest kernel the CPU runs, unless EMBCLUSTER_CPU_KERNEL names one.
TEST(PanelDots, TheChoiceIsTheWidestTheCpuRuns) {
  if (std::getenv("EMBCLUSTER_CPU_KERNEL")) GTEST_SKIP() << "EMBCLUSTER_CPU_KERNEL is set";
  const PanelIsa want = panel_isa_runs(PanelIsa::Avx512) ? PanelIsa::Avx512
                        : panel_isa_runs(PanelIsa::Avx2) ? PanelIsa::Avx2
                                                         : PanelIsa::None;
  EXPECT_EQ(panel_isa(), want) << panel_isa_name(panel_isa());
  EXPECT_EQ(panel_isa_fallback(), "");
}
