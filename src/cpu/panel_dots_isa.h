#pragma once
// The panel kernel of each instruction set (cpu/panel_kernel.h instantiated in a translation unit
// compiled for it). Call one only where panel_isa_runs() says the CPU has its instructions.
#include <cstdint>

namespace embcluster {

// Centres per panel of each kernel (panel_width()), their slice depths (a panel's slice: 16 KiB)
// and the AVX-512 kernel's micro-tile rows.
constexpr int64_t kAvx2Width = 16, kAvx512Width = 32;
constexpr int64_t kAvx2Depth = 256, kAvx512Depth = 128;
constexpr int kAvx512Rows = 12;

// Panels of 16 centres.
void panel_dots_avx2(const float* x, int64_t rows, int64_t d, const float* panels, int64_t k,
                     float* dots, int64_t ld);
// Panels of 32 centres.
void panel_dots_avx512(const float* x, int64_t rows, int64_t d, const float* panels, int64_t k,
                       float* dots, int64_t ld);

}  // namespace embcluster
