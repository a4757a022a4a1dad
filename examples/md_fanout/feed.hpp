// examples/md_fanout/feed.hpp: `md_fanout feed`: publishes the seeded deep-book L3 stream of
// MarketDataGenerator into a BroadcastRing it creates, with an L2 snapshot every N events,
// paced at a fixed rate, and removes the ring when it ends (also on SIGINT/SIGTERM).
#pragma once

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "hft/ipc/broadcast_ring.hpp"
#include "hft/ipc/shared_region.hpp"
#include "hft/trading/market_data_generator.hpp"
#include "hft/trading/order_book_l3.hpp"
#include "protocol.hpp"
#include "util.hpp"

namespace md_fanout {

struct FeedOptions {
  std::string channel;
  std::uint64_t seed = 42;
  std::uint64_t events = 0;  // 0: until SIGINT/SIGTERM
  std::uint64_t rate = 10'000;
  std::uint64_t snapshot_every = 250;
  std::uint64_t ring_kib = 128;
  std::uint64_t warmup = 300'000;
  std::uint64_t report_ms = 1'000;
  std::uint64_t heartbeat_ms = 100;
  std::uint64_t corrupt_add = 0;  // > 0: publish the first Add from this event on with 1 unit too many
};

// Trivially copyable: the demo's children send it to the parent through a pipe.
struct FeedSummary {
  std::uint64_t events = 0;
  std::uint64_t snapshots = 0;
  std::uint64_t messages = 0;
  std::uint64_t bytes = 0;
  std::uint64_t refused = 0;  // generator messages the book refused: not published
  std::uint64_t levels = 0;   // in the final book, both sides
  std::uint64_t digest = 0;   // of the final book
  double seconds = 0;
  int status = 1;
};

namespace detail {

// A lock-free atomic is the one object a signal handler may set; the loop polls it.
inline std::atomic<bool> g_feed_stop{false};
static_assert(std::atomic<bool>::is_always_lock_free);

extern "C" inline void on_stop_signal(int) { g_feed_stop.store(true, std::memory_order_relaxed); }

// The ring's name goes with the feed: removed however run_feed leaves (return, exception).
// Readers keep their mappings; only the name disappears.
struct RemoveOnExit {
  std::string name;
  ~RemoveOnExit() { (void)hft::ipc::SharedRegion::remove(name); }
};

}  // namespace detail

class Feed {
 public:
  Feed(std::uint64_t seed, hft::ipc::SharedRegion region, std::uint64_t corrupt_add = 0)
      : corrupt_add_(corrupt_add),
        gen_(seed, hft::MarketDataGeneratorConfig::deep_book()),
        book_(hft::MarketDataGeneratorConfig::deep_book().target_live_orders * 4,
              hft::MarketDataGeneratorConfig::deep_book().max_levels),
        tx_(std::move(region)),
        levels_per_message_((tx_.max_message_length() - sizeof(SnapshotLevels)) / sizeof(WireLevel)),
        buffer_(tx_.max_message_length()) {}

  // Before anything is published: a deep book to snapshot, as a feed that joins a trading
  // day in progress has one.
  void warm_up(std::uint64_t n) {
    for (std::uint64_t i = 0; i < n;) {
      if (next_event(nullptr)) ++i;
    }
  }

  // One generator message, applied to the book; published (when `tx` is set) only if the
  // book took it, so that readers apply exactly what changed the feed's book.
  bool next_event(hft::ipc::BroadcastTransmitter* tx) {
    const hft::MdMessage m = gen_.next();
    Event e{};
    e.id = m.id.value();
    e.side = static_cast<std::uint8_t>(m.side);
    MsgType type = MsgType::Add;
    bool ok = false;
    // The wire event needs the level the order sits on, which a Cancel, Delete or Replace
    // only names by order id: look it up before the book forgets it.
    const hft::OrderBookL3::Order* o = m.type == hft::MdType::Add ? nullptr : book_.find(m.id);
    switch (m.type) {
      case hft::MdType::Add:
        ok = book_.add_order(m.id, m.side, m.price, m.qty).ok();
        e.price = m.price.ticks();
        e.qty = m.qty.value();
        break;
      case hft::MdType::Cancel:
      case hft::MdType::Execute:
        if (o == nullptr) break;
        e.price = o->price.ticks();
        e.qty = m.qty.value();
        type = m.type == hft::MdType::Cancel ? MsgType::Cancel : MsgType::Trade;
        ok = (m.type == hft::MdType::Cancel ? book_.cancel(m.id, m.qty) : book_.execute(m.id, m.qty)).ok();
        break;
      case hft::MdType::Delete:
        if (o == nullptr) break;
        e.price = o->price.ticks();
        e.qty = o->qty.value();
        type = MsgType::Delete;
        ok = book_.delete_order(m.id).ok();
        break;
      case hft::MdType::Replace:
        if (o == nullptr) break;
        e.old_price = o->price.ticks();
        e.old_qty = o->qty.value();
        e.new_id = m.new_id.value();
        e.price = m.price.ticks();
        e.qty = m.qty.value();
        type = MsgType::Replace;
        ok = book_.replace(m.id, m.new_id, m.price, m.qty).ok();
        break;
    }
    if (!ok) {
      ++summary_.refused;  // a sweep's duplicate execute, say: the generator's book refused it too
      return false;
    }
    if (tx != nullptr) {
      // The test of the test: a wrong quantity on the wire must show up as a digest mismatch
      // at the next snapshot in every reader that applied it.
      if (corrupt_add_ != 0 && type == MsgType::Add && summary_.events + 1 >= corrupt_add_) {
        ++e.qty;
        corrupt_add_ = 0;
      }
      e.publish_ns = now_ns();
      send(type, &e, sizeof e);
      ++summary_.events;
    }
    return true;
  }

  // SnapshotBegin (with the digest), the levels of each side in as many messages as
  // max_message_length() needs, SnapshotEnd. The feed is one thread, so no event can fall
  // between them: a reader that applies the snapshot has the book as of SnapshotBegin.
  void publish_snapshot() {
    const hft::OrderBookL2& l2 = book_.l2();
    SnapshotBegin b{};
    b.snapshot = ++summary_.snapshots;
    b.digest = book_digest(l2);
    b.events = summary_.events;
    b.bid_levels = static_cast<std::uint32_t>(l2.level_count(hft::Side::Buy));
    b.ask_levels = static_cast<std::uint32_t>(l2.level_count(hft::Side::Sell));
    b.publish_ns = now_ns();
    send(MsgType::SnapshotBegin, &b, sizeof b);
    for (const hft::Side side : {hft::Side::Buy, hft::Side::Sell}) {
      levels_.clear();
      l2.for_each_level(side, std::numeric_limits<std::size_t>::max(), [this](const hft::Level& l) {
        levels_.push_back({l.price.ticks(), l.qty.value()});
      });
      for (std::size_t at = 0; at < levels_.size(); at += levels_per_message_) {
        const std::size_t n = std::min(levels_per_message_, levels_.size() - at);
        SnapshotLevels h{};
        h.snapshot = b.snapshot;
        h.side = static_cast<std::uint32_t>(side);
        h.count = static_cast<std::uint32_t>(n);
        h.publish_ns = now_ns();
        std::memcpy(buffer_.data(), &h, sizeof h);
        std::memcpy(buffer_.data() + sizeof h, levels_.data() + at, n * sizeof(WireLevel));
        send(MsgType::SnapshotLevels, buffer_.data(), sizeof h + n * sizeof(WireLevel));
      }
    }
    SnapshotEnd e{now_ns(), b.snapshot};
    send(MsgType::SnapshotEnd, &e, sizeof e);
  }

  void publish_heartbeat() {
    Heartbeat h{now_ns(), summary_.events};
    send(MsgType::Heartbeat, &h, sizeof h);
  }

  void publish_end() {
    EndOfStream e{now_ns(), summary_.events, summary_.snapshots, book_digest(book_.l2())};
    send(MsgType::EndOfStream, &e, sizeof e);
    summary_.digest = e.digest;
    summary_.levels = book_.l2().level_count(hft::Side::Buy) + book_.l2().level_count(hft::Side::Sell);
  }

  hft::ipc::BroadcastTransmitter& tx() noexcept { return tx_; }
  FeedSummary& summary() noexcept { return summary_; }

 private:
  void send(MsgType type, const void* data, std::size_t n) {
    tx_.transmit(static_cast<std::int32_t>(type), data, n);
    ++summary_.messages;
    summary_.bytes += n;
  }

  std::uint64_t corrupt_add_;
  hft::MarketDataGenerator gen_;
  hft::OrderBookL3 book_;  // the generator's book, mirrored: lookups before a message applies
  hft::ipc::BroadcastTransmitter tx_;
  std::size_t levels_per_message_;
  std::vector<std::byte> buffer_;
  std::vector<WireLevel> levels_;
  FeedSummary summary_;
};

// Runs the feed until opt.events are published or a stop signal; prints a line per interval.
inline FeedSummary run_feed(const FeedOptions& opt, const std::string& label = "feed") {
  struct sigaction sa {};
  sa.sa_handler = detail::on_stop_signal;
  ::sigemptyset(&sa.sa_mask);
  (void)::sigaction(SIGINT, &sa, nullptr);
  (void)::sigaction(SIGTERM, &sa, nullptr);

  const auto layout = hft::ipc::broadcast_ring_layout(opt.ring_kib * 1024, kProtocolTag);
  auto region = hft::ipc::SharedRegion::create(opt.channel, layout);
  detail::RemoveOnExit remove{opt.channel};
  // The transmitter marks the region ready, so a reader's open() cannot see it half made.
  Feed feed(opt.seed, std::move(region), opt.corrupt_add);
  feed.warm_up(opt.warmup);
  line(label, "publishing on " + opt.channel + ": ring " + std::to_string(opt.ring_kib) + " KiB (messages up to " +
                  std::to_string(feed.tx().max_message_length()) + " B), " + std::to_string(opt.rate) +
                  " events/s, a snapshot every " + std::to_string(opt.snapshot_every) + " events");
  feed.publish_snapshot();  // a reader that joins now can build at once

  const std::uint64_t start = now_ns();
  const std::uint64_t period = 1'000'000'000ULL / opt.rate;
  // After a stall (a descheduled feed on a loaded machine) the schedule restarts instead of
  // catching up in one burst, which would lap every reader at once.
  const std::uint64_t max_backlog = std::max<std::uint64_t>(1, opt.rate / 100);
  std::uint64_t sched_start = start, sched_sent = 0;
  std::uint64_t next_report = start + opt.report_ms * 1'000'000, next_heartbeat = start;
  std::uint64_t last_events = 0, last_messages = 0, last_bytes = 0, last_report = start;
  FeedSummary& s = feed.summary();
  while (!detail::g_feed_stop.load(std::memory_order_relaxed) && (opt.events == 0 || s.events < opt.events)) {
    const std::uint64_t now = now_ns();
    // Heartbeats on the clock, not per event: a feed with nothing to send still shows it is there.
    if (now >= next_heartbeat) {
      feed.publish_heartbeat();
      next_heartbeat = now + opt.heartbeat_ms * 1'000'000;
    }
    if (now >= next_report) {
      const double dt = static_cast<double>(now - last_report) * 1e-9;
      line(label,
           fmt("%.1fs: %.0f events/s, %.0f messages/s, %.2f MB/s, %llu snapshots",
               static_cast<double>(now - start) * 1e-9, static_cast<double>(s.events - last_events) / dt,
               static_cast<double>(s.messages - last_messages) / dt,
               static_cast<double>(s.bytes - last_bytes) / dt * 1e-6, static_cast<unsigned long long>(s.snapshots)));
      last_events = s.events;
      last_messages = s.messages;
      last_bytes = s.bytes;
      last_report = now;
      next_report = now + opt.report_ms * 1'000'000;
    }
    std::uint64_t due = (now - sched_start) / period;
    if (due > sched_sent + max_backlog) {
      sched_start = now - sched_sent * period;
      due = sched_sent;
    }
    if (sched_sent >= due) {
      // Sleeping, not spinning: four processes share two cores on a CI machine. Until the next
      // event, heartbeat or report, whichever comes first.
      sleep_until_ns(std::min({sched_start + (sched_sent + 1) * period, next_heartbeat, next_report}));
      continue;
    }
    if (feed.next_event(&feed.tx())) {
      ++sched_sent;
      if (s.events % opt.snapshot_every == 0) feed.publish_snapshot();
    }
  }
  // A last snapshot and the end: a reader in sync checks the final book twice.
  feed.publish_snapshot();
  feed.publish_end();
  s.seconds = static_cast<double>(now_ns() - start) * 1e-9;
  // A generator message the book refuses (a sweep's duplicate execute) is not sent: readers apply
  // exactly what changed the feed's book. Said only when it happened.
  const std::string refused =
      s.refused == 0 ? ""
                     : fmt(" (%llu generator messages refused, not sent)", static_cast<unsigned long long>(s.refused));
  line(label,
       fmt("done: %llu events%s, %llu snapshots, %llu messages in %.2f s; final book %llu levels, digest %016llx%s",
           static_cast<unsigned long long>(s.events), refused.c_str(), static_cast<unsigned long long>(s.snapshots),
           static_cast<unsigned long long>(s.messages), s.seconds, static_cast<unsigned long long>(s.levels),
           static_cast<unsigned long long>(s.digest),
           detail::g_feed_stop.load(std::memory_order_relaxed) ? " (stopped by a signal)" : ""));
  s.status = 0;
  return s;
}

}  // namespace md_fanout
