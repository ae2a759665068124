#pragma once
// A check every panel kernel passes before the process uses it (cpu/panel_dots.h): its dots of a
// small fixed problem against the exact ones. A kernel that a compiler, a CPU or an operating
// system gets wrong gives wrong dots, and K-means would then miss the nearest centre silently;
// the check turns that into a choice of another kernel (or an error, for one asked for by name).
#include <cstdint>

namespace embcluster {

// dots[i * ld + j] = x_i . c_j for the rows x (rows x d) and k centres packed in panels.
using PanelKernel = void (*)(const float* x, int64_t rows, int64_t d, const float* panels,
                             int64_t k, float* dots, int64_t ld);

// Whether `kernel`, with centres packed in panels of `width`, gives every dot of a problem whose
// rows, dimensions and centres leave partial micro-tiles, slices and panels exactly (small
// integers: every sum is exact in float, whatever its order), with a stride wider than k, and
// writes nothing past its rows and columns.
bool panel_kernel_checks_out(PanelKernel kernel, int64_t width);

}  // namespace embcluster
