#pragma once
// A view of a source that refuses all-zero rows, for the cosine metric of DBSCAN and the k-distance
// curve: a zero row has no direction, and the unit-sphere distances would place it at 1/2 from
// every row and at 0 from other zero rows, joining clusters scikit-learn keeps apart.
#include <memory>

#include "embcluster/source.h"

namespace embcluster {

// Reads through inner (which must outlive the view); a zero row is an Error naming the source and
// the row.
std::unique_ptr<Source> nonzero_rows(Source& inner);

}  // namespace embcluster
