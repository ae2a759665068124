// The CUDA module as the library loads it: found beside the library, with a table of this build,
// and answering like the library's entry points. Runs on machines without a device as well: the
// module loads without a driver, and its errors reach the library as embcluster::Error.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <string>

#include "backend/cuda_loader.h"
#include "backend/cuda_module.h"
#include "cuda/cuda_backend.h"
#include "embcluster/device.h"
#include "embcluster/error.h"
#include "testutil.h"

using namespace embcluster;

namespace {

// The module opened directly, whatever the driver says; null in a build without CUDA.
const CudaModuleTable* open_table() {
  const std::string path = find_cuda_module();
  if (path.empty()) return nullptr;
  void* module = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  EXPECT_NE(module, nullptr) << dlerror();
  if (!module) return nullptr;
  using EntryFn = const CudaModuleTable* (*)();
  auto entry = reinterpret_cast<EntryFn>(dlsym(module, EMBCLUSTER_CUDA_MODULE_ENTRY));
  EXPECT_NE(entry, nullptr);
  return entry ? entry() : nullptr;
}

}  // namespace

TEST(CudaModule, StatusMatchesTheBuild) {
  const auto& s = cuda_module_status();
  if (s.state == CudaModuleState::absent) {
    EXPECT_FALSE(cuda_built());
    EXPECT_TRUE(s.path.empty());
    EXPECT_TRUE(cuda_devices().empty());
    EXPECT_EQ(cuda_self_test(0), "this build has no CUDA backend");
    EXPECT_ERROR(make_cuda_kmeans_backend(KMeansParams{}, ExecutionContext{}, 0),
                 "this build has no CUDA backend");
    return;
  }
  EXPECT_NE(s.path.find("libembcluster_cuda.so"), std::string::npos) << s.path;
  if (s.state == CudaModuleState::no_device) {
    EXPECT_TRUE(cuda_built());
    EXPECT_TRUE(cuda_devices().empty());
    EXPECT_FALSE(s.detail.empty());
    EXPECT_ERROR(make_cuda_kmeans_backend(KMeansParams{}, ExecutionContext{}, 0),
                 "--device: no CUDA device");
  } else {
    EXPECT_EQ(s.state, CudaModuleState::loaded) << s.detail;
    EXPECT_TRUE(cuda_built());
  }
}

TEST(CudaModule, TableIsThisBuildsAndItsErrorsAreErrors) {
  const CudaModuleTable* t = open_table();
  if (!t) GTEST_SKIP() << "no CUDA module in this build";
  EXPECT_EQ(t->abi, kCudaModuleAbi);
  EXPECT_STREQ(t->version, EMBCLUSTER_TEST_VERSION);
  ASSERT_TRUE(t->devices && t->self_test && t->make_kmeans_backend && t->make_cluster_sums &&
              t->make_dbscan_passes);
  const auto devices = t->devices();
  EXPECT_EQ(devices.size(), cuda_devices().size());
  if (!devices.empty()) return;
  // Without a device the module's own calls fail, and the library catches what they throw.
  EXPECT_FALSE(t->self_test(0).empty());
  EXPECT_NE(
      testutil::error_of([&] { t->make_kmeans_backend(KMeansParams{}, ExecutionContext{}, 0); }),
      "(no error)");
  EXPECT_NE(testutil::error_of([&] { t->make_cluster_sums(0, TileMetric::euclidean, 3, 4, 0); }),
            "(no error)");
}

TEST(CudaModule, OverrideNamesTheOnlyPlaceLooked) {
  const char* before = std::getenv("EMBCLUSTER_CUDA_MODULE");
  setenv("EMBCLUSTER_CUDA_MODULE", "/nonexistent/libembcluster_cuda.so", 1);
  EXPECT_EQ(find_cuda_module(), "");
  if (before)
    setenv("EMBCLUSTER_CUDA_MODULE", before, 1);
  else
    unsetenv("EMBCLUSTER_CUDA_MODULE");
}
