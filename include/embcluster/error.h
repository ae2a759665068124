#pragma once
// Two tiers of errors.
// - Error: what users can act on (bad input files, bad parameters, I/O failures, a device that
//   cannot be used). The message names the file, dataset, row or parameter at fault.
// - InternalError: a broken invariant of the library itself (EMBCLUSTER_ASSERT), naming the
//   source file and line. It is not an Error: code that turns an Error into a fall-back (for
//   example --device auto running on the CPU) never swallows it.
#include <sstream>
#include <stdexcept>
#include <string>

namespace embcluster {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

// A run stopped because its ExecutionContext said so (what() is "cancelled"); never a reason to
// fall back to another device.
class Cancelled : public Error {
 public:
  Cancelled() : Error("cancelled") {}
};

class InternalError : public std::logic_error {
 public:
  explicit InternalError(const std::string& what) : std::logic_error(what) {}
};

namespace detail {
inline void append(std::ostringstream&) {}
template <typename T, typename... Rest>
void append(std::ostringstream& os, const T& first, const Rest&... rest) {
  os << first;
  append(os, rest...);
}

template <typename... Parts>
[[noreturn]] void internal_error(const char* file, int line, const Parts&... parts) {
  std::ostringstream os;
  os << file << ":" << line << ": ";
  append(os, parts...);
  throw InternalError(os.str());
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

// Checks an invariant of the library (never the user's input): throws InternalError
// "file:line: assertion 'cond' failed: <message parts>".
#define EMBCLUSTER_ASSERT(cond, ...)                                                      \
  do {                                                                                   \
    if (!(cond))                                                                         \
      ::embcluster::detail::internal_error(__FILE__, __LINE__, "assertion '" #cond "' failed: ", \
                                           __VA_ARGS__);                                 \
  } while (0)

// Marks a point the code can never reach (after a switch over every enum value).
#define EMBCLUSTER_UNREACHABLE(...) \
  ::embcluster::detail::internal_error(__FILE__, __LINE__, "unreachable: ", __VA_ARGS__)
