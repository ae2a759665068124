#include "cpu/panel_dots.h"

#include <cstdlib>
#include <string>
#include <vector>

#include "cpu/panel_check.h"
#include "cpu/panel_dots_isa.h"
#include "embcluster/error.h"

namespace embcluster {
namespace {

PanelKernel kernel_of(PanelIsa isa) {
  return isa == PanelIsa::Avx512 ? panel_dots_avx512 : panel_dots_avx2;
}

// Whether the kernel of `isa` passes its check on this CPU (None: BLAS, always).
bool checks_out(PanelIsa isa) {
  return isa == PanelIsa::None || panel_kernel_checks_out(kernel_of(isa), panel_width(isa));
}

struct Choice {
  PanelIsa isa = PanelIsa::None;
  std::string fallback;
};

Choice choose_isa() {
  const char* env = std::getenv("EMBCLUSTER_CPU_KERNEL");
  Choice out;
  if (!env || !*env) {
    // The widest kernel that runs here and passes its check.
    std::vector<std::string> failed;
    for (const PanelIsa isa : {PanelIsa::Avx512, PanelIsa::Avx2}) {
      if (!panel_isa_runs(isa)) continue;
      if (checks_out(isa)) {
        out.isa = isa;
        break;
      }
      failed.emplace_back(panel_isa_name(isa));
    }
    if (failed.size() == 1)
      out.fallback = "the " + failed[0] + " kernel failed its self-check on this CPU";
    else if (failed.size() == 2)
      out.fallback = "the " + failed[0] + " and " + failed[1] +
                     " kernels failed their self-checks on this CPU";
    return out;
  }
  const std::string name = env;
  for (const PanelIsa isa : {PanelIsa::Avx512, PanelIsa::Avx2, PanelIsa::None}) {
    if (name != panel_isa_name(isa)) continue;
    require(panel_isa_runs(isa), "EMBCLUSTER_CPU_KERNEL=", name, ": this CPU has no ", name);
    require(checks_out(isa), "EMBCLUSTER_CPU_KERNEL=", name, ": the ", name,
            " kernel failed its self-check on this CPU");
    out.isa = isa;
    return out;
  }
  throw Error("EMBCLUSTER_CPU_KERNEL=" + name + ": expected avx512, avx2 or blas");
}

const Choice& choice() {
  static const Choice c = choose_isa();
  return c;
}

}  // namespace

PanelIsa panel_isa() { return choice().isa; }

const std::string& panel_isa_fallback() { return choice().fallback; }

bool panel_isa_runs(PanelIsa isa) {
  switch (isa) {
    case PanelIsa::Avx512:
      return __builtin_cpu_supports("avx512f");
    case PanelIsa::Avx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case PanelIsa::None:
      return true;
  }
  return false;
}

int64_t panel_width(PanelIsa isa) {
  return isa == PanelIsa::Avx512 ? kAvx512Width : isa == PanelIsa::Avx2 ? kAvx2Width : 0;
}

const char* panel_isa_name(PanelIsa isa) {
  return isa == PanelIsa::Avx512 ? "avx512" : isa == PanelIsa::Avx2 ? "avx2" : "blas";
}

void pack_panels(const float* c, int64_t k, int64_t d, int64_t width, std::vector<float>* out) {
  const int64_t panels = (k + width - 1) / width;
  out->assign(static_cast<size_t>(panels * d * width), 0.0f);
  for (int64_t j = 0; j < k; ++j) {
    float* p = out->data() + (j / width) * d * width + j % width;
    for (int64_t t = 0; t < d; ++t) p[t * width] = c[j * d + t];
  }
}

void panel_dots(PanelIsa isa, const float* x, int64_t rows, int64_t d, const float* panels,
                int64_t k, float* dots, int64_t ld) {
  EMBCLUSTER_ASSERT(isa != PanelIsa::None && panel_isa_runs(isa), "no ", panel_isa_name(isa),
                    " panel kernel on this CPU");
  if (isa == PanelIsa::Avx512)
    panel_dots_avx512(x, rows, d, panels, k, dots, ld);
  else
    panel_dots_avx2(x, rows, d, panels, k, dots, ld);
}

}  // namespace embcluster
