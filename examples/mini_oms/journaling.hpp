// mini_oms/journaling.hpp: what --journal adds to the pipeline (docs/journal.md, "The
// mini-OMS, journaled"): the execution record, the writer shared by the executing threads,
// and the per-partition window that answers a re-sent request with its original reply.
//
// What is journaled: one record per executed request (ACK or parse/risk REJ), appended by
// the executing thread after the request's effects and before its reply leaves. A request
// that touched a book is appended while its symbol's mutex is still held, so the journal's
// order is the order in which every book saw its orders: replaying the journal in order
// re-runs each book exactly. Admission rejects (BUSY, FAMILY_FULL, SHUTDOWN) change no
// state (no seq_in_family, no book) and are not journaled.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "hft/core/flat_index.hpp"
#include "hft/journal/journal.hpp"
#include "line_protocol.hpp"
#include "logging.hpp"

namespace mini_oms {

// ---- the record -------------------------------------------------------------------------
// Payload of one journal record (native layout, like the journal itself): this fixed
// header, then the order. Two versions:
// - "EOM2" (written now): the header, then an OrderRecord (the Order's fields, binary).
//   No text is formatted on the executing thread; a re-sent request's reply is re-encoded
//   from the header's execution, as it always was.
// - "EOM1" (written by earlier builds, still replayed): the header, then the request line
//   and the reply text (line_len and reply_len bytes).
inline constexpr std::uint32_t kExecMagicText = 0x314d4f45;  // "EOM1"
inline constexpr std::uint32_t kExecMagic = 0x324d4f45;      // "EOM2"
struct ExecHeader {
  std::uint32_t magic = kExecMagic;
  std::uint8_t reason = 0;      // Reason: None for an ACK
  std::uint8_t correlated = 0;  // 1: family is a correlation id (dedup applies)
  std::uint8_t executed = 0;    // 1: the order went to its symbol's book (replay re-runs it)
  std::uint8_t pad = 0;
  std::uint16_t line_len = 0, reply_len = 0;  // EOM1 only (EOM2: sizeof(OrderRecord), 0)
  std::uint32_t pad2 = 0;
  std::uint64_t family = 0, req_id = 0, seq = 0;  // seq: seq_in_family
  std::int64_t filled = 0;                        // what the book filled: replay must match
  hft::Notional notional = 0;
};
static_assert(sizeof(ExecHeader) == 64, "the record header's size is part of the journal format");

/// EOM2: the order after the header (req_id is the header's).
struct OrderRecord {
  char symbol[hft::Symbol::kMaxLen] = {};  // NUL-padded
  std::int64_t qty = 0, price = 0, corr = -1;
  std::uint8_t side = 0, valid = 0;  // side: 0 buy, 1 sell
  std::uint8_t pad[6] = {};
};
static_assert(sizeof(OrderRecord) == 40, "the order record's size is part of the journal format");
inline constexpr std::size_t kExecRecord = sizeof(ExecHeader) + sizeof(OrderRecord);

inline OrderRecord order_record(const Order& o) noexcept {
  OrderRecord r;
  const std::string_view sym = o.symbol.view();
  std::memcpy(r.symbol, sym.data(), sym.size());
  r.qty = o.qty;
  r.price = o.price.ticks();
  r.corr = o.corr;
  r.side = o.side == hft::Side::Buy ? 0 : 1;
  r.valid = o.valid ? 1 : 0;
  return r;
}

struct ExecView {
  ExecHeader h;
  std::optional<Order> order;    // nullopt: the order was malformed (its REJ:BAD_MSG executed nothing)
  std::string_view line, reply;  // EOM1 only: the text it holds
};
/// The record, or nullopt when the payload is not one (a journal written by something else).
inline std::optional<ExecView> decode_exec(std::span<const std::byte> p) noexcept {
  ExecView v;
  if (p.size() < sizeof(ExecHeader)) return std::nullopt;
  std::memcpy(&v.h, p.data(), sizeof v.h);
  if (v.h.magic == kExecMagic) {
    if (p.size() != kExecRecord) return std::nullopt;
    OrderRecord r;
    std::memcpy(&r, p.data() + sizeof(ExecHeader), sizeof r);
    if (r.valid == 0) return v;
    std::size_t n = 0;
    while (n < sizeof r.symbol && r.symbol[n] != '\0') ++n;
    const auto sym = hft::Symbol::parse(std::string_view(r.symbol, n));
    if (!sym || r.side > 1) return std::nullopt;
    v.order = Order{.req_id = v.h.req_id,
                    .corr = r.corr,
                    .symbol = *sym,
                    .side = r.side == 0 ? hft::Side::Buy : hft::Side::Sell,
                    .valid = true,
                    .qty = r.qty,
                    .price = hft::Price::from_ticks(r.price)};
    return v;
  }
  if (v.h.magic != kExecMagicText || v.h.line_len > kMaxLine || v.h.reply_len > kMaxReply ||
      p.size() != sizeof(ExecHeader) + v.h.line_len + v.h.reply_len)
    return std::nullopt;
  const char* base = reinterpret_cast<const char*>(p.data()) + sizeof(ExecHeader);
  v.line = std::string_view(base, v.h.line_len);
  v.reply = std::string_view(base + v.h.line_len, v.h.reply_len);
  v.order = parse_request(v.line);
  return v;
}

/// The execution a record holds, as the pipeline answered it.
inline Execution execution_of(const ExecHeader& h) noexcept {
  return Execution{h.req_id, h.seq, h.filled, h.notional, static_cast<Reason>(h.reason)};
}

// ---- the writer --------------------------------------------------------------------------
// hft::Journal has one writer; the executing threads (workers, and the submitting threads
// that run tasks inline) take turns under a mutex, whose release/acquire carries each
// writer's plain stores to the next. Held for one append (~50 ns under `none`; one msync
// under `every`, which is the comparison policy).
class OmsJournal {
 public:
  OmsJournal(const std::string& dir, hft::Durability d, ServerLog& log)
      : log_(log), journal_(dir, hft::JournalConfig{.segment_size = std::size_t{64} << 20, .durability = d}) {}

  /// Any executing thread: appends one record; returns its journal sequence. A failed
  /// append (disk full during a roll, a failed sync under `every`) stops the process: the
  /// order's effect is already in its book but can never be made durable, and a crash is
  /// the state the journal recovers from exactly (the restart replays up to the last
  /// record, and the client re-sends). Carrying on would acknowledge what a restart forgets.
  std::uint64_t append(const ExecHeader& h, const OrderRecord& o) noexcept {
    std::lock_guard lock(mutex_);
    try {
      const std::span<std::byte> out = journal_.claim(kExecRecord);
      std::memcpy(out.data(), &h, sizeof h);
      std::memcpy(out.data() + sizeof h, &o, sizeof o);
      return journal_.commit(kExecRecord);
    } catch (const std::exception& e) {
      HFT_LOG_CRITICAL(log_.main(), "journal append failed ({}); stopping, no reply leaves unjournaled", e.what());
      log_.flush_before_abort();
      std::abort();
    }
  }
  /// Any thread: acquire; pairs with the journal's release when it advances.
  [[nodiscard]] std::uint64_t durable_sequence() const noexcept { return journal_.durable_sequence(); }
  /// Any thread (hft::Journal::flush needs no writer lock): everything appended is durable.
  void flush() { journal_.flush(); }
  [[nodiscard]] hft::Durability durability() const noexcept { return journal_.config().durability; }
  [[nodiscard]] const hft::JournalRecovery& recovery() const noexcept { return journal_.recovery(); }
  [[nodiscard]] std::uint64_t last_sequence() const noexcept { return journal_.last_sequence(); }

 private:
  ServerLog& log_;
  std::mutex mutex_;
  hft::Journal journal_;
};

// ---- the idempotency window --------------------------------------------------------------
// Per partition: the last `capacity` correlated requests it admitted, by (correlation id,
// req_id), with the reply each got. The partition's dispatching thread owns the index and
// the ring order; the executing thread fills an entry's reply and then releases `state`.
class DedupWindow {
 public:
  static constexpr std::uint32_t npos = hft::FlatIndex::npos;
  enum State : std::uint8_t { Free, Pending, Done };
  // A lookup reads only the key (state, family, req_id): 32 bytes, two to a cache line and
  // never split across two, apart from the reply it rarely needs (the profile showed the
  // state's load, 130 bytes into a combined entry, as a second miss per request).
  struct alignas(32) Key {
    std::atomic<std::uint8_t> state{Free};
    std::uint64_t family = 0, req_id = 0;
  };
  struct Entry {
    std::uint64_t seq = 0;
    std::uint64_t journal_seq = 0;  // the record its reply depends on
    Execution exec;                 // what the request got, re-encoded for a re-send
  };
  static_assert(sizeof(Key) == 32, "two keys to a cache line");

  explicit DedupWindow(std::size_t capacity)
      : index_(capacity), keys_(new Key[capacity]), entries_(new Entry[capacity]), capacity_(capacity) {}

  [[nodiscard]] static std::uint64_t key(std::uint64_t family, std::uint64_t req_id) noexcept {
    return hft::FlatIndex::hash(family ^ hft::FlatIndex::hash(req_id + 0x9e3779b97f4a7c15ULL));
  }
  /// Dispatching thread: the entry of (family, req_id), or npos.
  [[nodiscard]] std::uint32_t find(std::uint64_t family, std::uint64_t req_id) const noexcept {
    const std::uint32_t i = index_.find(key(family, req_id));
    if (i == npos) return npos;
    const Key& k = keys_[i];
    return k.family == family && k.req_id == req_id ? i : npos;
  }
  /// Dispatching thread: whether insert_pending() has an entry to reuse (the oldest is not
  /// still in flight). Acquire pairs with complete()'s release.
  [[nodiscard]] bool can_insert() const noexcept {
    return keys_[next_ % capacity_].state.load(std::memory_order_acquire) != Pending;
  }
  /// Dispatching thread, after can_insert(): a new pending entry, replacing the oldest; npos
  /// when the 64-bit key collides with another remembered pair (then it is not remembered).
  std::uint32_t insert_pending(std::uint64_t family, std::uint64_t req_id, std::uint64_t seq) noexcept {
    const auto i = static_cast<std::uint32_t>(next_ % capacity_);
    Key& k = keys_[i];
    // Acquire pairs with complete()'s release: the executing thread is done with the entry.
    const std::uint8_t st = k.state.load(std::memory_order_acquire);
    if (st == Pending) return npos;
    if (st == Done) (void)index_.erase(key(k.family, k.req_id));
    k.state.store(Free, std::memory_order_relaxed);
    if (!index_.try_insert(key(family, req_id), i)) {
      ++next_;  // a 64-bit key collision: not remembered, and the slot stays free
      return npos;
    }
    k.family = family;
    k.req_id = req_id;
    entries_[i].seq = seq;
    k.state.store(Pending, std::memory_order_relaxed);  // only this thread reads Pending
    ++next_;
    return i;
  }
  /// Dispatching thread: the admission failed after insert_pending(); forget the entry.
  void cancel(std::uint32_t i) noexcept {
    Key& k = keys_[i];
    (void)index_.erase(key(k.family, k.req_id));
    k.state.store(Free, std::memory_order_relaxed);
    --next_;  // the newest entry is the one cancelled
  }
  /// Executing thread (or replay): the reply the request got. Release pairs with the
  /// dispatching thread's acquire in state() and insert_pending().
  void complete(std::uint32_t i, const Execution& exec, std::uint64_t journal_seq) noexcept {
    Entry& e = entries_[i];
    e.exec = exec;
    e.journal_seq = journal_seq;
    keys_[i].state.store(Done, std::memory_order_release);
  }
  /// Dispatching thread. Acquire pairs with complete()'s release: a Done entry's execution is whole.
  [[nodiscard]] State state(std::uint32_t i) const noexcept {
    return static_cast<State>(keys_[i].state.load(std::memory_order_acquire));
  }
  [[nodiscard]] const Entry& entry(std::uint32_t i) const noexcept { return entries_[i]; }
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }

 private:
  hft::FlatIndex index_;
  std::unique_ptr<Key[]> keys_;
  std::unique_ptr<Entry[]> entries_;
  std::size_t capacity_;
  std::uint64_t next_ = 0;
};

}  // namespace mini_oms
