// examples/md_fanout/reader.hpp: `md_fanout reader`: keeps a TickWindowBookL2 from the feed's
// stream, checks it against the feed's digest at every snapshot, and when lapped drops the
// book and rebuilds it from the next snapshot, as a feed handler recovers from a gap.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <thread>
#include <utility>

#include "hft/ipc/broadcast_ring.hpp"
#include "hft/ipc/shared_region.hpp"
#include "hft/metrics/latency_histogram.hpp"
#include "hft/trading/tick_window_book_l2.hpp"
#include "protocol.hpp"
#include "util.hpp"

namespace md_fanout {

struct ReaderOptions {
  std::string channel;
  std::string name = "reader";
  std::uint64_t ring_kib = 128;  // must be the feed's: the layout is checked at open
  std::uint64_t slow_us = 0;     // > 0: take this long per applied message, on purpose
  std::uint64_t report_ms = 1'000;
  std::uint64_t open_timeout_ms = 10'000;
  std::uint64_t idle_timeout_ms = 5'000;  // no message and no live feed for this long: give up
  bool quiet = false;                     // no per-interval lines
  bool busy_poll = false;                 // poll instead of sleeping in wait_for_data
};

[[nodiscard]] inline hft::ipc::RegionLayout layout(const ReaderOptions& opt) {
  return hft::ipc::broadcast_ring_layout(opt.ring_kib * 1024, kProtocolTag);
}

// Trivially copyable: the demo's children send it to the parent through a pipe.
struct ReaderSummary {
  std::uint64_t messages = 0;                // delivered by the ring
  std::uint64_t applied = 0;                 // events applied to a book in sync
  std::uint64_t skipped = 0;                 // events dropped while there was no book
  std::uint64_t builds = 0;                  // books built from a snapshot (the first one and every rebuild)
  std::uint64_t rebuilds = 0;                // builds after a lap or an error
  std::uint64_t recoveries = 0;              // builds after a lap: the book lost to the feed, and got back
  std::uint64_t verified = 0;                // snapshots (and the end) whose digest matched a book kept from events
  std::uint64_t verified_after_rebuild = 0;  // of those, after a rebuild
  std::uint64_t laps = 0;
  std::uint64_t messages_lost = 0;  // from the gaps in the sequence numbers: exact
  std::uint64_t mismatches = 0;     // digest differences: a bug, never expected
  std::uint64_t errors = 0;         // corrupt records, undecodable messages, events the book refused
  std::uint64_t latency_count = 0;
  std::uint64_t p50_ns = 0, p99_ns = 0, max_ns = 0;
  bool end_seen = false;
  bool in_sync_at_end = false;
  int status = 1;
};

class Reader {
 public:
  Reader(const ReaderOptions& opt, hft::ipc::SharedRegion region)
      : opt_(opt), rx_(std::make_unique<hft::ipc::BroadcastReceiver>(std::move(region), kResync)) {}

  ReaderSummary run() {
    // Rates are per second of stream: the clock starts at the first message, not at open
    // (the feed may still be warming up its book).
    std::uint64_t start = 0, next_report = 0;
    std::uint64_t idle_since = now_ns();
    Interval last{};
    while (!s_.end_seen) {
      const hft::ipc::BroadcastReceiveResult r = rx_->receive_next();
      const std::uint64_t now = now_ns();
      switch (r.status) {
        case hft::ipc::ReceiveStatus::Empty:
          // By default sleeping on the ring's futex, not spinning: the feed wakes us when it
          // publishes, and four processes of the demo share two cores on a CI machine. Polling
          // is for a reader with a core of its own; on a shared one it only steals the feed's.
          if (opt_.busy_poll && now - idle_since < opt_.idle_timeout_ms * 1'000'000) break;
          if (!rx_->wait_for_data(std::chrono::milliseconds(50))) {
            if (now - idle_since > opt_.idle_timeout_ms * 1'000'000 && !rx_->writer_alive()) {
              line(opt_.name, "error: the feed is gone and sent no end of stream");
              ++s_.errors;
              return finish();
            }
          }
          break;
        case hft::ipc::ReceiveStatus::Lapped:
          // The loss is printed with the next message: only its sequence number says how much
          // was skipped in all.
          ++s_.laps;
          lapped_ = true;
          recovering_ = true;
          state_ = State::NoBook;  // the receiver has moved to the latest message (kResync)
          break;
        case hft::ipc::ReceiveStatus::Corrupt:
          ++s_.errors;
          drop("error: a corrupt record; book dropped, waiting for the next snapshot");
          rejoin();
          break;
        case hft::ipc::ReceiveStatus::Message:
          if (start == 0) {
            start = now;
            next_report = now + opt_.report_ms * 1'000'000;
          }
          idle_since = now;
          ++s_.messages;
          count_gap(r.sequence);
          handle(r.type, r.payload);
          break;
      }
      if (start != 0 && now >= next_report && !opt_.quiet) {
        report(now, start, last);
        next_report = now + opt_.report_ms * 1'000'000;
      }
    }
    return finish();
  }

 private:
  enum class State { NoBook, Building, InSync };

  struct Interval {
    std::uint64_t at = 0, messages = 0, applied = 0, verified = 0, laps = 0, lost = 0;
  };

  void handle(std::int32_t type, std::span<const std::byte> p) {
    switch (static_cast<MsgType>(type)) {
      case MsgType::Add:
      case MsgType::Cancel:
      case MsgType::Trade:
      case MsgType::Delete:
      case MsgType::Replace:
        on_event(static_cast<MsgType>(type), p);
        return;
      case MsgType::SnapshotBegin:
        on_snapshot_begin(p);
        return;
      case MsgType::SnapshotLevels:
        on_snapshot_levels(p);
        return;
      case MsgType::SnapshotEnd:
        on_snapshot_end(p);
        return;
      case MsgType::Heartbeat:
        return;  // liveness only: a quiet feed still shows it is there
      case MsgType::EndOfStream:
        on_end(p);
        return;
    }
    protocol_error("unknown message type " + std::to_string(type));
  }

  void on_event(MsgType type, std::span<const std::byte> p) {
    Event e{};
    if (!decode(p, e)) return protocol_error("short event");
    // A side the book cannot index would be out of bounds there: refused here, like any bad message.
    if (e.side > 1) return protocol_error("bad side " + std::to_string(e.side));
    if (state_ == State::Building) return protocol_error("an event inside a snapshot");
    if (state_ == State::NoBook) {
      ++s_.skipped;  // free: a reader with no book does no work until the next snapshot
      return;
    }
    const auto side = static_cast<hft::Side>(e.side);
    const auto price = hft::Price::from_ticks(e.price);
    const hft::Qty qty(e.qty);
    hft::BookUpdate u{};
    switch (type) {
      case MsgType::Add:
        u = book_.add(side, price, qty);
        break;
      case MsgType::Replace:
        u = book_.reduce(side, hft::Price::from_ticks(e.old_price), hft::Qty(e.old_qty));
        if (u.ok()) u = book_.add(side, price, qty);
        break;
      default:  // Cancel, Trade, Delete: quantity leaves the level
        u = book_.reduce(side, price, qty);
        break;
    }
    if (!u.ok()) {
      ++s_.errors;
      return drop("error: the book refused an event (" + std::string(hft::to_string(u.error)) +
                  "); book dropped, waiting for the next snapshot");
    }
    ++s_.applied;
    applied_event(e.publish_ns);
  }

  void on_snapshot_begin(std::span<const std::byte> p) {
    SnapshotBegin b{};
    if (!decode(p, b)) return protocol_error("short snapshot begin");
    if (state_ == State::InSync) {
      // The check this example is about: the book kept from events equals the feed's.
      const std::uint64_t mine = book_digest(book_);
      if (mine == b.digest) {
        ++s_.verified;
        if (rebuilt_) ++s_.verified_after_rebuild;
        pace(now_ns());
        return;  // in sync: the rest of this snapshot is not needed
      }
      ++s_.mismatches;
      line(opt_.name, fmt("error: snapshot %llu: book digest %016llx, the feed's %016llx; rebuilding from it",
                          static_cast<unsigned long long>(b.snapshot), static_cast<unsigned long long>(mine),
                          static_cast<unsigned long long>(b.digest)));
    }
    // No book (or a wrong one): build from this snapshot.
    book_.clear();
    building_ = b;
    state_ = State::Building;
    pace_from_ = now_ns();  // the events skipped without a book were free: the slow pace starts here
    pace(now_ns());
  }

  void on_snapshot_levels(std::span<const std::byte> p) {
    if (state_ != State::Building) return;  // in sync (already verified) or waiting for a begin
    SnapshotLevels h{};
    if (!decode(p, h) || h.side > 1 || p.size() != sizeof h + std::size_t{h.count} * sizeof(WireLevel) ||
        h.snapshot != building_.snapshot)
      return protocol_error("bad snapshot levels");
    for (std::uint32_t i = 0; i < h.count; ++i) {
      WireLevel l{};
      std::memcpy(&l, p.data() + sizeof h + std::size_t{i} * sizeof(WireLevel), sizeof l);
      const hft::BookUpdate u =
          book_.set_level(static_cast<hft::Side>(h.side), hft::Price::from_ticks(l.price), hft::Qty(l.qty));
      if (!u.ok()) return protocol_error("the book refused a snapshot level");
    }
    pace(now_ns());
  }

  void on_snapshot_end(std::span<const std::byte> p) {
    if (state_ != State::Building) return;
    SnapshotEnd e{};
    if (!decode(p, e) || e.snapshot != building_.snapshot) return protocol_error("bad snapshot end");
    const std::uint64_t mine = book_digest(book_);
    const std::size_t levels = book_.level_count(hft::Side::Buy) + book_.level_count(hft::Side::Sell);
    if (mine != building_.digest || levels != std::size_t{building_.bid_levels} + building_.ask_levels) {
      ++s_.mismatches;
      line(opt_.name, fmt("error: rebuilt from snapshot %llu: digest %016llx, the feed's %016llx",
                          static_cast<unsigned long long>(e.snapshot), static_cast<unsigned long long>(mine),
                          static_cast<unsigned long long>(building_.digest)));
      state_ = State::NoBook;
      return;
    }
    ++s_.builds;
    const bool again = s_.builds > 1;
    if (again) ++s_.rebuilds;
    rebuilt_ = rebuilt_ || again;
    if (recovering_) ++s_.recoveries;
    recovering_ = false;
    state_ = State::InSync;
    pace(now_ns());
    line(opt_.name,
         fmt("%s from snapshot %llu (%zu levels): digest %016llx matches the feed", again ? "rebuilt" : "built",
             static_cast<unsigned long long>(e.snapshot), levels, static_cast<unsigned long long>(mine)));
  }

  void on_end(std::span<const std::byte> p) {
    EndOfStream e{};
    if (!decode(p, e)) return protocol_error("short end of stream");
    s_.end_seen = true;
    s_.in_sync_at_end = state_ == State::InSync;
    if (state_ != State::InSync) return;
    const std::uint64_t mine = book_digest(book_);
    if (mine == e.digest) {
      ++s_.verified;
      if (rebuilt_) ++s_.verified_after_rebuild;
    } else {
      ++s_.mismatches;
      line(opt_.name, fmt("error: at the end: book digest %016llx, the feed's %016llx",
                          static_cast<unsigned long long>(mine), static_cast<unsigned long long>(e.digest)));
    }
  }

  // The feed numbers every message (the ring's sequence): a gap is exactly what was lost.
  void count_gap(std::uint64_t sequence) {
    const std::uint64_t gap = last_sequence_ != 0 && sequence > last_sequence_ + 1 ? sequence - last_sequence_ - 1 : 0;
    last_sequence_ = sequence;
    s_.messages_lost += gap;
    if (!lapped_) return;
    lapped_ = false;
    line(opt_.name, fmt("lapped: lost %llu messages (%llu..%llu); book dropped, waiting for the next snapshot",
                        static_cast<unsigned long long>(gap), static_cast<unsigned long long>(sequence - gap),
                        static_cast<unsigned long long>(sequence - 1)));
  }

  void protocol_error(const std::string& what) {
    ++s_.errors;
    drop("error: " + what + "; book dropped, waiting for the next snapshot");
  }

  void drop(const std::string& why) {
    state_ = State::NoBook;
    line(opt_.name, why);
  }

  // After a corrupt record (a feed bug: the ring is only ours): a new receiver, joined at the
  // latest message, rather than trusting the old one's position. Opening costs a few system
  // calls.
  void rejoin() {
    try {
      // The new one first: if anything throws, the reader goes on with the old one.
      rx_ = std::make_unique<hft::ipc::BroadcastReceiver>(hft::ipc::SharedRegion::open(opt_.channel, layout(opt_)));
    } catch (const std::exception&) {
      // The feed has removed the name (it is ending): stay; its end of stream is the latest.
    }
  }

  // After an event changed the book: its publish -> applied latency. Only events: they are
  // what a feed handler's latency is about, and a snapshot's digest check would add its own
  // cost to the tail.
  void applied_event(std::uint64_t publish_ns) {
    const std::uint64_t now = now_ns();
    const std::uint64_t latency = now > publish_ns ? now - publish_ns : 0;
    total_.record(latency);
    interval_.record(latency);
    pace(now);
  }

  // The deliberate slowness of --slow-us, after every message that changed or checked a book.
  // Paced against the clock, not a sleep per message: a sleep overshoots by a scheduler tick
  // on a loaded machine, so the reader's rate would depend on the machine. Paced, it is
  // 1e6 / slow_us messages/s wherever it runs, and how often it laps is predictable.
  void pace(std::uint64_t now) {
    if (opt_.slow_us == 0) return;
    // At most 10 messages of catch-up after a stall, so a descheduled reader does not race.
    pace_from_ = std::max(pace_from_, now - std::min(now, opt_.slow_us * 10'000));
    pace_from_ += opt_.slow_us * 1'000;
    if (pace_from_ > now) sleep_until_ns(pace_from_);
  }

  void report(std::uint64_t now, std::uint64_t start, Interval& last) {
    const double dt = static_cast<double>(now - (last.at ? last.at : start)) * 1e-9;
    line(opt_.name,
         fmt("%.1fs: %.0f msg/s, %.0f events/s applied, %llu snapshots verified, %llu laps (%llu messages lost), "
             "latency p50 %.1f us p99 %.1f us",
             static_cast<double>(now - start) * 1e-9, static_cast<double>(s_.messages - last.messages) / dt,
             static_cast<double>(s_.applied - last.applied) / dt,
             static_cast<unsigned long long>(s_.verified - last.verified),
             static_cast<unsigned long long>(s_.laps - last.laps),
             static_cast<unsigned long long>(s_.messages_lost - last.lost),
             static_cast<double>(interval_.percentile(50)) * 1e-3,
             static_cast<double>(interval_.percentile(99)) * 1e-3));
    last = {now, s_.messages, s_.applied, s_.verified, s_.laps, s_.messages_lost};
    interval_.reset();
  }

  ReaderSummary finish() {
    s_.latency_count = total_.count();
    s_.p50_ns = total_.percentile(50);
    s_.p99_ns = total_.percentile(99);
    s_.max_ns = total_.max();
    s_.status = s_.end_seen && s_.mismatches == 0 && s_.errors == 0 ? 0 : 1;
    line(opt_.name,
         fmt("done: %llu messages, %llu events applied, %llu builds (%llu rebuilds), %llu snapshots verified, "
             "%llu laps (%llu messages lost), %llu mismatches, %llu errors; latency p50 %.1f us p99 %.1f us",
             static_cast<unsigned long long>(s_.messages), static_cast<unsigned long long>(s_.applied),
             static_cast<unsigned long long>(s_.builds), static_cast<unsigned long long>(s_.rebuilds),
             static_cast<unsigned long long>(s_.verified), static_cast<unsigned long long>(s_.laps),
             static_cast<unsigned long long>(s_.messages_lost), static_cast<unsigned long long>(s_.mismatches),
             static_cast<unsigned long long>(s_.errors), static_cast<double>(s_.p50_ns) * 1e-3,
             static_cast<double>(s_.p99_ns) * 1e-3));
    return s_;
  }

  ReaderOptions opt_;
  // A reader that lost its book has no use for the records after a lap: it must wait for a
  // snapshot anyway, and the oldest records still present (the library's default resync) are
  // the next the feed overwrites. Resuming at the latest puts it a whole ring ahead of the
  // writer, so the next snapshot is read with the most room.
  static constexpr hft::ipc::ResyncTo kResync = hft::ipc::ResyncTo::Latest;
  std::unique_ptr<hft::ipc::BroadcastReceiver> rx_;  // neither copyable nor movable: rejoin() replaces it
  // Deep-book prices rest up to 2,000 ticks from the touch: a window that holds them all, and
  // room beyond it for the drift, so no level is ever dropped (a drop would be a mismatch).
  hft::TickWindowBookL2 book_{8192, 4096};
  State state_ = State::NoBook;
  SnapshotBegin building_{};
  bool rebuilt_ = false;
  bool lapped_ = false;      // the loss is printed when the next message shows it
  bool recovering_ = false;  // lapped since the last build
  std::uint64_t last_sequence_ = 0;
  std::uint64_t pace_from_ = 0;
  hft::LatencyHistogram total_;     // the whole run, for the summary
  hft::LatencyHistogram interval_;  // since the last per-interval line
  ReaderSummary s_;
};

// Opens the feed's ring, retrying until it exists (readers may start first), then runs.
inline ReaderSummary run_reader(const ReaderOptions& opt) {
  const std::uint64_t deadline = now_ns() + opt.open_timeout_ms * 1'000'000;
  std::optional<hft::ipc::SharedRegion> region;
  while (!region) {
    try {
      region.emplace(hft::ipc::SharedRegion::open(opt.channel, layout(opt)));
    } catch (const std::system_error&) {
      if (now_ns() > deadline) throw;  // still no feed: its error (ENOENT) says why
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  Reader reader(opt, std::move(*region));
  return reader.run();
}

}  // namespace md_fanout
