// The embcluster._core extension: the library's entry points for the Python package
// (python/embcluster), which adds the scikit-learn estimators on top.
#include <Python.h>

#include <new>
#include <string>

#include "bindings.h"
#include "embcluster/device.h"
#include "embcluster/enums.h"
#include "embcluster/error.h"
#include "embcluster/memory.h"

namespace embcluster::py {

std::unique_ptr<Source> make_source(const nb::handle& data) {
  if (nb::isinstance<nb::str>(data)) return open_source(nb::cast<std::string>(data));
  FloatMatrix a;
  if (!nb::try_cast(data, a, false)) {
    throw nb::type_error("data must be a float32 C-contiguous 2-D array or a data spec string");
  }
  return memory_source(a.data(), static_cast<int64_t>(a.shape(0)), static_cast<int64_t>(a.shape(1)),
                       "array");
}

Run::Run(int threads, int64_t memory, const std::string& device, int64_t device_memory) {
  ctx_.threads = threads;
  ctx_.memory_budget = memory;
  ctx_.device = parse_device(device);
  ctx_.device_memory_budget = device_memory;
  ctx_.cancelled = [this] { return poll(); };
  check_context(ctx_);
}

bool Run::poll() {
  nb::gil_scoped_acquire gil;
  if (interrupted_ || callback_error_) return true;
  // Runs Python's SIGINT handler when a Ctrl-C came; its KeyboardInterrupt is raised again once
  // the library has stopped and unwound.
  if (PyErr_CheckSignals() != 0) {
    PyErr_Clear();
    interrupted_ = true;
  }
  return interrupted_;
}

void Run::report(const nb::handle& fn, const nb::dict& arg) {
  nb::gil_scoped_acquire gil;  // also guards callback_error_
  if (callback_error_) return;
  try {
    fn(arg);
  } catch (nb::python_error& e) {
    callback_error_.emplace(std::move(e));
  }
}

void Run::raise_if_stopped() {
  if (callback_error_) {
    nb::python_error e = std::move(*callback_error_);
    callback_error_.reset();
    throw e;
  }
  if (interrupted_) {
    interrupted_ = false;
    PyErr_SetNone(PyExc_KeyboardInterrupt);
    throw nb::python_error();
  }
}

nb::object take_rows(const nb::handle& data, const Rows& rows) {
  auto source = make_source(data);
  const int64_t d = source->cols(), m = static_cast<int64_t>(rows.shape(0));
  std::vector<float> out(static_cast<size_t>(m * d));
  {
    nb::gil_scoped_release release;
    // Runs of consecutive rows are read at once.
    for (int64_t i = 0; i < m;) {
      int64_t j = i + 1;
      while (j < m && rows.data()[j] == rows.data()[j - 1] + 1) ++j;
      source->read(rows.data()[i], j - i, out.data() + i * d);
      i = j;
    }
  }
  return to_numpy(std::move(out), {static_cast<size_t>(m), static_cast<size_t>(d)});
}

namespace {

bool contains(const std::string& text, const char* part) {
  return text.find(part) != std::string::npos;
}

// The library's one-line messages, as the Python exception a caller would catch.
void translate(const std::exception_ptr& p, void*) {
  try {
    std::rethrow_exception(p);
  } catch (const Error& e) {
    const std::string what = e.what();
    if (contains(what, ": no such file") || contains(what, ": cannot open")) {
      PyErr_SetString(PyExc_FileNotFoundError, e.what());
    } else if (contains(what, "out of memory") || contains(what, "more than the memory budget")) {
      PyErr_SetString(PyExc_MemoryError, e.what());
    } else {
      PyErr_SetString(PyExc_ValueError, e.what());
    }
  } catch (const std::bad_alloc&) {
    PyErr_SetString(PyExc_MemoryError, "out of memory");
  } catch (const InternalError& e) {
    PyErr_SetString(PyExc_RuntimeError, e.what());
  }
}

}  // namespace
}  // namespace embcluster::py

NB_MODULE(_core, m) {
  namespace nb = nanobind;
  namespace py = embcluster::py;
  using namespace nb::literals;
  m.doc() = "embcluster's C++ library (the scikit-learn estimators are in embcluster)";
  nb::register_exception_translator(py::translate);
  m.def("parse_bytes",
        [](const std::string& text) { return embcluster::parse_bytes(text, "memory"); });
  m.def("source_shape", [](const std::string& spec) -> nb::tuple {
    auto s = embcluster::open_source(spec);
    return nb::make_tuple(s->rows(), s->cols());
  });
  m.def("take_rows", &py::take_rows, "data"_a, "rows"_a);
  m.def("cuda_built", &embcluster::cuda_built);
  m.def("cuda_device_count", [] { return embcluster::cuda_devices().size(); });
  py::bind_kmeans(m);
  py::bind_dbscan(m);
  py::bind_metrics(m);
}
