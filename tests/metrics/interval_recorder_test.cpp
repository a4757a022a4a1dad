#include "hft/metrics/interval_recorder.hpp"

#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <vector>

#include "../support/catch.hpp"
#include "../support/scale.hpp"

using hft::IntervalRecorder;
using hft::LatencyHistogram;

TEST_CASE("IntervalRecorder: intervals partition the records", "[recorder]") {
  IntervalRecorder rec(2, {.highest_trackable = 1'000'000});
  auto w = rec.register_writer();
  for (std::uint64_t v = 1; v <= 100; ++v) w.record(v);
  LatencyHistogram first = rec.collect_interval();
  REQUIRE(first.count() == 100);
  w.record(5000, 3);
  w.record_corrected(40, 10);  // 40, 30, 20, 10
  LatencyHistogram second = rec.collect_interval();
  REQUIRE(second.count() == 7);
  REQUIRE(second.count_at(5000) == 3);
  REQUIRE(rec.collect_interval().count() == 0);  // nothing new
}

TEST_CASE("IntervalRecorder: errors are clear", "[recorder]") {
  REQUIRE_THROWS_AS(IntervalRecorder(0, {.highest_trackable = 100, .significant_digits = 2}), std::invalid_argument);
  IntervalRecorder rec(1, {.highest_trackable = 1000, .significant_digits = 2});
  (void)rec.register_writer();
  REQUIRE_THROWS_AS(rec.register_writer(), std::length_error);
  LatencyHistogram wrong({.highest_trackable = 1000});
  REQUIRE_THROWS_AS(rec.collect_interval(wrong), std::invalid_argument);
}

TEST_CASE("IntervalRecorder loses no sample with concurrent writers and a swapping reader",
          "[recorder][stress]") {
  constexpr unsigned kWriters = 3;
  const std::uint64_t per_writer = hft::test::scaled(1'000'000);
  IntervalRecorder rec(kWriters, {.highest_trackable = 1'000'000'000});
  std::vector<IntervalRecorder::Writer> writers;
  for (unsigned i = 0; i < kWriters; ++i) writers.push_back(rec.register_writer());
  std::atomic<unsigned> done{0};
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < kWriters; ++i) {
    threads.emplace_back([&, i] {
      // Writer i records only the values 1000*(i+1) and 7 (so per-value totals are checkable).
      for (std::uint64_t k = 0; k < per_writer; ++k) writers[i].record(k % 2 ? 7 : 1000 * (i + 1));
      done.fetch_add(1, std::memory_order_release);
    });
  }
  LatencyHistogram total({.highest_trackable = 1'000'000'000});
  std::uint64_t intervals = 0;
  do {  // at least one collection, even if the writers finish before this thread runs
    rec.collect_interval(total);
    ++intervals;
    std::this_thread::yield();
  } while (done.load(std::memory_order_acquire) != kWriters);
  for (auto& t : threads) t.join();
  rec.collect_interval(total);  // the tail after the last writer finished
  REQUIRE(total.count() == kWriters * per_writer);
  REQUIRE(total.count_at(7) == kWriters * (per_writer / 2));
  for (unsigned i = 0; i < kWriters; ++i) {
    REQUIRE(total.count_at(std::uint64_t{1000} * (i + 1)) == per_writer - per_writer / 2);
  }
  REQUIRE(intervals > 0);
}

TEST_CASE("IntervalRecorder::record_corrected is O(v / interval): every back-filled sample lands in one interval",
          "[recorder][lifecycle]") {
  STATIC_REQUIRE_FALSE(std::is_copy_constructible_v<IntervalRecorder>);
  STATIC_REQUIRE(std::is_trivially_copyable_v<IntervalRecorder::Writer>);
  IntervalRecorder rec(1, {.highest_trackable = 10'000'000, .significant_digits = 2});
  auto w = rec.register_writer();
  w.record_corrected(1'000'000, 1);  // a loop of a million records, not one
  const LatencyHistogram h = rec.collect_interval();
  CHECK(h.count() == 1'000'000);
  CHECK(rec.collect_interval().count() == 0);
  w.record_corrected(5, 0);  // interval 0: the value only
  CHECK(rec.collect_interval().count() == 1);
}
