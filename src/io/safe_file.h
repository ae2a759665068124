#pragma once
// Files created so that nobody else's name can redirect them: unpredictable temporary names, and
// opens that never follow a symbolic link planted at the path (a run as root must not truncate a
// file it was never asked to touch).
#include <cstdio>
#include <string>

namespace embcluster {

// 16 hex digits from the system's random source: part of every temporary name.
std::string random_suffix();

// Opens path for writing as a regular file: created if missing (0644 before umask), truncated if
// it is a regular file, refused (Error naming the path) if it is a symbolic link or cannot be
// created. The caller closes the FILE.
FILE* open_for_writing_nofollow(const std::string& path);

}  // namespace embcluster
