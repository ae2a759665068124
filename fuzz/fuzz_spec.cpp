// libFuzzer target: data specs ("file.h5:/group/name"). The input is a spec: its split must give
// back the spec, and as a dataset name after a real HDF5 file (groups, a 1-D and a 2-D dataset,
// a string dataset) it is opened through open_source and read.
#include <hdf5.h>

#include "fuzz/fuzz_input.h"
#include "io/readers.h"

namespace {

char fixture_path[80];

// Memory-backed when the machine has /dev/shm: the file is opened once per input.
const char* scratch_dir() { return ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"; }

// An HDF5 file with /data (4 x 3 float32), /g/v (5, int32) and /g/s (a string), made once.
std::string fixture() {
  static const std::string path = [] {
    std::snprintf(fixture_path, sizeof fixture_path, "%s/embcluster-fuzz-spec-%d.h5", scratch_dir(),
                  static_cast<int>(::getpid()));
    const hid_t f = H5Fcreate(fixture_path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    const float data[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    const hsize_t d2[2] = {4, 3}, d1[1] = {5};
    hid_t s = H5Screate_simple(2, d2, nullptr);
    hid_t ds = H5Dcreate2(f, "/data", H5T_NATIVE_FLOAT, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
    H5Dclose(ds);
    H5Sclose(s);
    hid_t g = H5Gcreate2(f, "/g", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    s = H5Screate_simple(1, d1, nullptr);
    const int ints[5] = {1, 2, 3, 4, 5};
    ds = H5Dcreate2(g, "v", H5T_NATIVE_INT, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(ds, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, ints);
    H5Dclose(ds);
    const hid_t str = H5Tcopy(H5T_C_S1);
    H5Tset_size(str, 4);
    ds = H5Dcreate2(g, "s", str, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dclose(ds);
    H5Tclose(str);
    H5Sclose(s);
    H5Gclose(g);
    H5Fclose(f);
    std::atexit([] { std::remove(fixture_path); });
    return std::string(fixture_path);
  }();
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace embcluster;
  const std::string spec(reinterpret_cast<const char*>(data), size);
  std::string file, dataset;
  split_data_spec(spec, &file, &dataset);
  const bool whole = file == spec && dataset.empty();
  if (!whole && file + ":" + dataset != spec) std::abort();
  if (!whole && !is_hdf5_extension(lower_extension(file))) std::abort();
  // Opening HDF5 costs ~100 times the split: one input in 8 (fixed by its bytes) goes that far.
  const unsigned which = fuzz::pick(data, size, 16);
  if (which >= 2) return 0;
  const SourceOptions options = fuzz::options_for(which);
  fuzz::open_and_read([&] { return open_source(fixture() + ":" + spec, options); });
  return 0;
}
