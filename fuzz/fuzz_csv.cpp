// libFuzzer target: CSV with a header row (quotes, blank lines, numbers, empty cells, --columns).
#include "fuzz/fuzz_input.h"
#include "io/readers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace embcluster;
  const std::string path = fuzz::write_input(data, size);
  const unsigned which = fuzz::pick(data, size, 4);
  SourceOptions options = fuzz::options_for(which % 2);
  if (which >= 2) options.columns = {"1", "b"};  // chosen by 0-based index and by header name
  fuzz::open_and_read([&] { return open_csv(path, options); });
  return 0;
}
