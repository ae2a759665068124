#pragma once
// The format readers behind open_source().
#include <memory>
#include <string>
#include <vector>

#include "embcluster/source.h"

namespace embcluster {

std::unique_ptr<Source> open_hdf5(const std::string& file, const std::string& dataset,
                                  const SourceOptions& options);
std::vector<DatasetInfo> list_hdf5(const std::string& file);
std::unique_ptr<Source> open_npy(const std::string& file, const SourceOptions& options);
std::unique_ptr<Source> open_vecs(const std::string& file, const std::string& ext,
                                  const SourceOptions& options);
std::unique_ptr<Source> open_csv(const std::string& file, const SourceOptions& options);

// IEEE half to float (subnormals, infinities and NaN included).
float half_to_float(uint16_t h);

}  // namespace embcluster
