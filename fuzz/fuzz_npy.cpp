// libFuzzer target: NumPy .npy files (header dict, dtypes, shapes, truncation).
#include "fuzz/fuzz_input.h"
#include "io/readers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace embcluster;
  const std::string path = fuzz::write_input(data, size);
  const SourceOptions options = fuzz::options_for(fuzz::pick(data, size, 2));
  fuzz::open_and_read([&] { return open_npy(path, options); });
  return 0;
}
