// The AVX-512 panel kernel's own translation unit (src/cpu/panel_dots_avx512.cpp) compiled
// without AVX-512: SIMDe's portable AVX-512F (its native aliases) stands in for the instructions,
// so that this kernel runs as written on any x86-64 CPU. Its function is renamed
// panel_dots_avx512_simde, beside the library's panel_dots_avx512. Compiled with -mavx2 -mfma
// -mno-avx512f (tests/CMakeLists.txt).
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512.h>

#define panel_dots_avx512 panel_dots_avx512_simde
#include "cpu/panel_dots_avx512.cpp"
