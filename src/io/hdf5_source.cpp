// HDF5 datasets read by hyperslab, converted to float32 by HDF5 itself.
#include <string>
#include <vector>

#include "embcluster/error.h"
#include "io/h5_handle.h"
#include "io/readers.h"

namespace embcluster {
namespace {

// HDF5 closes whatever is still open when the process exits; after a failed write (a full disk, a
// file size limit) that pass crashes inside the library. Every file here is closed by its owner
// (H5Id) before exit, so the library's exit pass is turned off, once, as the library loads and
// before any other HDF5 call.
const bool kNoHdf5AtExit = H5dont_atexit() >= 0;

std::string type_name(hid_t type) {
  const H5T_class_t cls = H5Tget_class(type);
  const size_t size = H5Tget_size(type);
  if (cls == H5T_FLOAT) return "float" + std::to_string(size * 8);
  if (cls == H5T_INTEGER) {
    const bool is_signed = H5Tget_sign(type) == H5T_SGN_2;
    return std::string(is_signed ? "int" : "uint") + std::to_string(size * 8);
  }
  switch (cls) {
    case H5T_STRING:
      return "string";
    case H5T_COMPOUND:
      return "compound";
    case H5T_ENUM:
      return "enum";
    case H5T_ARRAY:
      return "array";
    case H5T_OPAQUE:
      return "opaque";
    case H5T_BITFIELD:
      return "bitfield";
    case H5T_REFERENCE:
      return "reference";
    case H5T_VLEN:
      return "variable-length";
    case H5T_TIME:
      return "time";
    default:
      return "unknown";
  }
}

// The innermost message on HDF5's error stack ("truncated file: eof = ..."), or "".
std::string last_h5_error() {
  std::string msg;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_UPWARD,
      [](unsigned n, const H5E_error2_t* e, void* data) -> herr_t {
        if (n == 0 && e->desc) *static_cast<std::string*>(data) = e->desc;
        return 0;
      },
      &msg);
  return msg;
}

// Caller holds h5_mutex().
H5Id open_file(const std::string& file) {
  h5_quiet();
  require(H5Fis_hdf5(file.c_str()) > 0, file, ": not an HDF5 file (or corrupt)");
  H5Id f(H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
  if (!f.ok()) {
    const std::string why = last_h5_error();
    throw_error(file, ": cannot open as HDF5 (truncated or corrupt?", why.empty() ? "" : ": ", why,
                ")");
  }
  return f;
}

herr_t collect(hid_t loc, const char* name, const H5O_info_t* info, void* data) {
  if (info->type != H5O_TYPE_DATASET) return 0;
  auto* out = static_cast<std::vector<DatasetInfo>*>(data);
  H5Id ds(H5Dopen2(loc, name, H5P_DEFAULT));
  if (!ds.ok()) return 0;
  H5Id space(H5Dget_space(ds.get()));
  H5Id type(H5Dget_type(ds.get()));
  DatasetInfo d;
  d.path = std::string("/") + name;
  const int rank = space.ok() ? H5Sget_simple_extent_ndims(space.get()) : 0;
  if (rank > 0) {
    std::vector<hsize_t> dims(static_cast<size_t>(rank));
    H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
    for (auto v : dims) d.shape.push_back(static_cast<int64_t>(v));
  }
  d.dtype = type.ok() ? type_name(type.get()) : "unknown";
  out->push_back(std::move(d));
  return 0;
}

std::vector<DatasetInfo> datasets_of(hid_t f) {
  std::vector<DatasetInfo> out;
  H5Ovisit(f, H5_INDEX_NAME, H5_ITER_INC, collect, &out);
  return out;
}

std::string listing(const std::vector<DatasetInfo>& all) {
  std::string s;
  for (const auto& d : all) s += (s.empty() ? "" : ", ") + d.path;
  return s.empty() ? std::string("none") : s;
}

class Hdf5Source final : public Source {
 public:
  Hdf5Source(std::string name, H5Id file, H5Id ds, int64_t rows, int64_t cols, int rank,
             std::string dtype, bool check)
      : Source(std::move(name), rows, cols, std::move(dtype), check),
        file_(std::move(file)),
        ds_(std::move(ds)),
        rank_(rank) {}

  ~Hdf5Source() override {
    std::lock_guard<std::mutex> lock(h5_mutex());
    ds_.close();
    file_.close();
  }

 protected:
  void read_rows(int64_t start, int64_t count, float* out) override {
    read_as(H5T_NATIVE_FLOAT, start, count, out);
  }
  // HDF5 converts every integer type to double exactly up to 2^53.
  void read_rows_f64(int64_t start, int64_t count, double* out) override {
    read_as(H5T_NATIVE_DOUBLE, start, count, out);
  }

 private:
  void read_as(hid_t mem_type, int64_t start, int64_t count, void* out) {
    std::lock_guard<std::mutex> lock(h5_mutex());
    h5_quiet();
    H5Id fspace(H5Dget_space(ds_.get()));
    hsize_t off[2] = {hsize_t(start), 0};
    hsize_t cnt[2] = {hsize_t(count), hsize_t(cols())};
    bool ok = fspace.ok() &&
              H5Sselect_hyperslab(fspace.get(), H5S_SELECT_SET, off, nullptr, cnt, nullptr) >= 0;
    H5Id mspace(H5Screate_simple(rank_, cnt, nullptr));
    ok = ok && mspace.ok() &&
         H5Dread(ds_.get(), mem_type, mspace.get(), fspace.get(), H5P_DEFAULT, out) >= 0;
    require(ok, name(), ": read failed at rows ", start, "..", start + count - 1,
            " (file truncated or corrupt?)");
  }

  H5Id file_, ds_;
  int rank_;
};

}  // namespace

std::vector<DatasetInfo> list_hdf5(const std::string& file) {
  std::lock_guard<std::mutex> lock(h5_mutex());
  H5Id f = open_file(file);
  return datasets_of(f.get());
}

std::unique_ptr<Source> open_hdf5(const std::string& file, const std::string& dataset,
                                  const SourceOptions& options) {
  std::lock_guard<std::mutex> lock(h5_mutex());
  H5Id f = open_file(file);
  const auto all = datasets_of(f.get());
  std::string path = dataset;
  if (!path.empty() && path[0] != '/') path = "/" + path;
  if (path.empty()) {
    std::vector<std::string> two_d;
    bool has_data = false;
    for (const auto& d : all) {
      if (d.shape.size() == 2) two_d.push_back(d.path);
      has_data |= d.path == "/data";
    }
    if (two_d.size() == 1) {
      path = two_d[0];
    } else if (has_data) {
      path = "/data";
    } else {
      throw_error(file, ": ", two_d.empty() ? "no 2-D dataset" : "several 2-D datasets",
                  "; name one as ", file, ":/name (datasets: ", listing(all), ")");
    }
  }
  const std::string name = file + ":" + path;
  // H5Lexists fails (negative) when an intermediate group is missing: also "no dataset".
  require(path != "/" && H5Lexists(f.get(), path.c_str(), H5P_DEFAULT) > 0, file, ": no dataset ",
          path, " (datasets: ", listing(all), ")");
  H5O_info_t info;
  require(H5Oget_info_by_name(f.get(), path.c_str(), &info, H5P_DEFAULT) >= 0 &&
              info.type == H5O_TYPE_DATASET,
          file, ": ", path, " is not a dataset (datasets: ", listing(all), ")");
  H5Id ds(H5Dopen2(f.get(), path.c_str(), H5P_DEFAULT));
  require(ds.ok(), name, ": cannot open the dataset (corrupt file?)");

  H5Id type(H5Dget_type(ds.get()));
  require(type.ok(), name, ": cannot read the element type (corrupt file?)");
  const H5T_class_t cls = H5Tget_class(type.get());
  require(cls == H5T_FLOAT || cls == H5T_INTEGER, name, " has type ", type_name(type.get()),
          "; expected numbers");

  H5Id space(H5Dget_space(ds.get()));
  require(space.ok(), name, ": cannot read the shape (corrupt file?)");
  const int rank = H5Sget_simple_extent_ndims(space.get());
  require(rank == 2 || (rank == 1 && options.allow_1d), name, " is ", rank,
          "-D; expected a 2-D dataset");
  hsize_t dims[2] = {0, 1};
  H5Sget_simple_extent_dims(space.get(), dims, nullptr);
  require(dims[0] > 0, name, " is empty (0 rows)");
  require(dims[1] > 0, name, " has 0 columns");
  return std::make_unique<Hdf5Source>(name, std::move(f), std::move(ds), int64_t(dims[0]),
                                      int64_t(dims[1]), rank, type_name(type.get()),
                                      options.check_finite);
}

}  // namespace embcluster
