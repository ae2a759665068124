#include "io/safe_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

#include "embcluster/error.h"

namespace embcluster {

std::string random_suffix() {
  std::random_device rd;
  const uint64_t v = (uint64_t(rd()) << 32) ^ rd();
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

FILE* open_for_writing_nofollow(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int err = errno;
    throw_error(path, ": cannot create: ",
                err == ELOOP ? "it is a symbolic link (not followed)" : std::strerror(err));
  }
  FILE* f = ::fdopen(fd, "wb");
  if (!f) {
    const int err = errno;
    ::close(fd);
    throw_error(path, ": cannot create: ", std::strerror(err));
  }
  return f;
}

}  // namespace embcluster
