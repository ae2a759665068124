#pragma once
// Dot products of a tile of rows with every centre, by a register-blocked AVX2/FMA kernel over
// centres packed in panels of 16 (packed once per pass, where a BLAS sgemm packs them again for
// every tile). Chosen at run time: on a CPU without AVX2 and FMA, panel_dots_available() is false
// and the caller uses BLAS.
#include <cstdint>
#include <vector>

namespace embcluster {

constexpr int64_t kPanel = 16;  // centres per panel

// Whether this CPU runs the kernel (AVX2 and FMA).
bool panel_dots_available();

// The k centres (k x d, row-major) in panels: out[(p * d + t) * 16 + j] = centre 16 p + j,
// dimension t; the last panel is padded with zeros.
void pack_panels(const float* c, int64_t k, int64_t d, std::vector<float>* out);

// dots[i * ld + j] = x_i . c_j for the rows x (rows x d) and the k packed centres (ld >= k).
void panel_dots(const float* x, int64_t rows, int64_t d, const float* panels, int64_t k,
                float* dots, int64_t ld);

}  // namespace embcluster
