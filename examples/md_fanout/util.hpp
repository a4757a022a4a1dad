// examples/md_fanout/util.hpp: the clock and the output of the md_fanout processes.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>

#include "hft/core/clock.hpp"

namespace md_fanout {

// steady_clock (CLOCK_MONOTONIC): the same timeline in every process of the machine, so a
// reader can subtract the feed's publish timestamp from its own reading.
[[nodiscard]] inline std::uint64_t now_ns() noexcept { return hft::SteadyClock{}.now_ns(); }

inline void sleep_until_ns(std::uint64_t t) {
  std::this_thread::sleep_until(std::chrono::steady_clock::time_point(std::chrono::nanoseconds(t)));
}

// printf into a std::string: the report lines are built first and written whole. A pack, not
// C varargs (cert-dcl50-cpp); every call passes a literal format and arguments cast to the
// types it names.
template <class... Args>
[[nodiscard]] std::string fmt(const char* format, Args... args) {
  char buf[512];
  const int n = std::snprintf(buf, sizeof buf, format, args...);
  return std::string(buf, n < 0 ? 0 : std::min<std::size_t>(static_cast<std::size_t>(n), sizeof buf - 1));
}

// One line, "[label] text", in one write: four processes share the demo's stdout (a pipe
// under ctest), and a write of less than PIPE_BUF bytes is never interleaved with another.
inline void line(const std::string& label, const std::string& text) {
  const std::string s = "[" + label + "] " + text + "\n";
  (void)std::fwrite(s.data(), 1, s.size(), stdout);
  (void)std::fflush(stdout);
}

}  // namespace md_fanout
