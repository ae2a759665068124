#pragma once
// Dot products of a tile of rows with every centre, by a register-blocked kernel over centres
// packed in panels (packed once per pass, where a BLAS sgemm packs them again for every tile).
// One kernel (cpu/panel_kernel.h) in two instruction sets, chosen at run time by the CPU's
// features: AVX-512F (panels of 32 centres, 12-row micro-tiles) or AVX2/FMA (panels of 16, 6-row
// micro-tiles). On a CPU with neither, panel_isa() is None and the caller uses BLAS.
#include <cstdint>
#include <string>
#include <vector>

namespace embcluster {

enum class PanelIsa { None, Avx2, Avx512 };

// The kernel this process uses: the widest this CPU runs that passes its self-check
// (cpu/panel_check.h, once per process), or the one the environment variable
// EMBCLUSTER_CPU_KERNEL names (avx512, avx2 or blas: to compare them on one machine; an unknown
// name, one this CPU cannot run or one that fails its self-check is an error).
PanelIsa panel_isa();
// Empty, or why panel_isa() is narrower than the CPU runs: "the avx512 kernel failed its
// self-check on this CPU".
const std::string& panel_isa_fallback();
// Whether this CPU runs the kernel of `isa` (None: always).
bool panel_isa_runs(PanelIsa isa);
// Centres per panel (0 for None).
int64_t panel_width(PanelIsa isa);
// "avx512", "avx2" or "blas".
const char* panel_isa_name(PanelIsa isa);

// The k centres (k x d, row-major) in panels of `width`: out[(p * d + t) * width + j] = centre
// width p + j, dimension t; the last panel is padded with zeros.
void pack_panels(const float* c, int64_t k, int64_t d, int64_t width, std::vector<float>* out);

// dots[i * ld + j] = x_i . c_j for the rows x (rows x d) and the k centres packed for `isa`
// (ld >= k). Only for an isa this CPU runs, other than None.
void panel_dots(PanelIsa isa, const float* x, int64_t rows, int64_t d, const float* panels,
                int64_t k, float* dots, int64_t ld);

}  // namespace embcluster
