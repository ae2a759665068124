// libFuzzer target: .fvecs, .bvecs and .ivecs (per-row dimensions, sizes, truncation).
#include "fuzz/fuzz_input.h"
#include "io/readers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace embcluster;
  const std::string path = fuzz::write_input(data, size);
  const unsigned which = fuzz::pick(data, size, 6);
  const char* ext = which / 2 == 0 ? ".fvecs" : which / 2 == 1 ? ".bvecs" : ".ivecs";
  const SourceOptions options = fuzz::options_for(which % 2);
  fuzz::open_and_read([&] { return open_vecs(path, ext, options); });
  return 0;
}
