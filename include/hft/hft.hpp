// hft/hft.hpp: the umbrella header.
// What: includes every public hft header.
// When to use: trying the library, small programs. Prefer the individual headers in code
//   that cares about compile time.
// Thread-safety: as each header documents.
// Requirements (README.md): Linux, C++20, GCC or Clang. The checks below turn the wall of
// errors an older standard or another OS would give into one message.
#pragma once

#if !defined(__linux__)
#error "hft requires Linux (it uses futex, pthread affinity, mmap and /proc); see README.md, Requirements"
#elif !defined(__GNUC__)
#error "hft requires GCC or Clang (it uses __int128, __builtin_* and inline asm); see README.md, Requirements"
#elif __cplusplus < 202002L
#error "hft requires C++20 or later: compile with -std=c++20 (CMake: the hft::hft target sets cxx_std_20)"
#else  // the headers are compiled only when the requirements hold: one error, not hundreds

#include "hft/version.hpp"

#include "hft/core/assert.hpp"
#include "hft/core/bits.hpp"
#include "hft/core/cache.hpp"
#include "hft/core/clock.hpp"
#include "hft/core/crc32c.hpp"
#include "hft/core/deadline.hpp"
#include "hft/core/cpu.hpp"
#include "hft/core/flat_index.hpp"
#include "hft/core/inflate.hpp"
#include "hft/core/thread.hpp"
#include "hft/disruptor/batch_event_processor.hpp"
#include "hft/disruptor/disruptor.hpp"
#include "hft/disruptor/event_poller.hpp"
#include "hft/disruptor/multi_producer_sequencer.hpp"
#include "hft/disruptor/ring_buffer.hpp"
#include "hft/disruptor/sequence.hpp"
#include "hft/disruptor/sequence_barrier.hpp"
#include "hft/disruptor/single_producer_sequencer.hpp"
#include "hft/disruptor/wait_strategy.hpp"
#include "hft/fix/builder.hpp"
#include "hft/fix/dictionary.hpp"
#include "hft/fix/journal_message_store.hpp"
#include "hft/fix/message.hpp"
#include "hft/fix/message_store.hpp"
#include "hft/fix/session.hpp"
#include "hft/fix/tags.hpp"
#include "hft/journal/journal.hpp"
#include "hft/journal/journal_format.hpp"
#include "hft/journal/journal_io.hpp"
#include "hft/journal/journal_reader.hpp"
#include "hft/memory/memory_arena.hpp"
#include "hft/memory/reuse_pool.hpp"
#include "hft/memory/reuse_pool_allocator.hpp"
#include "hft/metrics/counters.hpp"
#include "hft/metrics/histogram_log.hpp"
#include "hft/metrics/histogram_report.hpp"
#include "hft/metrics/interval_recorder.hpp"
#include "hft/metrics/latency_histogram.hpp"
#include "hft/metrics/moving_average.hpp"
#include "hft/metrics/p2_quantile.hpp"
#include "hft/metrics/rolling_stats.hpp"
#include "hft/metrics/sliding_median.hpp"
#include "hft/metrics/streaming_median.hpp"
#include "hft/queue/blocking_queue.hpp"
#include "hft/queue/mpmc_queue.hpp"
#include "hft/queue/mpsc_queue.hpp"
#include "hft/queue/spsc_queue.hpp"
#include "hft/sched/backpressure_guard.hpp"
#include "hft/sched/circuit_breaker.hpp"
#include "hft/sched/family_scheduler.hpp"
#include "hft/sched/rate_limiter.hpp"
#include "hft/sched/worker_pool.hpp"
#include "hft/sync/double_buffer.hpp"
#include "hft/sync/seqlock.hpp"
#include "hft/trading/market_data_generator.hpp"
#include "hft/trading/matching_engine.hpp"
#include "hft/trading/order_book_l2.hpp"
#include "hft/trading/order_book_l3.hpp"
#include "hft/trading/sorted_levels.hpp"
#include "hft/trading/tick_window_book_l2.hpp"
#include "hft/trading/types.hpp"
#include "hft/trading/vwap.hpp"

#endif
