// CSV with a header row: one pass at open indexes the rows and checks every cell; reads seek.
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "embcluster/error.h"
#include "io/readers.h"

namespace embcluster {
namespace {

// Splits one line into fields; double quotes group a field ("" is a literal quote).
std::vector<std::string> split_fields(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') out.back() += '"', ++i;
      else if (c == '"') quoted = false;
      else out.back() += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.emplace_back();
    } else if (c != '\r') {
      out.back() += c;
    }
  }
  return out;
}

bool blank(const std::string& s) { return s.find_first_not_of(" \t") == std::string::npos; }

bool parse_number(const std::string& s, double* v) {
  const char* b = s.c_str();
  char* end = nullptr;
  errno = 0;
  *v = std::strtod(b, &end);
  if (end == b) return false;
  while (*end == ' ' || *end == '\t') ++end;
  return *end == '\0';
}

class CsvSource final : public Source {
 public:
  CsvSource(std::string file, std::vector<int64_t> offsets, std::vector<int64_t> columns,
            std::vector<std::string> names, std::vector<double> means, bool impute, bool check)
      : Source(file, static_cast<int64_t>(offsets.size()), static_cast<int64_t>(columns.size()),
               "csv", check),
        offsets_(std::move(offsets)), columns_(std::move(columns)), names_(std::move(names)),
        means_(std::move(means)), impute_(impute), in_(file, std::ios::binary) {}

 protected:
  void read_rows(int64_t start, int64_t count, float* out) override {
    in_.clear();
    in_.seekg(offsets_[start]);
    std::string line;
    for (int64_t r = 0; r < count; ++r) {
      require(static_cast<bool>(std::getline(in_, line)), name(), ": read failed at row ", start + r);
      const auto f = split_fields(line);
      for (int64_t j = 0; j < cols(); ++j) {
        const std::string& cell = f[columns_[j]];
        double v = 0;
        if (blank(cell)) v = impute_ ? means_[j] : NAN;
        else parse_number(cell, &v);
        out[r * cols() + j] = static_cast<float>(v);
      }
    }
  }

 private:
  std::vector<int64_t> offsets_, columns_;
  std::vector<std::string> names_;
  std::vector<double> means_;
  bool impute_;
  std::ifstream in_;
};

}  // namespace

std::unique_ptr<Source> open_csv(const std::string& file, const SourceOptions& options) {
  require(options.impute == "none" || options.impute == "mean", "--impute '", options.impute,
          "' must be none or mean");
  std::ifstream in(file, std::ios::binary);
  require(in.good(), file, ": cannot open");
  std::string line;
  require(static_cast<bool>(std::getline(in, line)), file, " is empty (no header row)");
  const auto header = split_fields(line);
  const size_t h = header.size();
  std::vector<bool> numeric(h, true);
  std::vector<int64_t> first_bad_line(h, 0);
  std::vector<std::string> first_bad_cell(h);
  std::vector<int64_t> first_empty_line(h, 0);
  std::vector<double> sum(h, 0.0);
  std::vector<int64_t> filled(h, 0);
  std::vector<int64_t> offsets;
  int64_t line_no = 1;
  for (int64_t pos = in.tellg(); std::getline(in, line); pos = in.tellg()) {
    ++line_no;
    if (blank(line) || line == "\r") continue;
    const auto f = split_fields(line);
    require(f.size() == h, file, ": line ", line_no, " has ", f.size(), " fields; the header has ",
            h);
    for (size_t j = 0; j < h; ++j) {
      double v;
      if (blank(f[j])) {
        if (!first_empty_line[j]) first_empty_line[j] = line_no;
      } else if (parse_number(f[j], &v)) {
        sum[j] += v;
        ++filled[j];
      } else if (numeric[j]) {
        numeric[j] = false;
        first_bad_line[j] = line_no;
        first_bad_cell[j] = f[j];
      }
    }
    offsets.push_back(pos);
  }
  require(!offsets.empty(), file, " is empty (no data rows)");

  std::vector<int64_t> cols;
  if (options.columns.empty()) {
    for (size_t j = 0; j < h; ++j)
      if (numeric[j] && filled[j] > 0) cols.push_back(static_cast<int64_t>(j));
    require(!cols.empty(), file, ": no numeric column");
  } else {
    for (const auto& want : options.columns) {
      int64_t idx = -1;
      for (size_t j = 0; j < h; ++j)
        if (header[j] == want) idx = static_cast<int64_t>(j);
      double v;
      if (idx < 0 && parse_number(want, &v) && v >= 0 && v < h && v == std::floor(v))
        idx = static_cast<int64_t>(v);
      require(idx >= 0, file, ": no column '", want, "' (--columns)");
      require(numeric[idx], file, ": column '", header[idx], "' is not numeric (line ",
              first_bad_line[idx], ": '", first_bad_cell[idx], "')");
      cols.push_back(idx);
    }
  }
  std::vector<std::string> names;
  std::vector<double> means;
  for (auto j : cols) {
    names.push_back(header[j]);
    means.push_back(filled[j] ? sum[j] / static_cast<double>(filled[j]) : 0.0);
    require(options.impute == "mean" || first_empty_line[j] == 0, file, ": line ",
            first_empty_line[j], ", column '", header[j], "' is empty (use --impute mean)");
    require(filled[j] > 0, file, ": column '", header[j], "' has no values");
  }
  return std::make_unique<CsvSource>(file, std::move(offsets), std::move(cols), std::move(names),
                                     std::move(means), options.impute == "mean",
                                     options.check_finite);
}

}  // namespace embcluster
