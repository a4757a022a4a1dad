// hft/core/deadline.hpp: deadline_after(timeout), now + timeout on steady_clock without
// overflow.
//
// What: the time point `timeout` from now, saturated to steady_clock::time_point::max()
//   when the sum would not fit (nanoseconds::max(), hours::max(), duration<double>
//   infinity all mean "wait forever"); a zero or negative timeout is now. Every timed
//   wait in hft (BlockingQueue::*_for, Disruptor::shutdown, the timed wait strategies)
//   computes its deadline here, so "forever" never wraps into "already expired", and no
//   timeout is signed-overflow UB.
// When to use: turning a caller's timeout into a deadline for wait_until. When not:
//   system_clock deadlines (wall time can step).
// Thread-safety: a pure function of its argument and steady_clock::now(); any thread.
// Progress: wait-free, O(1). Complexity: one clock read, a few compares.
#pragma once

#include <chrono>
#include <cmath>

namespace hft {

/// steady_clock::now() + timeout, saturated: never earlier than now, max() if it overflows.
template <class Rep, class Period>
[[nodiscard]] std::chrono::steady_clock::time_point deadline_after(
    std::chrono::duration<Rep, Period> timeout) noexcept {
  using clock = std::chrono::steady_clock;
  const clock::time_point now = clock::now();
  if (timeout <= timeout.zero()) return now;
  // Compare in double seconds, which cannot overflow the way converting hours::max() to
  // nanoseconds would; the one-second margin covers the double's rounding (about 2 us at
  // 292 years), so the exact sum below always fits.
  const double room = std::chrono::duration<double>(clock::time_point::max() - now).count() - 1.0;
  const double want = std::chrono::duration<double>(timeout).count();
  if (std::isnan(want) || want >= room) return clock::time_point::max();
  return now + std::chrono::ceil<clock::duration>(timeout);
}

}  // namespace hft
