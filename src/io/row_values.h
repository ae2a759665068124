#pragma once
// Files of one value per data row (labels, sample weights): a one-column dataset, CSV column or
// 1-D array, checked against the data's rows and read exactly as double (never through float32).
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "embcluster/source.h"

namespace embcluster {

// Opens spec as the `what` of data with expected_rows rows ("labels", "weights"). An HDF5 file
// without a dataset: its /<what>, or its only dataset. Throws Error naming the file when it has
// more than one column or another number of rows (with a hint for a CSV file without header).
std::unique_ptr<Source> open_row_values(const std::string& spec, const std::string& what,
                                        int64_t expected_rows);

// Calls fn(first_row, values, count) for consecutive chunks of src's single column, as double.
void for_each_value_chunk(Source& src,
                          const std::function<void(int64_t, const double*, int64_t)>& fn);

}  // namespace embcluster
