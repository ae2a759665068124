#pragma once
// RAII for HDF5 identifiers, and the lock that serialises HDF5 calls (the library is built
// without thread safety, and blocks are read ahead on a second thread).
#include <hdf5.h>

#include <mutex>

namespace embcluster {

std::mutex& h5_mutex();

class H5Id {
 public:
  H5Id() = default;
  explicit H5Id(hid_t id) : id_(id) {}
  H5Id(const H5Id&) = delete;
  H5Id& operator=(const H5Id&) = delete;
  H5Id(H5Id&& o) noexcept : id_(o.id_) { o.id_ = -1; }
  H5Id& operator=(H5Id&& o) noexcept {
    std::swap(id_, o.id_);
    return *this;
  }
  ~H5Id() {
    if (id_ >= 0) H5Idec_ref(id_);
  }
  hid_t get() const { return id_; }
  bool ok() const { return id_ >= 0; }

 private:
  hid_t id_ = -1;
};

// Turns off HDF5's own error printing: errors become embcluster::Error messages instead.
void h5_quiet();

}  // namespace embcluster
