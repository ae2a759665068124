#pragma once
// What the Python module's functions share: the data argument (a float32 C-contiguous array used
// in place, or a data spec opened by the library's readers), the execution context built from
// the keyword arguments (with Ctrl-C as its cancellation), and numpy arrays that take over the
// library's result vectors without a copy.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "embcluster/context.h"
#include "embcluster/source.h"

namespace embcluster::py {

namespace nb = nanobind;

using FloatMatrix = nb::ndarray<const float, nb::ndim<2>, nb::c_contig, nb::device::cpu>;
using Rows = nb::ndarray<const int64_t, nb::ndim<1>, nb::c_contig, nb::device::cpu>;
using WeightVector = nb::ndarray<const double, nb::ndim<1>, nb::c_contig, nb::device::cpu>;

// A source over `data`: a str is a data spec ("x.h5:/data", "x.npy", ...); anything else must be
// a float32 C-contiguous 2-D array (the Python side converts other inputs), wrapped without a copy.
// The array stays owned by the caller's object for the length of the call.
std::unique_ptr<Source> make_source(const nb::handle& data);

// The run's context and the state of its cancellation: Ctrl-C (Python's SIGINT handler, polled
// with the GIL taken briefly) or an exception raised by the progress callback stop the run
// through ExecutionContext::cancelled.
class Run {
 public:
  Run(int threads, int64_t memory, const std::string& device, int64_t device_memory);
  const ExecutionContext& ctx() const { return ctx_; }
  // Calls fn(arg) with the GIL held; an exception it raises stops the run (rethrown by finish).
  void report(const nb::handle& fn, const nb::dict& arg);
  // Call when the library throws Cancelled (or anything): raises KeyboardInterrupt or the
  // callback's exception when that stopped the run, else returns.
  void raise_if_stopped();

 private:
  bool poll();
  ExecutionContext ctx_;
  bool interrupted_ = false;
  std::optional<nb::python_error> callback_error_;
};

// A numpy array that owns `v` (moved to the heap, freed with the array).
template <typename T>
nb::object to_numpy(std::vector<T>&& v, std::initializer_list<size_t> shape) {
  auto* owned = new std::vector<T>(std::move(v));
  nb::capsule owner(owned, [](void* p) noexcept { delete static_cast<std::vector<T>*>(p); });
  return nb::cast(nb::ndarray<nb::numpy, T>(owned->data(), shape.size(), shape.begin(), owner));
}

// Runs fn (a call into the library) with the GIL released; a Cancelled run raises
// KeyboardInterrupt or the progress callback's exception. Library errors reach the module's
// exception translator.
template <typename Fn>
auto without_gil(Run& run, Fn&& fn) {
  try {
    nb::gil_scoped_release release;
    return fn();
  } catch (...) {
    run.raise_if_stopped();
    throw;
  }
}

// The given rows of data (ascending row numbers), as a float32 array.
nb::object take_rows(const nb::handle& data, const Rows& rows);

void bind_kmeans(nb::module_& m);
void bind_dbscan(nb::module_& m);
void bind_metrics(nb::module_& m);

}  // namespace embcluster::py
