#include "io/row_values.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <vector>

#include "embcluster/error.h"

namespace embcluster {
namespace {

// "x.h5" without a dataset: its /<what>, or its only dataset (the readers pick 2-D ones).
std::string default_dataset(const std::string& spec, const std::string& what) {
  std::string ext = std::filesystem::path(spec).extension().string();
  for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (ext != ".h5" && ext != ".hdf5" && ext != ".he5") return spec;
  if (!std::filesystem::is_regular_file(spec)) return spec;
  const auto sets = list_datasets(spec);
  for (const auto& s : sets)
    if (s.path == "/" + what) return spec + ":/" + what;
  return sets.size() == 1 ? spec + ":" + sets[0].path : spec;
}

}  // namespace

std::unique_ptr<Source> open_row_values(const std::string& spec, const std::string& what,
                                        int64_t expected_rows) {
  SourceOptions so;
  so.allow_1d = true;
  auto src = open_source(default_dataset(spec, what), so);
  require(src->cols() == 1, what, " ", src->name(), " has ", src->cols(), " columns; ", what,
          " must be one column (or a 1-D dataset)");
  // One row short in a CSV: most likely a file without a header row, whose first value was taken
  // as the header.
  const bool csv_header_taken = src->dtype() == "csv" && src->rows() + 1 == expected_rows;
  require(src->rows() == expected_rows, what, " ", src->name(), " has ", src->rows(),
          " rows; the data has ", expected_rows,
          csv_header_taken
              ? " (a CSV file's first line is its header: add one, e.g. '" + what + "')"
              : "");
  return src;
}

void for_each_value_chunk(Source& src,
                          const std::function<void(int64_t, const double*, int64_t)>& fn) {
  constexpr int64_t kChunk = int64_t(1) << 20;
  std::vector<double> buf;
  for (int64_t s = 0; s < src.rows(); s += kChunk) {
    const int64_t m = std::min(kChunk, src.rows() - s);
    buf.resize(static_cast<size_t>(m));
    src.read(s, m, buf.data());
    fn(s, buf.data(), m);
  }
}

}  // namespace embcluster
