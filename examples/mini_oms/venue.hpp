// mini_oms/venue.hpp: the execution stage, what runs for each task (on a worker, or inline
// on the thread that submitted it): risk -> execute -> the Execution (the order arrives
// decoded: the protocol's codec parsed it at the gateway).
//
// Venue holds the per-symbol state: reference price, order-rate limiter, and a
// MatchingEngine quoting kVenueLevels levels a side (re-quoted whenever a level empties).
// Symbols are created on first sight under a mutex and found lock-free afterwards; one
// symbol's state is shared by every partition (a family maps to one partition, a symbol
// does not), so its risk + match step holds that symbol's mutex.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "hft/core/clock.hpp"
#include "hft/core/flat_index.hpp"
#include "hft/metrics/interval_recorder.hpp"
#include "hft/sched/rate_limiter.hpp"
#include "hft/trading/matching_engine.hpp"
#include "journaling.hpp"
#include "line_protocol.hpp"
#include "records.hpp"

namespace mini_oms {

class Venue {
 public:
  /// `executing_threads`: how many threads may call execute() (one histogram writer each).
  Venue(const ServerConfig& cfg, std::size_t executing_threads, const hft::TscClock& clock)
      : cfg_(cfg), clock_(clock), built_(executing_threads) {
    for (const auto& [sym, px] : std::initializer_list<std::pair<const char*, std::int64_t>>{
             {"AAPL", 1872500}, {"MSFT", 4105000}, {"GOOG", 1401000}, {"AMZN", 1783000}, {"TSLA", 1754000}}) {
      refs_[hft::Symbol::of(sym).key()] = hft::Price::from_ticks(px);
    }
    for (const auto& [sym, text] : cfg_.refs) {
      const auto s = hft::Symbol::parse(sym);
      const auto p = hft::parse_price(text, kTick);
      if (!s || !p || p->ticks() <= 0)
        throw std::invalid_argument(
            std::string("--ref ").append(sym).append("=").append(text).append(": bad symbol or price"));
      refs_[s->key()] = *p;
    }
    for (std::size_t i = 0; i < kSymbols; ++i) symbols_[i].store(nullptr, std::memory_order_relaxed);
    storage_.reserve(kSymbols);
  }

  /// --journal: every execution from now on is appended to `j` (set before start()).
  void set_journal(OmsJournal* j) noexcept { journal_ = j; }

  /// Any thread that executes tasks. Runs stages 1-4 for `t` into `rep`; returns the
  /// reject reason (None: an ACK). With a journal, the execution's record is appended
  /// before this returns (inside the symbol's lock when the order reached the book, so the
  /// journal orders each book's orders as the book saw them), and rep.durable_after names it.
  Reason execute(const Task& t, Reply& rep) {
    const Order& o = t.order;
    Execution& e = rep.exec;
    e = Execution{o.req_id, t.seq, 0, 0, Reason::None};
    rep.conn = t.conn;
    rep.durable_after = 0;
    if (!o.valid) {  // stage 1, parse, ran in the protocol's decode: it found the order malformed
      e.why = Reason::BadMsg;
    } else {
      SymbolState& sym = symbol_state(o.symbol);
      e.why = check_static_risk(o, sym.ref, cfg_.risk);  // stage 2: qty, price band, notional
      if (e.why == Reason::None) {
        std::lock_guard lock(sym.mutex);
        if (!sym.limiter.try_acquire(1, clock_.now_ns())) {
          e.why = Reason::RiskRate;
        } else {  // stage 3: IOC against the venue, then re-quote what it emptied
          const auto [filled, notional] = sym.execute(o);
          e.filled = filled;
          e.notional = notional;
          if (journal_ != nullptr) rep.durable_after = journal(t, e);
        }
      }
    }
    if (e.why != Reason::None && journal_ != nullptr) rep.durable_after = journal(t, e);
    if (cfg_.work_us > 0) std::this_thread::sleep_for(std::chrono::microseconds(cfg_.work_us));
    rep.t_built = hft::TscClock::ticks();  // stage 4: the reply
    writer().record(clock_.delta_to_ns(rep.t_built - t.t_disp));
    return e.why;
  }

  /// Before start(), one thread: re-runs a journaled execution against the books (a
  /// reject touched none). False when the book fills differently than it did: the
  /// journal and this venue disagree (a different --ref, or a bug), and replay reports it.
  bool replay(const ExecView& v) {
    if (!v.order) return v.h.reason == static_cast<std::uint8_t>(Reason::BadMsg);
    SymbolState& sym = symbol_state(v.order->symbol);  // a rejected order made its symbol's state too
    if (v.h.executed == 0) return true;
    std::lock_guard lock(sym.mutex);
    const auto [filled, notional] = sym.execute(*v.order);
    return filled == v.h.filled && notional == v.h.notional;
  }

  /// Every book's resting quantity at every venue level, hashed in symbol order: two venues
  /// with the same digest hold the same books. Takes every symbol's lock.
  [[nodiscard]] std::uint64_t book_digest() {
    std::lock_guard create(create_mutex_);
    std::vector<SymbolState*> all;
    for (auto& st : storage_) all.push_back(st.get());
    std::sort(all.begin(), all.end(), [](auto* a, auto* b) { return a->symbol.key() < b->symbol.key(); });
    std::uint64_t h = 1469598103934665603ULL;
    const auto mix = [&h](std::uint64_t v) { h = (h ^ v) * 1099511628211ULL; };
    for (SymbolState* st : all) {
      std::lock_guard lock(st->mutex);
      mix(st->symbol.key());
      for (int k = 1; k <= kVenueLevels; ++k) {
        for (const hft::Side side : {hft::Side::Buy, hft::Side::Sell}) {
          mix(static_cast<std::uint64_t>(
              st->book.qty_at(side, st->level_price[static_cast<int>(side)][k - 1]).value()));
        }
      }
    }
    return h;
  }

  /// Dispatch -> reply built, over every executing thread (IntervalRecorder: a writer per
  /// thread, collected without stopping them). Allocates.
  [[nodiscard]] hft::LatencyHistogram collect_built() {
    (void)collect_built_interval();
    return total_built_;
  }
  /// The same records since the previous call (serve --hlog: one interval each), also added
  /// to the total collect_built() returns. One thread at a time. Allocates.
  [[nodiscard]] hft::LatencyHistogram collect_built_interval() {
    hft::LatencyHistogram h = stage_histogram();
    built_.collect_interval(h);
    total_built_.merge(h);
    return h;
  }

 private:
  static constexpr std::size_t kSymbols = 4096;

  struct SymbolState {
    std::mutex mutex;
    hft::Symbol symbol;
    hft::Price ref;
    hft::RateLimiter limiter;
    hft::MatchingEngine book;
    std::uint64_t next_quote_id = 1;
    hft::Price level_price[2][kVenueLevels];  // computed once: [side][k - 1]
    SymbolState(hft::Symbol s, hft::Price r, const RiskLimits& lim, std::uint64_t now)
        : symbol(s), ref(r), limiter({.rate_per_sec = lim.rate_per_sec, .burst = lim.rate_per_sec}, now), book(64, 32) {
      for (int k = 1; k <= kVenueLevels; ++k) {
        for (const hft::Side side : {hft::Side::Buy, hft::Side::Sell}) {
          level_price[static_cast<int>(side)][k - 1] = venue_level_price(ref, side, k);
        }
      }
      requote();
    }
    // The IOC against this book, then the re-quote of what it emptied: (filled, notional).
    std::pair<std::int64_t, hft::Notional> execute(const Order& r) {
      hft::Fill fills[2 * kVenueLevels];
      const auto exec = book.submit(hft::NewOrder{hft::OrderId(0), r.side, hft::OrderType::Limit,
                                                  hft::TimeInForce::ImmediateOrCancel, r.price, hft::Qty(r.qty)},
                                    fills);
      requote(std::span<const hft::Fill>(fills, exec.fills));  // only levels the fills emptied
      return {exec.filled.value(), exec.notional_ticks};
    }
    // Every venue level gets its original size back once emptied. Only the levels an IOC
    // filled can have emptied (the book is ours alone), so only those are looked at: fills
    // come best price first, so one check per distinct price.
    void requote() {
      for (int k = 1; k <= kVenueLevels; ++k) {
        for (const hft::Side side : {hft::Side::Buy, hft::Side::Sell}) requote_level(side, k);
      }
    }
    void requote(std::span<const hft::Fill> fills) {
      hft::Price last = hft::Price::from_ticks(-1);
      for (const hft::Fill& f : fills) {
        if (f.price == last) continue;
        last = f.price;
        for (const hft::Side side : {hft::Side::Buy, hft::Side::Sell}) {
          for (int k = 1; k <= kVenueLevels; ++k) {
            if (level_price[static_cast<int>(side)][k - 1] == f.price) requote_level(side, k);
          }
        }
      }
    }
    void requote_level(hft::Side side, int k) {
      const hft::Price p = level_price[static_cast<int>(side)][k - 1];
      if (!book.qty_at(side, p).zero()) return;
      hft::Fill none[1];
      (void)book.submit(hft::NewOrder{hft::OrderId(next_quote_id++), side, hft::OrderType::Limit,
                                      hft::TimeInForce::GoodTillCancel, p, hft::Qty(std::int64_t{100} * k)},
                        std::span<hft::Fill>(none, 0));
    }
  };

  // The record (EOM2) holds the order and its execution in binary: nothing is formatted
  // here (a re-send's reply is re-encoded from the execution by its protocol's codec).
  std::uint64_t journal(const Task& t, const Execution& e) {
    ExecHeader h;
    h.reason = static_cast<std::uint8_t>(e.why);
    h.correlated = t.fam_slot != hft::FlatIndex::npos ? 1 : 0;
    h.executed = e.why == Reason::None ? 1 : 0;
    h.line_len = sizeof(OrderRecord);
    h.family = t.family;
    h.req_id = e.req_id;
    h.seq = e.seq;
    h.filled = e.filled;
    h.notional = e.notional;
    return journal_->append(h, order_record(t.order));
  }

  SymbolState& symbol_state(hft::Symbol s) {
    const std::uint64_t key = s.key();
    for (std::size_t i = hft::FlatIndex::hash(key) & (kSymbols - 1), probes = 0; probes < kSymbols;
         i = (i + 1) & (kSymbols - 1), ++probes) {
      // Acquire pairs with the release store below: a published state is fully built.
      SymbolState* st = symbols_[i].load(std::memory_order_acquire);
      if (st == nullptr) {
        std::lock_guard lock(create_mutex_);
        st = symbols_[i].load(std::memory_order_acquire);  // pairs with the release store below
        if (st == nullptr) {
          const auto ref = refs_.find(key);
          storage_.push_back(std::make_unique<SymbolState>(
              s, ref == refs_.end() ? hft::Price::from_ticks(1'000'000) : ref->second, cfg_.risk, clock_.now_ns()));
          st = storage_.back().get();
          symbols_[i].store(st, std::memory_order_release);  // pairs with the acquire loads above
          return *st;
        }
      }
      if (st->symbol == s) return *st;
    }
    // Table full (4,096 symbols): the memory bound. Later symbols share the last slot's
    // state; documented in docs/mini_oms.md.
    return *symbols_[kSymbols - 1].load(std::memory_order_acquire);  // pairs with the release store above
  }

  // This thread's histogram writer, registered on its first task (the only allocation-free
  // way to give each executing thread its own histogram without a lock per record).
  hft::IntervalRecorder::Writer& writer() {
    struct Slot {
      const Venue* owner = nullptr;
      std::optional<hft::IntervalRecorder::Writer> w;
    };
    static thread_local Slot tl;
    if (tl.owner != this) {
      tl.w.emplace(built_.register_writer());
      tl.owner = this;
    }
    return *tl.w;
  }

  const ServerConfig& cfg_;
  const hft::TscClock& clock_;
  hft::IntervalRecorder built_;
  hft::LatencyHistogram total_built_ = stage_histogram();
  std::map<std::uint64_t, hft::Price> refs_;
  std::unique_ptr<std::atomic<SymbolState*>[]> symbols_ { new std::atomic<SymbolState*>[ kSymbols ] };
  std::vector<std::unique_ptr<SymbolState>> storage_;
  std::mutex create_mutex_;
  OmsJournal* journal_ = nullptr;
};

}  // namespace mini_oms
