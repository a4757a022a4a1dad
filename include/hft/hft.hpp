// hft/hft.hpp: the umbrella header. Includes every public hft header.
// Prefer the individual headers in code that cares about compile time.
#pragma once

#include "hft/core/assert.hpp"
#include "hft/core/bits.hpp"
#include "hft/core/cache.hpp"
#include "hft/core/clock.hpp"
#include "hft/core/deadline.hpp"
#include "hft/core/cpu.hpp"
#include "hft/core/flat_index.hpp"
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
#include "hft/memory/memory_arena.hpp"
#include "hft/memory/reuse_pool.hpp"
#include "hft/memory/reuse_pool_allocator.hpp"
#include "hft/metrics/counters.hpp"
#include "hft/metrics/interval_recorder.hpp"
#include "hft/metrics/latency_histogram.hpp"
#include "hft/metrics/median_tracker.hpp"
#include "hft/metrics/moving_average.hpp"
#include "hft/metrics/rolling_stats.hpp"
#include "hft/queue/blocking_queue.hpp"
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
#include "hft/trading/types.hpp"
#include "hft/trading/vwap.hpp"

namespace hft {
inline constexpr int version_major = 0;
inline constexpr int version_minor = 1;
inline constexpr int version_patch = 0;
}  // namespace hft
