// Every aggregate a user builds with designated initializers (docs/style.md, "Construction")
// gives every member a default member initializer, so naming only some fields does not warn
// under g++'s -Wextra (-Wmissing-field-initializers warns for each omitted member that has
// none, std::string and std::function included). Each struct below is initialized with its
// LAST field only, so every other member is omitted: a new member without a default breaks
// this build, with or without -Wextra and -Werror (the pragma turns the check on as an error).
#include "hft/disruptor/batch_event_processor.hpp"
#include "hft/disruptor/wait_strategy.hpp"
#include "hft/fix/dictionary.hpp"
#include "hft/fix/journal_message_store.hpp"
#include "hft/fix/message.hpp"
#include "hft/fix/session.hpp"
#include "hft/journal/journal.hpp"
#include "hft/journal/journal_reader.hpp"
#include "hft/memory/memory_arena.hpp"
#include "hft/memory/reuse_pool.hpp"
#include "hft/metrics/latency_histogram.hpp"
#include "hft/sched/backpressure_guard.hpp"
#include "hft/sched/circuit_breaker.hpp"
#include "hft/sched/family_scheduler.hpp"
#include "hft/sched/rate_limiter.hpp"
#include "hft/sched/worker_pool.hpp"
#include "hft/trading/market_data_generator.hpp"
#include "hft/trading/matching_engine.hpp"
#include "hft/trading/order_book_l2.hpp"
#include "hft/trading/vwap.hpp"

#include <chrono>
#include <cstdint>

#include "../support/catch.hpp"

#if defined(__GNUC__)
#pragma GCC diagnostic error "-Wmissing-field-initializers"
#endif

using namespace std::chrono_literals;

TEST_CASE("config structs: one designated field, the others keep their documented defaults", "[designated]") {
  const hft::WorkerPoolConfig pool{.on_start = [] {}};
  CHECK(pool.threads == hft::WorkerPoolConfig{}.threads);
  CHECK(pool.cpus.empty());
  CHECK(pool.name == "hft-worker");
  const hft::WorkerPoolConfig two{.threads = 2};  // the example: on_start omitted
  CHECK(!two.on_start);

  const hft::fix::SessionConfig session{.dictionary = nullptr};
  CHECK(session.begin_string == "FIX.4.4");
  CHECK(session.sender_comp_id.empty());
  CHECK(session.target_comp_id.empty());
  CHECK(session.heartbeat_interval_s == 30);
  const hft::fix::SessionConfig named{.sender_comp_id = "CLIENT"};
  CHECK(named.dictionary == &hft::fix::Dictionary::fix44());

  const hft::disruptor::BatchEventProcessorConfig bep{.stripe_index = 0};
  CHECK(!bep.on_exception);
  CHECK(bep.stripe_count == 1);

  const hft::JournalConfig journal{.io = nullptr};
  CHECK(journal.segment_size == hft::JournalConfig{}.segment_size);
  const hft::JournalReaderConfig reader{.io = nullptr};
  CHECK(reader.verify_crc);
  const hft::fix::JournalMessageStoreConfig store{.prepare_next = false};
  CHECK(store.max_messages == hft::fix::JournalMessageStoreConfig{}.max_messages);
  const hft::fix::ParserConfig parser{.max_body_length = 4096};
  CHECK(parser.max_body_length == 4096);

  const hft::FamilySchedulerConfig fam{.max_tasks_per_slice = 4};
  CHECK(fam.max_families == hft::FamilySchedulerConfig{}.max_families);
  const hft::CircuitBreakerConfig breaker{.half_open_timeout_ns = 5};
  CHECK(breaker.window_calls == 100);
  const hft::BackpressureGuardConfig guard{.low = 1};
  CHECK(guard.high == 0);
  const hft::RateLimiterConfig limiter{.burst = 5};
  CHECK(limiter.rate_per_sec == 0);

  const hft::LatencyHistogramConfig hist{.significant_digits = 2};
  CHECK(hist.highest_trackable == hft::LatencyHistogramConfig{}.highest_trackable);

  const hft::disruptor::YieldingWaitStrategyConfig yielding{.spin_tries = 1};
  const hft::disruptor::BackoffWaitStrategyConfig backoff{.timeout = 1ms};
  const hft::disruptor::BlockingWaitStrategyConfig blocking{.timeout = 2ms};
  const hft::disruptor::YieldingProducerWaitConfig yielding_producer{.spin_tries = 1};
  const hft::disruptor::SleepingProducerWaitConfig sleeping_producer{.sleep = 10us};
  CHECK(yielding.spin_tries == 1);
  CHECK(backoff.spin_tries == hft::disruptor::BackoffWaitStrategyConfig{}.spin_tries);
  CHECK(blocking.yield_tries == hft::disruptor::BlockingWaitStrategyConfig{}.yield_tries);
  CHECK(yielding_producer.spin_tries == 1);
  CHECK(sleeping_producer.spin_tries == hft::disruptor::SleepingProducerWaitConfig{}.spin_tries);

  const hft::MemoryArenaConfig arena{.prefault = true};
  CHECK(!arena.use_mmap);
  const hft::ReusePoolConfig reuse{.grow = true};
  CHECK(reuse.grow);
  const hft::WindowedVwapConfig vwap{.window_ns = 1'000};
  CHECK(vwap.window_ns == 1'000);
  const hft::MarketDataGeneratorConfig gen{.max_levels = 64};
  CHECK(gen.target_live_orders == hft::MarketDataGeneratorConfig{}.target_live_orders);
}

TEST_CASE("value structs users build: one designated field, the others zero or their default", "[designated]") {
  const hft::NewOrder order{.qty = hft::Qty(5)};
  CHECK(order.id == hft::OrderId{});
  CHECK(order.side == hft::Side::Buy);
  CHECK(order.price == hft::Price{});
  const hft::MdMessage md{.qty = hft::Qty(1)};
  CHECK(md.new_id == hft::OrderId{});
  const hft::Fill fill{.qty = hft::Qty(1)};
  CHECK(fill.price == hft::Price{});
  const hft::ExecReport exec{.notional_ticks = 0};
  CHECK(exec.filled == hft::Qty{});
  const hft::Level level{.qty = hft::Qty(1)};
  CHECK(level.price == hft::Price{});
  const hft::disruptor::WaitResult wait{.status = hft::disruptor::WaitStatus::Timeout};
  CHECK(wait.available == 0);
  const hft::fix::SessionEvent event{.seq = 7};
  CHECK(event.text.empty());
  const hft::fix::Violation violation{.value_level = true};
  CHECK(violation.text.empty());
  const hft::JournalRecovery recovery{.truncated_offset = 0};
  CHECK(recovery.truncated_segment.empty());
}
