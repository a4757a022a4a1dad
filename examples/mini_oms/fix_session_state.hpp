// mini_oms/fix_session_state.hpp: what a FIX peer's session keeps between its connections
// and, with --journal, across restarts (docs/fix.md, "The mini-OMS FIX acceptor").
//
// Owns: ClOrdIdWindow (duplicate ClOrdIDs within a session, without allocating);
// FixOutcomes (--journal: each recent order's OrderID and reply, so a PossDup re-send gets
// its original reports); the acceptor's journal records (FixAppRecord) and store
// (FixJournalStore: a JournalMessageStore in <journal>/fix/<hex CompID>, whose failed
// append stops the process, fix_journal_fatal); FixSessionState; FixRegistry (one state
// per peer CompID, kept across that peer's connections, shared by the I/O threads under
// its mutex); parse_peer_list for --fix-peers.
// May call: fix_order_map.hpp (fnv1a, kMaxOrderId), hft::fix's message stores,
// hft::FlatIndex, the filesystem (a journaled session's directory), the server's log.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <memory>
#include <mutex>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "fix_order_map.hpp"
#include "hft/core/flat_index.hpp"
#include "hft/fix/journal_message_store.hpp"
#include "hft/fix/message_store.hpp"
#include "hft/journal/journal.hpp"
#include "line_protocol.hpp"
#include "logging.hpp"

namespace mini_oms {

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

}  // namespace mini_oms
