// The device error tiers without a device: shrink-and-retry halves on out-of-memory only, and
// --device auto falls back to the CPU only for an unusable device or out-of-memory.
#include <gtest/gtest.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "backend/device_select.h"
#include "cuda/device_error.h"
#include "cuda/shrinking.h"
#include "embcluster/error.h"

using namespace embcluster;

TEST(Shrinking, HalvesOnOutOfMemoryUntilItFits) {
  int64_t tile = 1000;
  std::vector<int64_t> tried;
  const int64_t got = with_shrinking(tile, 16, [&](int64_t t) {
    tried.push_back(t);
    if (t > 200) throw DeviceOutOfMemory("no room for " + std::to_string(t));
    return t * 2;
  });
  EXPECT_EQ(tried, (std::vector<int64_t>{1000, 500, 250, 125}));
  EXPECT_EQ(tile, 125);  // the size that fitted
  EXPECT_EQ(got, 250);
}

TEST(Shrinking, StopsAtTheSmallestTile) {
  int64_t tile = 100;
  std::vector<int64_t> tried;
  try {
    with_shrinking(tile, 30, [&](int64_t t) {
      tried.push_back(t);
      throw DeviceOutOfMemory("still no room");
    });
    FAIL() << "no exception";
  } catch (const DeviceOutOfMemory& e) {
    EXPECT_STREQ(e.what(), "still no room");
  }
  EXPECT_EQ(tried, (std::vector<int64_t>{100, 50, 30}));  // never below the smallest
  EXPECT_EQ(tile, 30);
}

TEST(Shrinking, OtherErrorsPropagateAtOnce) {
  for (int kind = 0; kind < 3; ++kind) {
    int64_t tile = 1024;
    int calls = 0;
    auto fail = [&](int64_t) {
      ++calls;
      if (kind == 0) throw CudaError("CUDA error in argmin_update_kernel (launch)");
      if (kind == 1) throw Error("bad input");
      throw std::runtime_error("other");
    };
    EXPECT_ANY_THROW(with_shrinking(tile, 1, fail));
    EXPECT_EQ(calls, 1) << kind;  // no retry: a fault is not a lack of memory
    EXPECT_EQ(tile, 1024) << kind;
  }
  int64_t tile = 64;
  EXPECT_THROW(with_shrinking(tile, 1, [](int64_t) { throw CudaError("fault"); }), CudaError);
}

TEST(Shrinking, FitsOnDeviceOnlyAnswersOutOfMemory) {
  EXPECT_TRUE(fits_on_device([] {}));
  EXPECT_FALSE(fits_on_device([] { throw DeviceOutOfMemory("full"); }));
  EXPECT_THROW(fits_on_device([] { throw CudaError("fault"); }), CudaError);
  EXPECT_THROW(fits_on_device([] { throw Error("input"); }), Error);
}

namespace {
// Rethrows the error as its own type (auto_fallback_note rethrows the exception in flight).
template <class E>
std::string fallback_of(const std::string& device, const std::string& what) {
  try {
    throw E(what);
  } catch (const Error& e) {
    return auto_fallback_note(parse_device(device), e, "using the CPU");
  }
}
}  // namespace

TEST(AutoFallback, OnlyForAnUnusableDeviceOrOutOfMemory) {
  EXPECT_EQ(fallback_of<DeviceOutOfMemory>("auto", "cuda:0 is out of memory"),
            "CUDA device unusable (cuda:0 is out of memory): using the CPU");
  EXPECT_EQ(fallback_of<DeviceUnavailable>("auto", "cuda:0 failed its self-test"),
            "CUDA device unusable (cuda:0 failed its self-test): using the CPU");
  // A fault on the device, or any other error, is never turned into a note.
  EXPECT_THROW(fallback_of<CudaError>("auto", "CUDA error in exact_dist_kernel"), CudaError);
  EXPECT_THROW(fallback_of<Error>("auto", "file x: row 3 is NaN"), Error);
  // An explicit device reports every error.
  EXPECT_THROW(fallback_of<DeviceOutOfMemory>("cuda", "out of memory"), DeviceOutOfMemory);
  EXPECT_THROW(fallback_of<DeviceUnavailable>("cuda:1", "no device"), DeviceUnavailable);
}
