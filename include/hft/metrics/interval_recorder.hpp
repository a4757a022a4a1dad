// hft/metrics/interval_recorder.hpp: IntervalRecorder, latency recording from many
// threads with interval snapshots that never stop the writers.
//
// What: each writer thread registers once and gets a Writer that records into its own
//   pair of LatencyHistograms (an active one and an idle one). A reader calls
//   collect_interval(): for each writer it flips which histogram is active, waits for
//   the at most one record that may still be running on the old one, merges it into the
//   caller's histogram and resets it. This is HdrHistogram's Recorder /
//   WriterReaderPhaser idea, with one phaser per writer so that writers share no cache
//   line with each other (HdrHistogram's Recorder shares one phaser and one
//   ConcurrentHistogram between all writers, whose records then contend).
// When to use: several threads record latencies and a monitor prints a p99 every
//   second. When not: one thread records and reads (use LatencyHistogram directly).
//
// Thread-safety:
//   register_writer(): any thread (internally locked; not for hot paths).
//   Writer::record*(): only the thread that owns that Writer (one thread at a time per
//     Writer; hand a Writer over only through synchronisation).
//   collect_interval(): any thread; concurrent calls are serialised by a mutex.
// Progress: Writer::record is wait-free and O(1) (two atomic fetch_adds plus a
//   LatencyHistogram record; no loop, no lock). Writer::record_corrected is wait-free but
//   O(min(v, highest) / expected_interval): it records the back-filled samples in a loop, inside one
//   phase. collect_interval blocks only while a writer is inside a record call (bounded,
//   a few ns for record; for record_corrected, the length of its loop; longer if that
//   writer is preempted mid-record).
// Memory ordering: a writer's record is bracketed by fetch_add(acquire) on its start
//   epoch and fetch_add(release) on the end epoch of the phase it saw. The reader's
//   exchange(acq_rel) of the start epoch publishes its reset of the idle histogram to
//   every later record; its acquire load of the old phase's end epoch, once equal to the
//   start epoch it swapped out, makes every record of the old phase visible before the
//   merge. Everything is std::atomic, so ThreadSanitizer checks it.
// Complexity: record O(1); record_corrected O(min(v, highest) / expected_interval). collect_interval
//   O(writers x occupied span of each histogram).
// Compared with: HdrHistogram's Recorder (one WriterReaderPhaser and one
//   ConcurrentHistogram for every writer, whose records contend on shared lines); here
//   one phaser and one histogram pair per writer, so writers share nothing.
// Lifecycle: IntervalRecorder is not copyable or movable (Writers point into it); a Writer
//   is a copyable handle that must not outlive its recorder.
// Memory: 2 x max_writers histograms, allocated by the constructor; nothing afterwards.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "hft/core/cache.hpp"
#include "hft/core/cpu.hpp"
#include "hft/metrics/latency_histogram.hpp"

namespace hft {

/// A LatencyHistogram that many threads record into while one reader takes interval snapshots,
/// without locks on the recording path (a slot and two histograms per writer).
class IntervalRecorder {
  static constexpr std::int64_t kOddPhaseStart = std::numeric_limits<std::int64_t>::min();

  struct alignas(cache_line_size) Slot {
    // Even phase: the start epoch counts up from 0; odd phase: from INT64_MIN. Its sign
    // tells a writer which histogram is active.
    std::atomic<std::int64_t> start_epoch{0};
    std::atomic<std::int64_t> even_end_epoch{0};
    std::atomic<std::int64_t> odd_end_epoch{kOddPhaseStart};
    LatencyHistogram histograms[2];  // [0] active in the even phase, [1] in the odd

    explicit Slot(const LatencyHistogramConfig& cfg) : histograms{LatencyHistogram(cfg), LatencyHistogram(cfg)} {}
  };

 public:
  /// A recording handle for one thread. Cheap to copy; all copies write the same slot,
  /// so only one thread at a time may use them.
  class Writer {
   public:
    /// Owner thread only. Wait-free.
    void record(std::uint64_t v, std::uint64_t count = 1) noexcept {
      // Acquire pairs with the reader's exchange in flip(): the reset of the histogram
      // we are about to write is visible.
      const std::int64_t epoch = slot_->start_epoch.fetch_add(1, std::memory_order_acquire);
      const bool odd = epoch < 0;
      slot_->histograms[odd ? 1 : 0].record(v, count);
      // Release pairs with the reader's acquire load in flip(): our record is visible
      // to the merge.
      (odd ? slot_->odd_end_epoch : slot_->even_end_epoch).fetch_add(1, std::memory_order_release);
    }
    /// Owner thread only. HdrHistogram's coordinated-omission correction (see
    /// LatencyHistogram::record_corrected); the back-filled samples land in one interval.
    /// Wait-free but O(min(v, highest) / expected_interval): not a hot-path call for large ratios.
    void record_corrected(std::uint64_t v, std::uint64_t expected_interval) noexcept {
      const std::int64_t epoch = slot_->start_epoch.fetch_add(1, std::memory_order_acquire);  // as in record()
      const bool odd = epoch < 0;
      slot_->histograms[odd ? 1 : 0].record_corrected(v, expected_interval);
      (odd ? slot_->odd_end_epoch : slot_->even_end_epoch).fetch_add(1, std::memory_order_release);  // as in record()
    }

   private:
    friend class IntervalRecorder;
    explicit Writer(Slot* s) noexcept : slot_(s) {}
    Slot* slot_;
  };

  /// Room for `max_writers` writers, each recording into histograms of `histogram`.
  /// Throws std::invalid_argument for max_writers == 0 or a bad histogram configuration.
  explicit IntervalRecorder(std::size_t max_writers, const LatencyHistogramConfig& histogram = {})
      : config_(histogram) {
    if (max_writers == 0) throw std::invalid_argument("hft::IntervalRecorder: max_writers must be >= 1, got 0");
    slots_.reserve(max_writers);
    for (std::size_t i = 0; i < max_writers; ++i) slots_.push_back(std::make_unique<Slot>(histogram));
  }

  IntervalRecorder(const IntervalRecorder&) = delete;
  IntervalRecorder& operator=(const IntervalRecorder&) = delete;

  /// Any thread. Hands out the next free slot; throws std::length_error once
  /// max_writers have been registered.
  [[nodiscard]] Writer register_writer() {
    std::lock_guard lock(mutex_);
    if (registered_ == slots_.size()) {
      throw std::length_error("hft::IntervalRecorder: all " + std::to_string(slots_.size()) +
                              " writer slots are taken (raise max_writers)");
    }
    return Writer(slots_[registered_++].get());
  }

  /// Any thread (serialised). Adds everything recorded since the previous call into
  /// `into`, which must have this recorder's histogram configuration
  /// (std::invalid_argument otherwise). Writers keep recording throughout.
  void collect_interval(LatencyHistogram& into) {
    if (into.config() != config_) {
      throw std::invalid_argument("hft::IntervalRecorder::collect_interval: histogram configuration differs");
    }
    std::lock_guard lock(mutex_);
    for (std::size_t i = 0; i < registered_; ++i) {
      Slot& s = *slots_[i];
      LatencyHistogram& idle = flip(s);
      into.merge(idle);
      idle.reset();
    }
  }

  /// Convenience: a new histogram with the interval's records (allocates).
  [[nodiscard]] LatencyHistogram collect_interval() {
    LatencyHistogram h(config_);
    collect_interval(h);
    return h;
  }

  /// The number of writer slots given at construction.
  [[nodiscard]] std::size_t max_writers() const noexcept { return slots_.size(); }

 private:
  // Switches the slot's phase and returns the histogram of the phase that just ended,
  // once no writer is still recording into it.
  static LatencyHistogram& flip(Slot& s) {
    const bool next_is_even = s.start_epoch.load(std::memory_order_relaxed) < 0;
    const std::int64_t next_start = next_is_even ? 0 : kOddPhaseStart;
    // Reset the next phase's end epoch before any writer can enter that phase; the
    // exchange below (release) publishes this store to them.
    (next_is_even ? s.even_end_epoch : s.odd_end_epoch).store(next_start, std::memory_order_relaxed);
    // acq_rel: release pairs with the writers' acquire fetch_add (they see the reset
    // histogram and end epoch); acquire orders our later reads after the swap.
    const std::int64_t started = s.start_epoch.exchange(next_start, std::memory_order_acq_rel);
    std::atomic<std::int64_t>& ended = next_is_even ? s.odd_end_epoch : s.even_end_epoch;
    // Acquire pairs with the writers' release fetch_add on the old phase's end epoch:
    // once every started record has ended, all of them are visible.
    for (int spins = 0; ended.load(std::memory_order_acquire) != started; ++spins) {
      if (spins < 64) {
        cpu_relax();
      } else {
        std::this_thread::yield();  // the writer was preempted mid-record
      }
    }
    return s.histograms[next_is_even ? 1 : 0];
  }

  LatencyHistogramConfig config_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::size_t registered_ = 0;  // guarded by mutex_
  std::mutex mutex_;
};

}  // namespace hft
