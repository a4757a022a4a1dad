// mini_oms/fix_acceptor.hpp: what the FIX port needs beside the line protocol, as pieces
// the gateway composes (docs/fix.md, "The mini-OMS FIX acceptor"):
//   - map_new_order: NewOrderSingle(D) -> the pipeline's request line, or a reject;
//   - ClOrdIdWindow: duplicate ClOrdIDs within a session, without allocating;
//   - FixRegistry: one session state (store, numbers, ClOrdIDs) per peer CompID, kept
//     across that peer's connections, and with --journal across restarts (its store is a
//     JournalMessageStore in <journal>/fix/<hex CompID>, whose app records also keep each
//     order's outcome: FixOutcomes, so a PossDup re-send gets its original reports);
//   - parse_reply_line + write_reports: the pipeline's reply -> ExecutionReport(s);
//   - fix_id_base: the OrderID/ExecID prefix, unique per start (a journaled boot epoch, or
//     a random nonce), and parse_peer_list for --fix-peers.
// The pipeline is the line protocol's: a FIX order becomes the same request line, is
// admitted, scheduled and executed the same way, and its reply comes back the same way.
#pragma once

#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "hft/core/flat_index.hpp"
#include "hft/fix/builder.hpp"
#include "hft/fix/journal_message_store.hpp"
#include "hft/fix/message.hpp"
#include "hft/fix/message_store.hpp"
#include "hft/fix/tags.hpp"
#include "logging.hpp"
#include "protocol.hpp"

namespace mini_oms {

namespace fixtag = hft::fix::tag;

inline constexpr std::size_t kMaxClOrdId = 40;
inline constexpr std::size_t kMaxAccount = 32;
inline constexpr std::size_t kMaxOrderId = 48;     // "<fix_id_base><gateway>-<n>": at most 45
inline constexpr std::size_t kMaxEchoNumber = 24;  // OrderQty/Price text a reject echoes

/// OrdRejReason(103) values of FIX 4.4 the acceptor uses.
enum class OrdRejReason : std::uint8_t {
  ExchangeClosed = 2,
  OrderExceedsLimit = 3,
  DuplicateOrder = 6,
  UnsupportedOrderCharacteristic = 11,
  IncorrectQuantity = 13,
  Other = 99,
};

/// A pipeline reject -> (OrdRejReason, Text). Text carries the line protocol's reason.
inline OrdRejReason ord_rej_reason(Reason r) noexcept {
  switch (r) {
    case Reason::RiskQty:
    case Reason::RiskNotional:
      return OrdRejReason::OrderExceedsLimit;
    case Reason::Shutdown:
      return OrdRejReason::ExchangeClosed;
    default:
      return OrdRejReason::Other;  // BUSY, FAMILY_FULL, RISK_PRICE, RISK_RATE, BAD_MSG: Text says which
  }
}

inline std::uint64_t fnv1a(std::string_view s) noexcept {
  std::uint64_t h = 1469598103934665603ULL;
  for (const char c : s) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  return h;
}

/// A NewOrderSingle the acceptor admitted or refused.
// clordid and account are valid up to their lengths: zeroing them would cost a memset per
// order.
// NOLINTNEXTLINE(cppcoreguidelines-pro-type-member-init)
struct FixOrder {
  char clordid[kMaxClOrdId];
  std::uint8_t clordid_len = 0;
  char account[kMaxAccount];
  std::uint8_t account_len = 0;
  hft::Symbol symbol;
  hft::Side side = hft::Side::Buy;
  std::int64_t qty = 0;
  hft::Price price;
  // What the order carried, for a reject to echo: Side(54), OrdType(40), TimeInForce(59)
  // ('\0' when absent or longer than a character), OrderQty(38) and Price(44) (length 0
  // when absent or longer than kMaxEchoNumber).
  char side_sent = 0;
  char ord_type_sent = 0;
  char tif_sent = 0;
  std::uint8_t qty_len = 0;
  std::uint8_t price_len = 0;
  char qty_text[kMaxEchoNumber];
  char price_text[kMaxEchoNumber];
  [[nodiscard]] std::string_view cl_ord_id() const noexcept { return {clordid, clordid_len}; }
  [[nodiscard]] std::string_view acct() const noexcept { return {account, account_len}; }
  [[nodiscard]] std::string_view qty_sent() const noexcept { return {qty_text, qty_len}; }
  [[nodiscard]] std::string_view price_sent() const noexcept { return {price_text, price_len}; }
};

/// A reject echoes a one-character field only when the value is one FIX 4.4 defines for it
/// (a validating peer would reject our report otherwise), and a Qty or Price only when it
/// has the FIX float format ([-]digits[.digits]).
inline constexpr std::string_view kFix44Sides = "123456789ABCDEFG";
inline constexpr std::string_view kFix44OrdTypes = "123456789ABCDEFGHIJKLMP";
inline constexpr std::string_view kFix44TimesInForce = "01234567";
inline bool echoable_char(char c, std::string_view allowed) noexcept {
  return c != '\0' && allowed.find(c) != std::string_view::npos;
}
inline bool echoable_number(std::string_view v) noexcept {
  if (!v.empty() && v.front() == '-') v.remove_prefix(1);
  bool digit = false, dot = false;
  for (const char c : v) {
    if (c >= '0' && c <= '9') {
      digit = true;
    } else if (c == '.' && !dot) {
      dot = true;
    } else {
      return false;
    }
  }
  return digit;
}

struct MapResult {
  bool ok = false;
  OrdRejReason reason = OrdRejReason::Other;
  std::string_view text;  // why, when !ok
};

/// NewOrderSingle -> FixOrder. The fields: ClOrdID(11), Symbol(55), Side(54) 1|2,
/// OrderQty(38) whole units (a ".0" fraction is accepted), OrdType(40) 2 (limit),
/// Price(44), TimeInForce(59) 3 (IOC: the venue's orders never rest), Account(1) optional.
inline MapResult map_new_order(const hft::fix::Message& m, FixOrder& o) noexcept {
  const std::string_view id = m.get(fixtag::kClOrdID);
  o.clordid_len = static_cast<std::uint8_t>(std::min(id.size(), kMaxClOrdId));
  if (o.clordid_len != 0) std::memcpy(o.clordid, id.data(), o.clordid_len);  // an absent field's view is null
  const std::string_view acct = m.get(fixtag::kAccount);
  o.account_len = static_cast<std::uint8_t>(std::min(acct.size(), kMaxAccount));
  if (o.account_len != 0) std::memcpy(o.account, acct.data(), o.account_len);
  const auto sym = hft::Symbol::parse(m.get(fixtag::kSymbol));
  if (sym) o.symbol = *sym;
  const char side = m.get_char(fixtag::kSide);
  o.side = side == '2' ? hft::Side::Sell : hft::Side::Buy;
  o.side_sent = side;
  o.ord_type_sent = m.get_char(fixtag::kOrdType);
  o.tif_sent = m.get_char(fixtag::kTimeInForce);
  const std::string_view qty_sent = m.get(fixtag::kOrderQty);
  o.qty_len = qty_sent.size() <= kMaxEchoNumber ? static_cast<std::uint8_t>(qty_sent.size()) : 0;
  if (o.qty_len != 0) std::memcpy(o.qty_text, qty_sent.data(), o.qty_len);
  const std::string_view price_sent = m.get(fixtag::kPrice);
  o.price_len = price_sent.size() <= kMaxEchoNumber ? static_cast<std::uint8_t>(price_sent.size()) : 0;
  if (o.price_len != 0) std::memcpy(o.price_text, price_sent.data(), o.price_len);
  auto bad = [](OrdRejReason r, std::string_view t) { return MapResult{false, r, t}; };
  if (id.empty()) return bad(OrdRejReason::Other, "BAD_MSG: ClOrdID(11) missing");
  if (id.size() > kMaxClOrdId) return bad(OrdRejReason::Other, "BAD_MSG: ClOrdID(11) longer than 40");
  if (acct.size() > kMaxAccount) return bad(OrdRejReason::Other, "BAD_MSG: Account(1) longer than 32");
  if (!sym) return bad(OrdRejReason::Other, "BAD_MSG: Symbol(55) missing or longer than 8");
  if (side != '1' && side != '2')
    return bad(OrdRejReason::UnsupportedOrderCharacteristic, "BAD_MSG: Side(54) must be 1 or 2");
  if (o.ord_type_sent != '2')
    return bad(OrdRejReason::UnsupportedOrderCharacteristic, "BAD_MSG: OrdType(40) must be 2 (limit)");
  if (o.tif_sent != '3')
    return bad(OrdRejReason::UnsupportedOrderCharacteristic, "BAD_MSG: TimeInForce(59) must be 3 (IOC)");
  std::string_view qty_text = qty_sent;
  if (const auto dot = qty_text.find('.'); dot != std::string_view::npos) {
    if (qty_text.find_first_not_of('0', dot + 1) != std::string_view::npos)
      return bad(OrdRejReason::IncorrectQuantity, "BAD_MSG: OrderQty(38) must be whole units");
    qty_text = qty_text.substr(0, dot);
  }
  const auto qty = parse_i64(qty_text);
  if (!qty || qty_text.front() == '-' || *qty < 1 || *qty > kMaxQty)
    return bad(OrdRejReason::IncorrectQuantity, "BAD_MSG: OrderQty(38) must be 1..2147483647");
  o.qty = *qty;
  const auto px = hft::parse_price(price_sent, kTick);
  if (!px || px->ticks() <= 0)
    return bad(OrdRejReason::Other, "BAD_MSG: Price(44) must be > 0 with at most 4 decimals");
  o.price = *px;
  return {true, OrdRejReason::Other, {}};
}

/// The family an order belongs to: its Account's (every order of an Account in FIFO order),
/// or, without one, a family of its own (the line protocol's -1). Accounts are hashed to a
/// non-negative correlation id: two accounts that collide share a family, which only
/// serialises them.
inline std::int64_t account_correlation(std::string_view account) noexcept {
  if (account.empty()) return -1;
  return static_cast<std::int64_t>(fnv1a(account) & 0x3FFF'FFFF'FFFF'FFFFULL);
}

/// The request line the pipeline executes: "<req_id> <corr> <SYM> <B|S> <qty> <price>".
inline std::size_t format_request_line(char* out, std::uint64_t req_id, std::int64_t corr, const FixOrder& o) noexcept {
  detail::Out w{out};
  w.num(req_id);
  w.put(' ');
  w.num(corr);
  w.put(' ');
  w.put(o.symbol.view());
  w.put(o.side == hft::Side::Buy ? " B " : " S ");
  w.num(o.qty);
  w.put(' ');
  char px[32];
  w.put(std::string_view(px, hft::format_price(o.price, kTick, px)));
  return w.n;
}

/// Duplicate ClOrdIDs within a session: remembers between `capacity` and 2 x `capacity` of
/// the most recent ones (two open-addressing tables of 64-bit hashes; when the current one
/// is full the older one is cleared and becomes current). No allocation after construction.
/// A hash collision would refuse a new ClOrdID as a duplicate: about 1 in 2^64 / capacity.
class ClOrdIdWindow {
 public:
  explicit ClOrdIdWindow(std::size_t capacity) : capacity_(capacity), mask_(slots_for(capacity) - 1) {
    tables_[0].assign(mask_ + 1, 0);
    tables_[1].assign(mask_ + 1, 0);
  }
  /// The key of `id` (never 0, which marks an empty slot).
  [[nodiscard]] static std::uint64_t key(std::string_view id) noexcept { return fnv1a(id) | 1; }
  /// Starts loading the slots `insert(k)` reads first. The tables are megabytes, so each
  /// probe is a cache miss: a caller that has other work to do first hides them.
  void prefetch(std::uint64_t k) const noexcept {
    __builtin_prefetch(tables_[0].data() + (k & mask_));
    __builtin_prefetch(tables_[1].data() + (k & mask_));
  }
  /// False when `id` was seen within the window (a duplicate); else remembers it.
  bool insert(std::string_view id) noexcept { return insert(key(id)); }
  bool insert(std::uint64_t h) noexcept {
    if (contains(tables_[0], h) || contains(tables_[1], h)) return false;
    if (count_ == capacity_) {
      current_ ^= 1;
      std::fill(tables_[current_].begin(), tables_[current_].end(), 0);
      count_ = 0;
    }
    auto& t = tables_[current_];
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      if (t[i] == 0) {
        t[i] = h;
        break;
      }
    }
    ++count_;
    return true;
  }
  [[nodiscard]] bool seen(std::string_view id) const noexcept { return seen(key(id)); }
  [[nodiscard]] bool seen(std::uint64_t h) const noexcept { return contains(tables_[0], h) || contains(tables_[1], h); }

 private:
  static std::size_t slots_for(std::size_t capacity) {
    std::size_t s = 16;
    while (s < 2 * capacity) s *= 2;  // at most half full
    return s;
  }
  [[nodiscard]] bool contains(const std::vector<std::uint64_t>& t, std::uint64_t h) const noexcept {
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      if (t[i] == h) return true;
      if (t[i] == 0) return false;
    }
  }
  std::size_t capacity_, mask_;
  std::vector<std::uint64_t> tables_[2];
  int current_ = 0;
  std::size_t count_ = 0;
};

/// --journal: the outcome of each recent order of a session, by ClOrdID key: its OrderID
/// and the pipeline's reply, so a PossDup re-send gets its original reports. A ring of
/// `capacity` entries with an index; the oldest is forgotten to make room. Allocates only
/// in the constructor.
class FixOutcomes {
 public:
  struct Outcome {
    std::uint64_t key = 0;
    std::uint8_t order_id_len = 0;
    std::uint8_t reply_len = 0;
    char order_id[kMaxOrderId] = {};
    char reply[kMaxReply] = {};
    [[nodiscard]] std::string_view order_id_view() const noexcept { return {order_id, order_id_len}; }
    [[nodiscard]] std::string_view reply_view() const noexcept { return {reply, reply_len}; }
  };
  explicit FixOutcomes(std::size_t capacity) : index_(capacity), ring_(capacity) {}
  /// The outcome of `key`, or nullptr.
  [[nodiscard]] const Outcome* find(std::uint64_t key) const noexcept {
    const std::uint32_t i = index_.find(key);
    return i == hft::FlatIndex::npos ? nullptr : &ring_[i];
  }
  void put(std::uint64_t key, std::string_view order_id, std::string_view reply) noexcept {
    if (const std::uint32_t old = index_.find(key); old != hft::FlatIndex::npos) {
      fill(ring_[old], key, order_id, reply);  // a second outcome for a key: the newer wins
      return;
    }
    const auto i = static_cast<std::uint32_t>(next_ % ring_.size());
    if (next_ >= ring_.size()) (void)index_.erase(ring_[i].key);
    fill(ring_[i], key, order_id, reply);
    (void)index_.try_insert(key, i);  // cannot fail: at most ring_.size() keys are live
    ++next_;
  }

 private:
  static void fill(Outcome& o, std::uint64_t key, std::string_view order_id, std::string_view reply) noexcept {
    o.key = key;
    o.order_id_len = static_cast<std::uint8_t>(std::min(order_id.size(), kMaxOrderId));
    std::memcpy(o.order_id, order_id.data(), o.order_id_len);
    o.reply_len = static_cast<std::uint8_t>(std::min(reply.size(), kMaxReply));
    std::memcpy(o.reply, reply.data(), o.reply_len);
  }
  hft::FlatIndex index_;
  std::vector<Outcome> ring_;
  std::uint64_t next_ = 0;
};

// --journal: the acceptor's own records in its session's store journal (JournalMessageStore
// app records), replayed in order when the session's state is created.
//   'N' key            an order admitted under this ClOrdID (the ClOrdID window remembers it)
//   'D' key id reply   its outcome: the OrderID and the pipeline's reply its reports came from
struct FixAppRecord {
  char kind = 'N';
  std::uint8_t order_id_len = 0;
  std::uint8_t reply_len = 0;
  std::uint8_t pad[5] = {};
  std::uint64_t key = 0;
};
static_assert(sizeof(FixAppRecord) == 16, "the record's size is part of the journal format");

/// A journal append that fails (disk full at a roll, a failed msync under `every`) stops the
/// process, as OmsJournal does: a report would leave whose number or outcome a restart
/// forgets, and a crash is the state the journal recovers from exactly.
[[noreturn]] inline void fix_journal_fatal(const std::exception& e, ServerLog& log) noexcept {
  HFT_LOG_CRITICAL(log.main(), "FIX session journal append failed ({}); stopping", e.what());
  log.flush_before_abort();
  std::abort();
}

/// --journal: the session's JournalMessageStore with fix_journal_fatal's policy.
class FixJournalStore final : public hft::fix::MessageStore {
 public:
  FixJournalStore(std::unique_ptr<hft::fix::JournalMessageStore> s, ServerLog& log) : s_(std::move(s)), log_(log) {}
  void store(std::uint64_t seq, std::string_view wire) override {
    guard([&] { s_->store(seq, wire); });
  }
  [[nodiscard]] std::string_view load(std::uint64_t seq) const override { return s_->load(seq); }
  [[nodiscard]] std::uint64_t next_sender_seq() const override { return s_->next_sender_seq(); }
  [[nodiscard]] std::uint64_t next_target_seq() const override { return s_->next_target_seq(); }
  void set_next_sender_seq(std::uint64_t seq) override {
    guard([&] { s_->set_next_sender_seq(seq); });
  }
  void set_next_target_seq(std::uint64_t seq) override {
    guard([&] { s_->set_next_target_seq(seq); });
  }
  void reset() override {
    guard([&] { s_->reset(); });
  }
  void append_app(std::span<const std::byte> b) noexcept {
    guard([&] { s_->append_app(b); });
  }
  [[nodiscard]] hft::fix::JournalMessageStore& inner() noexcept { return *s_; }

 private:
  template <class F>
  void guard(F&& f) const noexcept {
    try {
      f();
    } catch (const std::exception& e) {
      fix_journal_fatal(e, log_);
    }
  }
  std::unique_ptr<hft::fix::JournalMessageStore> s_;
  ServerLog& log_;
};

/// What a peer's session keeps between its connections (and, with --journal, across
/// restarts): the outbound store with both sequence numbers, the ClOrdIDs it used, and with
/// --journal the outcome of its recent orders.
struct FixSessionState {
  FixSessionState(std::string id, std::unique_ptr<hft::fix::MessageStore> s, std::size_t clordid_window)
      : comp_id(std::move(id)), session_hash(fnv1a(comp_id)), store(std::move(s)), clordids(clordid_window) {}
  std::string comp_id;
  std::uint64_t session_hash;
  std::unique_ptr<hft::fix::MessageStore> store;
  ClOrdIdWindow clordids;
  FixJournalStore* journal = nullptr;     // store, when it is journaled
  std::unique_ptr<FixOutcomes> outcomes;  // --journal only
  bool in_use = false;                    // logged on over some connection (under the registry's mutex)
  bool confirmed = false;                 // a Logon of this CompID was accepted (under the registry's mutex)
  bool dir_created = false;               // --journal: acquire() created its store's directory

  /// --journal: the order under `key` was admitted. Before it reaches the pipeline, so a
  /// restart knows the ClOrdID whatever happened next.
  void journal_admitted(std::uint64_t key) {
    const FixAppRecord r{'N', 0, 0, {}, key};
    journal->append_app(std::as_bytes(std::span(&r, 1)));
  }
  /// --journal: the order under `key` got its reports from `reply`, as OrderID `order_id`.
  void journal_outcome(std::uint64_t key, std::string_view order_id, std::string_view reply) {
    outcomes->put(key, order_id, reply);
    const FixAppRecord r{'D',
                         static_cast<std::uint8_t>(std::min(order_id.size(), kMaxOrderId)),
                         static_cast<std::uint8_t>(std::min(reply.size(), kMaxReply)),
                         {},
                         key};
    std::byte buf[sizeof r + kMaxOrderId + kMaxReply];
    std::memcpy(buf, &r, sizeof r);
    std::memcpy(buf + sizeof r, order_id.data(), r.order_id_len);
    std::memcpy(buf + sizeof r + r.order_id_len, reply.data(), r.reply_len);
    journal->append_app(std::span<const std::byte>(buf, sizeof r + r.order_id_len + r.reply_len));
  }
  /// Replay of one of our app records (the store's constructor calls it, in order).
  void replay(std::span<const std::byte> p) {
    FixAppRecord r;
    if (p.size() < sizeof r) throw std::runtime_error("FIX journal of " + comp_id + ": a short acceptor record");
    std::memcpy(&r, p.data(), sizeof r);
    if (r.kind == 'N') {
      (void)clordids.insert(r.key);
    } else if (r.kind == 'D' && p.size() == sizeof r + r.order_id_len + r.reply_len) {
      const char* t = reinterpret_cast<const char*>(p.data()) + sizeof r;
      outcomes->put(r.key, {t, r.order_id_len}, {t + r.order_id_len, r.reply_len});
    } else {
      throw std::runtime_error("FIX journal of " + comp_id + ": an acceptor record that is not N or D");
    }
  }
};

/// The req_id of a FIX order in the pipeline: a function of the session and the ClOrdID,
/// so a re-send after a restart is the same (correlation id, req_id) pair the journal's
/// re-send window answers with the original reply, and a new order after a restart never
/// takes an old one's place. 62 bits, never 0.
inline std::uint64_t fix_req_id(std::uint64_t session_hash, std::uint64_t clordid_key) noexcept {
  return (hft::FlatIndex::hash(session_hash ^ hft::FlatIndex::hash(clordid_key)) & 0x3FFF'FFFF'FFFF'FFFFULL) | 1;
}

/// Every peer CompID's state, shared by the I/O threads: looked up once per logon.
class FixRegistry {
 public:
  struct Limits {
    std::size_t max_sessions = 64;
    std::size_t store_messages = 1u << 15;
    std::size_t store_bytes = std::size_t{8} << 20;
    std::size_t clordids = 1u << 16;
    std::size_t outcomes = 1u << 14;  // --journal: orders whose outcome a PossDup re-send can get
    std::string journal_dir;          // --journal: the sessions' stores live in <dir>/fix/<hex CompID>
    hft::Durability durability = hft::Durability::none;
    std::size_t journal_segment = std::size_t{4} << 20;  // each store's segment files (a roll allocates)
  };
  // `log`: the I/O threads call acquire() (a journal that cannot be opened is logged there).
  FixRegistry(Limits lim, ServerLog& log) : lim_(std::move(lim)), log_(log) {}

  /// The state of `comp_id`, marked in use; nullptr when it is in use over another
  /// connection (a second logon), there are max_sessions CompIDs already, or (--journal)
  /// its journal cannot be opened (the reason is logged). Allocates on a CompID's first
  /// logon; with --journal that logon also opens and replays its journal.
  FixSessionState* acquire(std::string_view comp_id, const char*& why) {
    std::lock_guard lock(mutex_);
    for (auto& s : sessions_) {
      if (s->comp_id == comp_id) {
        if (s->in_use) {
          why = "already logged on over another connection";
          return nullptr;
        }
        s->in_use = true;
        return s.get();
      }
    }
    if (sessions_.size() >= lim_.max_sessions) {
      why = "too many FIX sessions";
      return nullptr;
    }
    std::unique_ptr<FixSessionState> s;
    bool created = false;
    if (lim_.journal_dir.empty()) {
      s = std::make_unique<FixSessionState>(
          std::string(comp_id), std::make_unique<hft::fix::InMemoryMessageStore>(lim_.store_messages, lim_.store_bytes),
          lim_.clordids);
    } else {
      try {
        std::error_code ec;
        created = !std::filesystem::exists(session_dir(lim_.journal_dir, comp_id), ec);
        s = open_journaled(comp_id);
      } catch (const std::exception& e) {
        HFT_LOG_ERROR(log_.io(), "FIX session {}: {}", comp_id, e.what());
        why = "its journal cannot be opened";
        return nullptr;
      }
    }
    s->in_use = true;
    s->dir_created = created;
    sessions_.push_back(std::move(s));
    return sessions_.back().get();
  }
  /// Gives `s` back after its connection closed. `logged_on`: its Logon was accepted over
  /// that connection. A state no Logon was ever accepted for is forgotten, and with
  /// --journal the store directory acquire() created for it is removed: a refused Logon
  /// leaves the registry (and max_sessions) as it found them.
  void release(FixSessionState* s, bool logged_on) {
    std::lock_guard lock(mutex_);
    s->in_use = false;
    s->confirmed |= logged_on;
    if (s->confirmed) return;
    const auto it = std::find_if(sessions_.begin(), sessions_.end(), [&](const auto& p) { return p.get() == s; });
    if (it == sessions_.end()) return;
    const bool remove_dir = s->dir_created;
    const std::string dir = remove_dir ? session_dir(lim_.journal_dir, s->comp_id) : std::string();
    sessions_.erase(it);  // closes its store first
    std::error_code ec;
    if (remove_dir) std::filesystem::remove_all(dir, ec);
  }
  /// How many CompIDs have a state (tests).
  [[nodiscard]] std::size_t size() {
    std::lock_guard lock(mutex_);
    return sessions_.size();
  }
  /// --journal: the directory of `comp_id`'s store (hex, so any CompID is a file name).
  [[nodiscard]] static std::string session_dir(const std::string& journal_dir, std::string_view comp_id) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string d = journal_dir + "/fix/";
    for (const char c : comp_id) {
      d += kHex[static_cast<unsigned char>(c) >> 4];
      d += kHex[static_cast<unsigned char>(c) & 15];
    }
    return d;
  }

 private:
  std::unique_ptr<FixSessionState> open_journaled(std::string_view comp_id) {
    // The store replays our records into the state it belongs to: build the state first,
    // then the store, then hand the store over.
    auto s = std::make_unique<FixSessionState>(std::string(comp_id), nullptr, lim_.clordids);
    s->outcomes = std::make_unique<FixOutcomes>(lim_.outcomes);
    auto store = std::make_unique<hft::fix::JournalMessageStore>(
        session_dir(lim_.journal_dir, comp_id),
        hft::fix::JournalMessageStoreConfig{.max_messages = lim_.store_messages,
                                            .max_bytes = lim_.store_bytes,
                                            .segment_size = lim_.journal_segment,
                                            .durability = lim_.durability},
        [&](std::span<const std::byte> p) { s->replay(p); });
    auto fatal = std::make_unique<FixJournalStore>(std::move(store), log_);
    s->journal = fatal.get();
    s->store = std::move(fatal);
    return s;
  }

  Limits lim_;
  ServerLog& log_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<FixSessionState>> sessions_;
};

/// A pipeline reply, read back: "<req_id> ACK <seq> <filled> <avg>" or "<req_id> REJ:<REASON>".
struct ParsedReply {
  std::uint64_t req_id = 0;
  bool ack = false;
  std::int64_t filled = 0;
  std::string_view avg;     // decimal text, "0" when nothing filled
  std::string_view reason;  // "RISK_QTY", ...
  Reason why = Reason::None;
};
inline std::optional<ParsedReply> parse_reply_line(std::string_view line) noexcept {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  std::string_view f[5];
  const std::size_t n = split(line, f);
  ParsedReply r;
  const auto id = parse_u64(f[0]);
  if (!id || n < 2) return std::nullopt;
  r.req_id = *id;
  if (n == 5 && f[1] == "ACK") {
    const auto filled = parse_i64(f[3]);
    if (!filled) return std::nullopt;
    r.ack = true;
    r.filled = *filled;
    r.avg = f[4];
    return r;
  }
  if (n == 2 && f[1].substr(0, 4) == "REJ:") {
    r.reason = f[1].substr(4);
    for (const Reason w : {Reason::Busy, Reason::BadMsg, Reason::RiskQty, Reason::RiskPrice, Reason::RiskNotional,
                           Reason::RiskRate, Reason::FamilyFull, Reason::Shutdown})
      if (reason_text(w) == r.reason) r.why = w;
    return r;
  }
  return std::nullopt;
}

/// What the reports of an order say, straight from the pipeline's Execution (no text in
/// between); `avg` holds the average price's text.
inline ParsedReply report_of(const Execution& e, char (&avg)[32]) noexcept {
  ParsedReply r;
  r.req_id = e.req_id;
  r.ack = e.why == Reason::None;
  r.filled = e.filled;
  r.avg = std::string_view(avg, format_avg_price(avg, e.filled, e.notional));
  r.reason = reason_text(e.why);
  r.why = e.why;
  return r;
}

/// The fields every ExecutionReport of `o` carries, after the session's header. An order
/// that executed carries what it was mapped to; a reject (ExecType 8) echoes what the order
/// sent in Side, OrderQty, OrdType, Price and TimeInForce, and omits each one it did not
/// send or sent in a form a report cannot carry (echoable_char, echoable_number).
inline void add_order_fields(hft::fix::MessageBuilder& b, const FixOrder& o, std::string_view order_id,
                             std::string_view exec_id, char exec_type, char ord_status) {
  b.add(fixtag::kOrderID, order_id);
  if (o.clordid_len != 0) b.add(fixtag::kClOrdID, o.cl_ord_id());
  if (o.account_len != 0) b.add(fixtag::kAccount, o.acct());
  b.add(fixtag::kExecID, exec_id).add_char(fixtag::kExecType, exec_type).add_char(fixtag::kOrdStatus, ord_status);
  b.add(fixtag::kSymbol, o.symbol.view().empty() ? std::string_view("NONE") : o.symbol.view());
  if (exec_type != '8') {
    b.add_char(fixtag::kSide, o.side == hft::Side::Buy ? '1' : '2');
    b.add(fixtag::kOrderQty, o.qty);
    b.add_char(fixtag::kOrdType, '2');
    b.add_price(fixtag::kPrice, o.price, kTick);
    b.add_char(fixtag::kTimeInForce, '3');
    return;
  }
  if (echoable_char(o.side_sent, kFix44Sides)) b.add_char(fixtag::kSide, o.side_sent);
  if (echoable_number(o.qty_sent())) b.add(fixtag::kOrderQty, o.qty_sent());
  if (echoable_char(o.ord_type_sent, kFix44OrdTypes)) b.add_char(fixtag::kOrdType, o.ord_type_sent);
  if (echoable_number(o.price_sent())) b.add(fixtag::kPrice, o.price_sent());
  if (echoable_char(o.tif_sent, kFix44TimesInForce)) b.add_char(fixtag::kTimeInForce, o.tif_sent);
}

/// The ExecutionReports for one order, through `send(fill)` (the session's send_app with
/// MsgType 8): a reject (ExecType=8, OrdStatus=8, OrdRejReason, Text); or a Trade for the
/// executed quantity at its average price (OrdStatus 2 when all of it, else 1), then the
/// Canceled report for the remainder (OrdStatus 4), which is the only report when nothing
/// filled. Returns how many it sent.
/// OrderID is `order_id`; each report's ExecID is `order_id` + "." + 0 (reject), 1 (trade)
/// or 2 (cancel).
template <class Send>
int write_reports(Send&& send, const FixOrder& o, std::string_view order_id, const ParsedReply* rep, OrdRejReason rej,
                  std::string_view rej_text, std::uint64_t now_ns) {
  char exec_id[80];
  auto exec = [&](int k) {
    const std::size_t n = std::min<std::size_t>(order_id.size(), sizeof exec_id - 2);
    std::memcpy(exec_id, order_id.data(), n);
    exec_id[n] = '.';
    exec_id[n + 1] = static_cast<char>('0' + k);
    return std::string_view(exec_id, n + 2);
  };
  if (rep == nullptr || !rep->ack) {
    send([&](hft::fix::MessageBuilder& b) {
      add_order_fields(b, o, order_id, exec(0), '8', '8');
      b.add(fixtag::kLastQty, 0).add(fixtag::kLastPx, 0).add(fixtag::kLeavesQty, 0).add(fixtag::kCumQty, 0);
      b.add(fixtag::kAvgPx, 0).add_timestamp(fixtag::kTransactTime, now_ns);
      b.add(fixtag::kOrdRejReason, static_cast<unsigned>(rej)).add(fixtag::kText, rej_text);
    });
    return 1;
  }
  int sent = 0;
  if (rep->filled > 0) {
    const bool all = rep->filled >= o.qty;
    send([&](hft::fix::MessageBuilder& b) {
      add_order_fields(b, o, order_id, exec(1), 'F', all ? '2' : '1');
      b.add(fixtag::kLastQty, rep->filled).add(fixtag::kLastPx, rep->avg);
      b.add(fixtag::kLeavesQty, all ? 0 : o.qty - rep->filled).add(fixtag::kCumQty, rep->filled);
      b.add(fixtag::kAvgPx, rep->avg).add_timestamp(fixtag::kTransactTime, now_ns);
    });
    ++sent;
    if (all) return sent;
  }
  send([&](hft::fix::MessageBuilder& b) {
    add_order_fields(b, o, order_id, exec(2), '4', '4');
    b.add(fixtag::kLastQty, 0).add(fixtag::kLastPx, 0).add(fixtag::kLeavesQty, 0).add(fixtag::kCumQty, rep->filled);
    b.add(fixtag::kAvgPx, rep->avg).add_timestamp(fixtag::kTransactTime, now_ns);
    b.add(fixtag::kText, "IOC: remainder canceled");
  });
  return sent + 1;
}

// ---- OrderIDs and ExecIDs unique across restarts ----------------------------------------
// An OrderID is "<base><gateway>-<n>", n counting from 1 in each gateway; its ExecIDs add
// ".0", ".1" or ".2". The base is what makes them unique across starts, and it never comes
// from the clock (two starts within a second, or a clock stepped back, would repeat it):
//   --journal: "E<epoch>-", a boot epoch kept in <journal>/fix/boot_epoch, incremented and
//              made durable before the FIX port opens (next_boot_epoch);
//   otherwise: "R<16 hex digits>-", a 64-bit nonce from getrandom(2).

[[noreturn]] inline void boot_epoch_fail(const std::string& path, const char* op, int err) {
  throw std::runtime_error("FIX boot epoch " + path + ": " + op + ": " +
                           std::generic_category().message(err));  // strerror is MT-unsafe
}

/// --journal: reads <journal_dir>/fix/boot_epoch (0 when there is none), writes the next
/// value durably (a temporary file, fsync, rename over the old one, fsync of the
/// directory) and returns it. Throws std::runtime_error when a step fails or the file does
/// not hold a number: a server that cannot be sure its epoch is new must not start.
inline std::uint64_t next_boot_epoch(const std::string& journal_dir) {
  const std::string dir = journal_dir + "/fix";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw std::runtime_error("FIX boot epoch: cannot create " + dir + ": " + ec.message());
  const std::string path = dir + "/boot_epoch";
  std::uint64_t epoch = 0;
  const int in = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (in >= 0) {
    char buf[32];
    const ssize_t n = ::read(in, buf, sizeof buf);
    const int err = errno;
    ::close(in);
    if (n < 0) boot_epoch_fail(path, "read", err);
    const std::string_view text(buf, static_cast<std::size_t>(n));
    const auto end = text.find('\n');
    const auto v = parse_u64(text.substr(0, end));
    if (!v || end == std::string_view::npos || *v == std::numeric_limits<std::uint64_t>::max())
      throw std::runtime_error("FIX boot epoch " + path + ": not a number and a newline: refusing to start");
    epoch = *v;
  } else if (errno != ENOENT) {
    boot_epoch_fail(path, "open", errno);
  }
  ++epoch;
  char line[32];
  const auto r = std::to_chars(line, line + sizeof line - 1, epoch);
  *r.ptr = '\n';
  const auto len = static_cast<std::size_t>(r.ptr + 1 - line);
  const std::string tmp = path + ".tmp";
  const int out = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) boot_epoch_fail(tmp, "open", errno);
  const bool written = ::write(out, line, len) == static_cast<ssize_t>(len) && ::fsync(out) == 0;
  const int err = errno;
  ::close(out);
  if (!written) boot_epoch_fail(tmp, "write/fsync", err);
  if (::rename(tmp.c_str(), path.c_str()) != 0) boot_epoch_fail(path, "rename", errno);
  const int d = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (d < 0) boot_epoch_fail(dir, "open", errno);
  const bool synced = ::fsync(d) == 0;
  const int derr = errno;
  ::close(d);
  if (!synced) boot_epoch_fail(dir, "fsync", derr);
  return epoch;
}

/// 64 random bits from getrandom(2). Throws std::runtime_error when the kernel has none.
inline std::uint64_t random_nonce() {
  std::uint64_t v = 0;
  for (;;) {
    const ssize_t n = ::getrandom(&v, sizeof v, 0);
    if (n == static_cast<ssize_t>(sizeof v)) return v;
    if (n < 0 && errno != EINTR) throw std::runtime_error("getrandom: " + std::generic_category().message(errno));
  }
}

/// The OrderID base of this start: "E<epoch>-" with a journal (next_boot_epoch), else
/// "R<16 hex digits>-" (random_nonce). Throws when neither can be had.
inline std::string fix_id_base(const std::string& journal_dir) {
  if (!journal_dir.empty()) return "E" + std::to_string(next_boot_epoch(journal_dir)) + "-";
  static constexpr char kHex[] = "0123456789abcdef";
  const std::uint64_t nonce = random_nonce();
  std::string s = "R";
  for (int shift = 60; shift >= 0; shift -= 4) s += kHex[(nonce >> shift) & 15];
  return s + "-";
}

/// --fix-peers A,B,...: the CompIDs, each non-empty. Throws std::invalid_argument otherwise.
inline std::vector<std::string> parse_peer_list(std::string_view v) {
  const std::string_view all = v;
  std::vector<std::string> out;
  for (;;) {
    const auto comma = v.find(',');
    const std::string_view id = v.substr(0, comma);
    if (id.empty() || id.find_first_of(" \x01") != std::string_view::npos)
      throw std::invalid_argument("an empty or malformed CompID in '" + std::string(all) + "'");
    out.emplace_back(id);
    if (comma == std::string_view::npos) return out;
    v.remove_prefix(comma + 1);
  }
}

// ---- business-level rejects of invalid application messages ------------------------------
// The session's dictionary found a value-level problem in an application message (a
// required body field missing, an enum value out of range, a bad data format) and hands it
// to the application (Session: on_invalid_app_message): the acceptor answers it the way a
// business problem is answered, not with a session Reject.

/// What the acceptor needs of a session's Violation (hft/fix/dictionary.hpp): the field, the
/// problem (static text), and whether the field is missing.
struct FieldProblem {
  std::uint32_t tag = 0;
  std::string_view text;
  bool missing = false;
};

/// The field `tag`, as a reject's Text names it: "Side(54)", or "tag 9999" for one the
/// acceptor does not read.
inline std::string_view field_name(std::uint32_t tag) noexcept {
  switch (tag) {
    case fixtag::kAccount:
      return "Account";
    case fixtag::kClOrdID:
      return "ClOrdID";
    case fixtag::kOrderQty:
      return "OrderQty";
    case fixtag::kOrdType:
      return "OrdType";
    case fixtag::kOrigClOrdID:
      return "OrigClOrdID";
    case fixtag::kPrice:
      return "Price";
    case fixtag::kSide:
      return "Side";
    case fixtag::kSymbol:
      return "Symbol";
    case fixtag::kTimeInForce:
      return "TimeInForce";
    case fixtag::kTransactTime:
      return "TransactTime";
    default:
      return {};
  }
}

/// "BAD_MSG: Side(54): value out of range" into `out` (at most kMaxReply bytes); returns the text.
inline std::string_view invalid_field_text(char (&out)[kMaxReply], std::uint32_t tag,
                                           std::string_view problem) noexcept {
  detail::Out w{out};
  w.put("BAD_MSG: ");
  const std::string_view name = field_name(tag);
  if (!name.empty()) {
    w.put(name);
    w.put('(');
    w.num(tag);
    w.put(')');
  } else {
    w.put("tag ");
    w.num(tag);
  }
  w.put(": ");
  w.put(problem);  // cut at kMaxReply
  return {out, w.n};
}

/// The OrdRejReason of an order whose field `tag` is invalid: IncorrectQuantity for a bad
/// OrderQty, UnsupportedOrderCharacteristic for a Side, OrdType or TimeInForce out of
/// range, else Other (Text says which field and why).
inline OrdRejReason invalid_field_reason(std::uint32_t tag, bool missing) noexcept {
  if (missing) return OrdRejReason::Other;
  if (tag == fixtag::kOrderQty) return OrdRejReason::IncorrectQuantity;
  if (tag == fixtag::kSide || tag == fixtag::kOrdType || tag == fixtag::kTimeInForce)
    return OrdRejReason::UnsupportedOrderCharacteristic;
  return OrdRejReason::Other;
}

}  // namespace mini_oms
