// CSV with a header row. One streaming pass at open indexes the rows (byte offsets), finds the
// numeric columns and their means; reads seek to a row's offset and parse from there.
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "embcluster/error.h"
#include "io/readers.h"

namespace embcluster {
namespace {

// Splits one line into fields (comma separated; double quotes group a field, "" is a quote).
// Returns false when a quote is left open: a quoted field spanning lines is not supported.
bool split_fields(const std::string& line, std::vector<std::string>* out) {
  out->assign(1, std::string());
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        out->back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        out->back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out->emplace_back();
    } else if (c != '\r') {
      out->back() += c;
    }
  }
  return !quoted;
}

bool blank(const std::string& s) { return s.find_first_not_of(" \t\r") == std::string::npos; }

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

// A number if strtod consumes the whole cell (surrounding spaces allowed).
bool parse_number(const std::string& s, double* v) {
  const char* b = s.c_str();
  char* end = nullptr;
  *v = std::strtod(b, &end);
  if (end == b) return false;
  while (*end == ' ' || *end == '\t' || *end == '\r') ++end;
  return *end == '\0';
}

class CsvSource final : public Source {
 public:
  CsvSource(const std::string& file, std::vector<int64_t> offsets, std::vector<int64_t> columns,
            std::vector<double> means, bool check, const std::vector<std::string>& header,
            std::vector<std::string> notes)
      : Source(file, static_cast<int64_t>(offsets.size()), static_cast<int64_t>(columns.size()),
               "csv", check),
        offsets_(std::move(offsets)),
        columns_(std::move(columns)),
        means_(std::move(means)),
        in_(file, std::ios::binary) {
    require(in_.good(), file, ": cannot open");
    std::vector<std::string> names;
    for (auto c : columns_) names.push_back(header[static_cast<size_t>(c)]);
    set_column_names(std::move(names));
    for (auto& n : notes) add_note(std::move(n));
  }

 protected:
  void read_rows(int64_t start, int64_t count, float* out) override { read_as(start, count, out); }
  // Cells parse as double: integer labels up to 2^53 read exactly.
  void read_rows_f64(int64_t start, int64_t count, double* out) override {
    read_as(start, count, out);
  }

 private:
  template <typename Out>
  void read_as(int64_t start, int64_t count, Out* out) {
    in_.clear();
    in_.seekg(offsets_[start]);
    std::string line;
    for (int64_t r = 0; r < count;) {
      require(static_cast<bool>(std::getline(in_, line)), name(), ": read failed at row ",
              start + r, " (file changed since it was opened?)");
      if (blank(line)) continue;  // skipped when indexing too
      split_fields(line, &fields_);
      for (int64_t j = 0; j < cols(); ++j) {
        const auto c = static_cast<size_t>(columns_[j]);
        require(c < fields_.size(), name(), ": row ", start + r,
                " has too few fields (file changed since it was opened?)");
        double v = 0;
        if (blank(fields_[c])) {
          v = means_[j];  // only reachable with impute = mean: checked at open
        } else if (!parse_number(fields_[c], &v)) {
          throw_error(name(), ": row ", start + r,
                      " is not numeric (file changed since it was "
                      "opened?)");
        }
        out[r * cols() + j] = static_cast<Out>(v);
      }
      ++r;
    }
  }

  std::vector<int64_t> offsets_, columns_;
  std::vector<double> means_;
  std::ifstream in_;
  std::vector<std::string> fields_;
};

// What the indexing pass learns about one column.
struct ColumnScan {
  int64_t text = 0;      // non-empty cells that are not numbers
  int64_t bad_line = 0;  // the first of them
  std::string bad_cell;
  int64_t empty_line = 0;  // first empty cell
  double sum = 0;
  int64_t finite = 0;  // cells counted in sum
  int64_t filled = 0;  // non-empty numeric cells
};

// Reads the header row (dropping a UTF-8 byte order mark) into trimmed column names; *pos becomes
// the byte offset of the line after it.
std::vector<std::string> read_header(std::istream& in, const std::string& file, int64_t* pos) {
  std::string line;
  require(static_cast<bool>(std::getline(in, line)), file, " is empty (no header row)");
  *pos = static_cast<int64_t>(line.size()) + 1;
  if (line.compare(0, 3, "\xEF\xBB\xBF") == 0) line.erase(0, 3);  // UTF-8 byte order mark
  require(!blank(line), file, ": line 1 (the header) is empty");
  std::vector<std::string> header;
  require(split_fields(line, &header), file, ": line 1 has an unterminated quote");
  for (auto& h : header) h = trim(h);
  return header;
}

// Counts one data row's cells into the column scans.
void scan_cells(const std::vector<std::string>& f, int64_t line_no, std::vector<ColumnScan>* scan) {
  for (size_t j = 0; j < scan->size(); ++j) {
    ColumnScan& s = (*scan)[j];
    double v;
    if (blank(f[j])) {
      if (!s.empty_line) s.empty_line = line_no;
    } else if (parse_number(f[j], &v)) {
      ++s.filled;
      if (std::isfinite(v)) s.sum += v, ++s.finite;
    } else if (s.text++ == 0) {
      s.bad_line = line_no;
      s.bad_cell = trim(f[j]);
    }
  }
}

// The indexing pass over the data rows after the header (starting at byte offset pos): fills one
// scan per column and returns the byte offset of every non-blank row.
std::vector<int64_t> index_rows(std::istream& in, const std::string& file, int64_t pos,
                                std::vector<ColumnScan>* scan) {
  const size_t h = scan->size();
  std::vector<int64_t> offsets;
  std::vector<std::string> f;
  std::string line;
  int64_t line_no = 1;
  while (std::getline(in, line)) {
    const int64_t line_start = pos;
    pos += static_cast<int64_t>(line.size()) + 1;
    ++line_no;
    if (blank(line)) continue;
    require(split_fields(line, &f), file, ": line ", line_no,
            " has an unterminated quote (fields spanning lines are not supported)");
    require(f.size() == h, file, ": line ", line_no, " has ", f.size(), " fields; the header has ",
            h);
    scan_cells(f, line_no, scan);
    offsets.push_back(line_start);
  }
  require(!offsets.empty(), file, " is empty (no data rows after the header)");
  return offsets;
}

// Without --columns: every column whose cells are all numbers (or empty), with at least one value.
// A text column or an empty one is left out with a note; a column of numbers with a cell that is
// not one is an error naming the cell, never a column dropped in silence.
std::vector<int64_t> numeric_columns(const std::string& file,
                                     const std::vector<std::string>& header,
                                     const std::vector<ColumnScan>& scan,
                                     std::vector<std::string>* notes) {
  std::vector<int64_t> cols;
  for (size_t j = 0; j < header.size(); ++j) {
    const ColumnScan& s = scan[j];
    require(s.text == 0 || s.filled == 0, file, ": line ", s.bad_line, ", column '", header[j],
            "': '", s.bad_cell,
            "' is not a number (the column's other cells are; fix the cell, or choose the columns "
            "with --columns)");
    if (s.text == 0 && s.filled > 0) {
      cols.push_back(static_cast<int64_t>(j));
    } else if (s.text > 0) {
      notes->push_back("column '" + header[j] + "' left out: not numeric (line " +
                       std::to_string(s.bad_line) + ": '" + s.bad_cell + "')");
    } else {
      notes->push_back("column '" + header[j] + "' left out: every cell is empty");
    }
  }
  std::string names;
  for (const auto& n : header) names += (names.empty() ? "" : ", ") + n;
  require(!cols.empty(), file, ": no numeric column (columns: ", names, ")");
  return cols;
}

// One --columns entry: a header name, else a 0-based index; -1 when it is neither.
int64_t find_column(const std::string& want, const std::vector<std::string>& header) {
  const size_t h = header.size();
  int64_t idx = -1;
  for (size_t j = 0; j < h && idx < 0; ++j)
    if (header[j] == trim(want)) idx = static_cast<int64_t>(j);
  // Not a header name: a 0-based index.
  if (idx < 0 && !want.empty() && want.find_first_not_of("0123456789") == std::string::npos &&
      want.size() < 10 && std::stoll(want) < static_cast<int64_t>(h))
    idx = std::stoll(want);
  return idx;
}

// With --columns: each named column, which must exist, be numeric and hold a value.
std::vector<int64_t> chosen_columns(const std::string& file, const std::vector<std::string>& wanted,
                                    const std::vector<std::string>& header,
                                    const std::vector<ColumnScan>& scan) {
  std::vector<int64_t> cols;
  for (const auto& want : wanted) {
    const int64_t idx = find_column(want, header);
    require(idx >= 0, file, ": no column '", want,
            "' (--columns takes header names or 0-based "
            "indices; the header has ",
            header.size(), " columns)");
    for (auto c : cols)
      require(c != idx, file, ": column '", header[idx], "' is named twice in --columns");
    const ColumnScan& s = scan[idx];
    require(s.text == 0, file, ": column '", header[idx], "' is not numeric (line ", s.bad_line,
            ": '", s.bad_cell, "')");
    require(s.filled > 0, file, ": column '", header[idx], "' has no values");
    cols.push_back(idx);
  }
  return cols;
}

// The mean of each chosen column's finite cells (NaN when none), used to impute empty cells;
// without imputation an empty cell in a chosen column is an error.
std::vector<double> column_means(const std::string& file, const std::vector<std::string>& header,
                                 const std::vector<ColumnScan>& scan,
                                 const std::vector<int64_t>& cols, bool impute) {
  std::vector<double> means;
  int64_t first_empty = 0, first_empty_col = -1;
  for (auto j : cols) {
    const ColumnScan& s = scan[j];
    means.push_back(s.finite ? s.sum / static_cast<double>(s.finite)
                             : std::numeric_limits<double>::quiet_NaN());
    if (s.empty_line && (!first_empty || s.empty_line < first_empty))
      first_empty = s.empty_line, first_empty_col = j;
  }
  require(impute || first_empty == 0, file, ": line ", first_empty, ", column '",
          first_empty_col >= 0 ? header[first_empty_col] : "", "' is empty (use --impute mean)");
  return means;
}

}  // namespace

std::unique_ptr<Source> open_csv(const std::string& file, const SourceOptions& options) {
  require(options.impute == "none" || options.impute == "mean", "--impute '", options.impute,
          "' must be none or mean");
  const bool impute = options.impute == "mean";
  std::ifstream in(file, std::ios::binary);
  require(in.good(), file, ": cannot open");
  int64_t pos = 0;  // byte offset of the first data line
  const std::vector<std::string> header = read_header(in, file, &pos);
  std::vector<ColumnScan> scan(header.size());
  std::vector<int64_t> offsets = index_rows(in, file, pos, &scan);
  std::vector<std::string> notes;
  std::vector<int64_t> cols = options.columns.empty()
                                  ? numeric_columns(file, header, scan, &notes)
                                  : chosen_columns(file, options.columns, header, scan);
  std::vector<double> means = column_means(file, header, scan, cols, impute);
  return std::make_unique<CsvSource>(file, std::move(offsets), std::move(cols), std::move(means),
                                     options.check_finite, header, std::move(notes));
}

}  // namespace embcluster
