#pragma once
// Memory budgets: "--memory 256M" and the default share of RAM.
#include <cstdint>
#include <string>

namespace embcluster {

// Parses "123", "64K", "256M", "4G", "1T" (powers of 1024, optional trailing "B" or "iB").
// Throws Error naming `what` (the parameter) when the text is not a size.
int64_t parse_bytes(const std::string& text, const std::string& what = "--memory");

// Half of the memory available now (MemAvailable), at least 64 MiB.
int64_t default_memory_budget();

// "1.5 GiB" style rendering for messages and reports.
std::string format_bytes(int64_t bytes);

// Peak resident set size of this process so far (VmHWM), 0 when unknown.
int64_t peak_rss_bytes();

}  // namespace embcluster
