#pragma once
// Preparing rows on their way in: standard scaling and L2 normalisation, applied block by block
// as the rows are read, so prepared data never needs a copy of the file.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "embcluster/context.h"
#include "embcluster/source.h"

namespace embcluster {

// mode: "none" (returns inner), "standard" (zero mean, unit variance per feature, as scikit-learn
// StandardScaler: population variance, a constant feature is left centred), "l2" (every row
// scaled to unit length; zero rows stay zero). "standard" reads the data once for the statistics,
// in blocks within ctx's memory budget, on ctx's threads.
std::unique_ptr<Source> prepare_source(std::unique_ptr<Source> inner, const std::string& mode,
                                       const ExecutionContext& ctx = {});

}  // namespace embcluster
