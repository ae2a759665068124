#pragma once
// Errors that users can act on: bad input files, bad parameters, I/O failures.
// The message names the file, dataset, row or parameter at fault.
#include <sstream>
#include <stdexcept>
#include <string>

namespace embcluster {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

namespace detail {
inline void append(std::ostringstream&) {}
template <typename T, typename... Rest>
void append(std::ostringstream& os, const T& first, const Rest&... rest) {
  os << first;
  append(os, rest...);
}
}  // namespace detail

// Builds a message from its parts: throw_error("file ", path, ": row ", r, " is NaN").
template <typename... Parts>
[[noreturn]] void throw_error(const Parts&... parts) {
  std::ostringstream os;
  detail::append(os, parts...);
  throw Error(os.str());
}

// Checks a user-facing condition.
template <typename... Parts>
void require(bool ok, const Parts&... parts) {
  if (!ok) throw_error(parts...);
}

}  // namespace embcluster
