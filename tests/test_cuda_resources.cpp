// The per-device GPU resource owner: the caller's current device is restored, memory is freed on
// its own device, out-of-memory shrinks and then succeeds, and a fault is reported as itself
// (named) instead of as out-of-memory or a fall-back to the CPU. Skipped, visibly, where no CUDA
// device is present.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "backend/device_select.h"
#include "embcluster/device.h"
#include "testutil.h"

#ifdef EMBCLUSTER_HAVE_CUDA
#include <cuda_runtime.h>

#include "cuda/cuda_resources.h"
#include "cuda/gpu_resources.h"
#include "cuda/shrinking.h"
#include "kernels/selftest.cuh"
#endif

using namespace embcluster;

#define REQUIRE_DEVICE() \
  if (cuda_devices().empty()) GTEST_SKIP() << "no CUDA device"

TEST(CudaResources, DeviceListAndAutoChoice) {
  const auto devices = cuda_devices();
  std::string note;
  const int chosen = choose_cuda_device(parse_device("auto"), "using the CPU", &note);
  if (devices.empty()) {
    EXPECT_EQ(chosen, -1);
    EXPECT_FALSE(note.empty());
    return;
  }
  // auto takes a device with the most free memory (device 0 when that is unknown).
  ASSERT_GE(chosen, 0);
  for (const auto& d : devices) EXPECT_LE(d.free_bytes, devices[chosen].free_bytes) << d.index;
  for (const auto& d : devices) EXPECT_LE(d.free_bytes, d.total_bytes) << d.index;
}

#ifdef EMBCLUSTER_HAVE_CUDA

TEST(CudaResources, OneOwnerPerDeviceThatRestoresTheCurrentDevice) {
  REQUIRE_DEVICE();
  int count = 0;
  ASSERT_EQ(cudaGetDeviceCount(&count), cudaSuccess);
  const int theirs = count - 1;  // the caller's device: another one when there are two
  ASSERT_EQ(cudaSetDevice(theirs), cudaSuccess);
  GpuResources& res = gpu_resources(0);
  EXPECT_EQ(&res, &gpu_resources(0));  // opened once
  EXPECT_NE(res.name().find("(cuda:0)"), std::string::npos) << res.name();
  EXPECT_NE(res.stream(0), res.stream(1));
  EXPECT_EQ(res.stream(1), res.stream(1));
  EXPECT_NE(res.blas(0), nullptr);
  const int64_t budget = res.budget(0);
  EXPECT_GT(budget, 0);
  EXPECT_LE(res.budget(int64_t(1) << 60),
            cuda_devices()[0].total_bytes / 10 * 9);  // <= 90 %
  int current = -1;
  ASSERT_EQ(cudaGetDevice(&current), cudaSuccess);
  EXPECT_EQ(current, theirs);

  // A buffer lives on its workspace's device and is freed there, whatever is current.
  Workspace ws(0, budget);
  {
    DeviceBuffer<float> buf(ws, 1000);
    EXPECT_EQ(ws.used(), int64_t(4000));
    cudaPointerAttributes attr{};
    ASSERT_EQ(cudaPointerGetAttributes(&attr, buf.get()), cudaSuccess);
    EXPECT_EQ(attr.device, 0);
    ASSERT_EQ(cudaGetDevice(&current), cudaSuccess);
    EXPECT_EQ(current, theirs);
  }
  EXPECT_EQ(ws.used(), 0);
  EXPECT_EQ(cuda_self_test(0), "");
}

TEST(CudaResources, OutOfMemoryShrinksThenSucceeds) {
  REQUIRE_DEVICE();
  const auto devices = cuda_devices();
  Workspace ws(0, gpu_resources(0).budget(0));
  DeviceBuffer<char> buf;
  buf.bind(ws);
  // Four times the device's memory cannot be had: the request halves until it fits.
  int64_t bytes = devices[0].total_bytes * 4;
  int tries = 0;
  with_shrinking(bytes, 1 << 20, [&](int64_t b) {
    ++tries;
    buf.resize(static_cast<size_t>(b));
  });
  EXPECT_GE(tries, 3);
  EXPECT_LT(bytes, devices[0].total_bytes);
  EXPECT_EQ(static_cast<int64_t>(buf.bytes()), bytes);
  EXPECT_EQ(ws.used(), bytes);
  buf.release();
  // The error left behind is cleared: the device goes on working.
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
  EXPECT_EQ(cuda_self_test(0), "");
}

TEST(CudaResources, AFaultIsNotOutOfMemoryNorAFallBack) {
  REQUIRE_DEVICE();
  GpuResources& res = gpu_resources(0);
  Workspace ws(0, res.budget(0));
  DeviceBuffer<float> x(ws, 64), out(ws, 64);
  // A launch with no blocks fails (invalid configuration): named, not taken for out-of-memory.
  int64_t tile = 4096;
  int calls = 0;
  try {
    with_shrinking(tile, 1, [&](int64_t) {
      ++calls;
      kern::launch_row_sq_norms(x.get(), 0, 4, out.get(), res.stream(0));
    });
    FAIL() << "no exception";
  } catch (const DeviceOutOfMemory& e) {
    FAIL() << "taken for out-of-memory: " << e.what();
  } catch (const CudaError& e) {
    EXPECT_NE(std::string(e.what()).find("row_sq_norms"), std::string::npos) << e.what();
    // auto does not fall back to the CPU on it: the error propagates.
    EXPECT_THROW(auto_fallback_note(parse_device("auto"), e, "using the CPU"), CudaError);
  }
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(tile, 4096);
  // A failing call is named too.
  try {
    EMB_CUDA(
        cudaMemcpyAsync(out.get(), x.get(), 16, static_cast<cudaMemcpyKind>(99), res.stream(0)));
    FAIL() << "no exception";
  } catch (const CudaError& e) {
    EXPECT_NE(std::string(e.what()).find("cudaMemcpyAsync"), std::string::npos) << e.what();
  }
  EXPECT_EQ(cuda_self_test(0), "");  // neither error is sticky
}

TEST(CudaResources, SynchronisedLaunchesGiveTheSameResults) {
  REQUIRE_DEVICE();
  // EMBCLUSTER_CUDA_SYNC=1 only waits after each launch: K-means and DBSCAN on the device give the
  // same labels with it as without it.
  testutil::TempDir tmp;
  const std::string data = tmp.file("blobs.h5");
  ASSERT_EQ(testutil::run_cli("generate --n 3000 --d 8 --k 4 --seed 3 --quiet --out " + data), 0);
  for (const std::string cmd :
       {"kmeans " + data + ":/data -k 4", "dbscan " + data + ":/data --eps 2 --min-samples 5"}) {
    std::string out[2];
    for (int sync = 0; sync < 2; ++sync) {
      if (sync) setenv("EMBCLUSTER_CUDA_SYNC", "1", 1);
      const std::string dir = tmp.file("out" + std::to_string(sync));
      const int code =
          testutil::run_cli(cmd + " --device cuda --quiet --force --out " + dir, &out[sync]);
      unsetenv("EMBCLUSTER_CUDA_SYNC");
      ASSERT_EQ(code, 0) << cmd << (sync ? " (synchronised)" : "") << ": " << out[sync];
    }
    EXPECT_EQ(testutil::read_h5(tmp.file("out0") + "/labels.h5", "/labels"),
              testutil::read_h5(tmp.file("out1") + "/labels.h5", "/labels"))
        << cmd;
  }
}

#else

TEST(CudaResources, BuiltWithoutCuda) { GTEST_SKIP() << "no CUDA device"; }

#endif
