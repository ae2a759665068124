#pragma once
// The register-blocked panel kernel of cpu/panel_dots.h, written once for any vector width. Each
// instruction set's translation unit (panel_dots_avx2.cpp, panel_dots_avx512.cpp, compiled with
// its own -m flags) includes this header and instantiates run_panels with its own Isa:
//
//   struct Isa {
//     using V = ...;                       // a vector of kLanes floats
//     static constexpr int kLanes, kRows;  // a micro-tile is kRows rows x 2 kLanes centres
//     static constexpr int64_t kDepth;     // dimensions per pass over the panels
//     static V zero(); static V load(const float*); static V broadcast(const float*);
//     static V fma(V a, V b, V c);          // a * b + c, one rounding
//     static V add(V a, V b); static void store(float*, V);
//   };
//
// Everything here has internal linkage (an unnamed namespace), so that no function compiled
// for one instruction set can stand in for another's at link time.
#include <cstdint>

namespace embcluster {
namespace {

inline int64_t panel_min(int64_t a, int64_t b) { return a < b ? a : b; }

// Dots of Isa::kRows rows (x[r] points at row r's first dimension of the slice) with one panel
// of 2 kLanes centres into out (stride ld; the first `rows` rows and `cols` columns kept; added
// to what is there when `add`). The rows are read where they are.
template <class Isa>
inline __attribute__((always_inline)) void panel_micro_kernel(const float* const* x, int64_t d,
                                                              const float* panel, float* out,
                                                              int64_t ld, int64_t cols,
                                                              int64_t rows, bool add) {
  using V = typename Isa::V;
  constexpr int R = Isa::kRows, L = Isa::kLanes;
  V lo[R], hi[R];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) lo[r] = hi[r] = Isa::zero();
  const float* xr[R];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) xr[r] = x[r];
  for (int64_t t = 0; t < d; ++t, panel += 2 * L) {
    const V b0 = Isa::load(panel);
    const V b1 = Isa::load(panel + L);
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      const V a = Isa::broadcast(xr[r] + t);
      lo[r] = Isa::fma(a, b0, lo[r]);
      hi[r] = Isa::fma(a, b1, hi[r]);
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) {
    if (r >= rows) break;
    float* o = out + r * ld;
    if (cols == 2 * L) {
      Isa::store(o, add ? Isa::add(Isa::load(o), lo[r]) : lo[r]);
      Isa::store(o + L, add ? Isa::add(Isa::load(o + L), hi[r]) : hi[r]);
    } else {
      float tmp[2 * L];
      Isa::store(tmp, lo[r]);
      Isa::store(tmp + L, hi[r]);
      for (int64_t j = 0; j < cols; ++j) o[j] = add ? o[j] + tmp[j] : tmp[j];
    }
  }
}

// dots[i * ld + j] = x_i . c_j for the rows x (rows x d) and the k centres packed in panels of
// 2 Isa::kLanes (pack_panels). Slice by slice of kDepth dimensions and panel by panel: one
// panel's slice stays in the core's first cache while every group of kRows rows passes it (a
// last group of fewer repeats its last row; those dots are not kept).
template <class Isa>
inline __attribute__((always_inline)) void run_panels(const float* x, int64_t rows, int64_t d,
                                                      const float* panels, int64_t k, float* dots,
                                                      int64_t ld) {
  constexpr int64_t R = Isa::kRows, W = 2 * Isa::kLanes;
  const int64_t blocks = (rows + R - 1) / R;
  for (int64_t t0 = 0; t0 < d; t0 += Isa::kDepth) {
    const int64_t len = panel_min(Isa::kDepth, d - t0);
    for (int64_t j0 = 0; j0 < k; j0 += W) {
      const float* panel = panels + (j0 / W) * d * W + t0 * W;
      for (int64_t b = 0; b < blocks; ++b) {
        const float* group[R];
        for (int64_t r = 0; r < R; ++r) group[r] = x + panel_min(b * R + r, rows - 1) * d + t0;
        panel_micro_kernel<Isa>(group, len, panel, dots + b * R * ld + j0, ld, panel_min(W, k - j0),
                                panel_min(R, rows - b * R), t0 > 0);
      }
    }
  }
}

}  // namespace
}  // namespace embcluster
