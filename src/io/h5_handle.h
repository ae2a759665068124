#pragma once
// RAII for HDF5 identifiers, and the lock that serialises HDF5 calls: Debian's HDF5 is built
// without thread safety, and blocks may be read ahead on a thread other than the opener's.
#include <hdf5.h>

#include <mutex>
#include <utility>

namespace embcluster {

// The one lock held around every HDF5 call made by embcluster (an inline function's static is
// a single object across translation units).
inline std::mutex& h5_mutex() {
  static std::mutex m;
  return m;
}

// Turns off HDF5's own error printing: failures become embcluster::Error messages instead.
// Call with h5_mutex() held.
inline void h5_quiet() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

// Owns one identifier and closes it with the close call of its kind. Must be destroyed with
// h5_mutex() held, like any other HDF5 call.
class H5Id {
 public:
  H5Id() = default;
  explicit H5Id(hid_t id) : id_(id) {}
  H5Id(const H5Id&) = delete;
  H5Id& operator=(const H5Id&) = delete;
  H5Id(H5Id&& o) noexcept : id_(std::exchange(o.id_, -1)) {}
  H5Id& operator=(H5Id&& o) noexcept {
    if (this != &o) {
      close();
      id_ = std::exchange(o.id_, -1);
    }
    return *this;
  }
  ~H5Id() { close(); }

  hid_t get() const { return id_; }
  bool ok() const { return id_ >= 0; }

  void close() {
    if (id_ < 0) return;
    switch (H5Iget_type(id_)) {
      case H5I_FILE:
        H5Fclose(id_);
        break;
      case H5I_GROUP:
        H5Gclose(id_);
        break;
      case H5I_DATASET:
        H5Dclose(id_);
        break;
      case H5I_DATASPACE:
        H5Sclose(id_);
        break;
      case H5I_DATATYPE:
        H5Tclose(id_);
        break;
      case H5I_ATTR:
        H5Aclose(id_);
        break;
      case H5I_GENPROP_LST:
        H5Pclose(id_);
        break;
      default:
        H5Idec_ref(id_);
        break;
    }
    id_ = -1;
  }

 private:
  hid_t id_ = -1;
};

}  // namespace embcluster
