// hft/fix/journal_message_store.hpp: fix::JournalMessageStore, a MessageStore whose
// outbound messages and sequence numbers survive a restart, written to an hft::Journal.
//
// What: every change the Session makes is one journal record: an outbound application
//   message (store), a next-sender number that the last stored message does not already
//   imply (admin messages), a next-target number (every inbound message), a reset. Opening
//   the store opens the journal (which cuts a torn tail) and replays it: the numbers are
//   the last ones written, and the newest messages are back in an InMemoryMessageStore of
//   the configured bounds, which load() serves (a resend of anything older becomes a
//   SequenceReset-GapFill, as with the in-memory store). The application may journal
//   records of its own in the same order (append_app) and gets them back, in order, from
//   the constructor's replay (the mini-OMS keeps the outcome of each ClOrdID there).
// When to use: a FIX session whose numbers and resend must survive a crash or a restart
//   without ResetSeqNumFlag. When not: sessions that reset every logon (InMemoryMessageStore
//   costs no disk); more than one session per directory (one store per session: the journal
//   has one writer).
// Durability: the journal's (JournalConfig). Under Durability::none a record survives a
//   crash of the process, not a power loss; under batch a message may leave before its
//   record is durable, so after a power loss the peer can hold numbers the store forgot
//   (it then sees MsgSeqNum too low and logs out, the behaviour of any engine whose store
//   lags the wire, e.g. QuickFIX's FileStore without fsync). Use every for that case.
// Thread-safety: one thread (the session's), like every MessageStore.
// Progress: blocking only where the journal blocks (a segment roll; msync under every);
//   otherwise each call is one append.
// Memory ordering: none of its own (the journal publishes its records with release stores).
// Complexity: store O(message) (copy + CRC32C); numbers O(1); load O(log max_messages);
//   open O(journal size). Allocates in the constructor (the cache, the replay); appends do
//   not allocate. With prepare_next (the default) the journal keeps one thread, asleep but
//   for preparing the next segment. The journal is never compacted: start a directory per
//   trading session.
// Errors: a failed append throws hft::JournalError from the call that made it (the
//   in-memory numbers have moved; the journal has not); opening a damaged journal throws
//   hft::JournalCorrupt; a journal whose records are not this store's throws
//   std::runtime_error.
// Compared with: QuickFIX's FileStore writes a body file, a header index and a seqnums file
//   it rewrites on every number change; this one appends to one log and replays it.
// Lifecycle: not copyable or movable (it owns a Journal).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "hft/fix/message_store.hpp"
#include "hft/journal/journal.hpp"
#include "hft/journal/journal_reader.hpp"

namespace hft::fix {

/// Settings of a JournalMessageStore: the resend cache's bounds and the journal's.
struct JournalMessageStoreConfig {
  std::size_t max_messages = std::size_t{1} << 15;  ///< newest messages kept in memory for resend
  std::size_t max_bytes = std::size_t{8} << 20;     ///< and at most these bytes of them
  std::size_t segment_size = std::size_t{4} << 20;  ///< the journal's segment files
  Durability durability = Durability::none;         ///< when appends reach the disk (Journal's Durability)
  /// JournalConfig::prepare_next: a thread prepares the next segment, so a roll (every few
  /// tens of thousands of messages at 4 MiB) is a rename on the session's thread rather than
  /// a ~2 ms file creation.
  bool prepare_next = true;
};

/// What opening the store found.
struct JournalMessageStoreReplay {
  std::uint64_t records = 0;      ///< journal records replayed
  std::uint64_t messages = 0;     ///< outbound messages among them
  std::uint64_t app_records = 0;  ///< the application's records among them
  std::uint64_t resets = 0;       ///< sequence resets (Logon with ResetSeqNumFlag=Y) among them
};

/// A MessageStore that journals sequence numbers and sent messages to disk and replays them on
/// open, so a restarted session resumes; also carries the application's own records in order.
class JournalMessageStore final : public MessageStore {
 public:
  /// Opens (creating if needed) the store in `dir` and replays it; each application record
  /// goes to `on_app_record(std::span<const std::byte>)` in the order it was appended.
  template <class OnAppRecord>
  JournalMessageStore(std::string dir, const JournalMessageStoreConfig& cfg, OnAppRecord&& on_app_record)
      : cache_(cfg.max_messages, cfg.max_bytes),
        journal_(dir, JournalConfig{.segment_size = cfg.segment_size, .durability = cfg.durability,
                                    .prepare_next = cfg.prepare_next}) {
    JournalReader reader(std::move(dir));
    while (reader.poll([&](const JournalRecord& r) { replay(r.payload, on_app_record); }) > 0) {
    }
  }
  /// Opens (creating if needed) the store in `dir` and replays it, ignoring application
  /// records. Throws JournalError on I/O errors.
  explicit JournalMessageStore(std::string dir, const JournalMessageStoreConfig& cfg = {})
      : JournalMessageStore(std::move(dir), cfg, [](std::span<const std::byte>) {}) {}

  JournalMessageStore(const JournalMessageStore&) = delete;
  JournalMessageStore& operator=(const JournalMessageStore&) = delete;

  void store(std::uint64_t seq, std::string_view wire) override {
    put(Kind::Out, seq, wire);
    cache_.store(seq, wire);
    journaled_sender_ = seq + 1;
  }
  [[nodiscard]] std::string_view load(std::uint64_t seq) const override { return cache_.load(seq); }
  [[nodiscard]] std::uint64_t next_sender_seq() const override { return cache_.next_sender_seq(); }
  [[nodiscard]] std::uint64_t next_target_seq() const override { return cache_.next_target_seq(); }
  // A stored message already says its successor's number: the session's set right after
  // store() costs no record, an admin message's does.
  void set_next_sender_seq(std::uint64_t seq) override {
    cache_.set_next_sender_seq(seq);
    if (seq == journaled_sender_) return;
    put(Kind::Sender, seq, {});
    journaled_sender_ = seq;
  }
  void set_next_target_seq(std::uint64_t seq) override {
    cache_.set_next_target_seq(seq);
    if (seq == journaled_target_) return;
    put(Kind::Target, seq, {});
    journaled_target_ = seq;
  }
  void reset() override {
    put(Kind::Reset, 0, {});
    cache_.reset();
    journaled_sender_ = journaled_target_ = 1;
  }

  /// The session's thread: journals `bytes` (at most max_app_record()) after everything
  /// the session journaled so far; the next open replays it to on_app_record in that place.
  void append_app(std::span<const std::byte> bytes) {
    put(Kind::App, 0, {reinterpret_cast<const char*>(bytes.data()), bytes.size()});
  }
  /// The largest record append_app() takes, in bytes.
  [[nodiscard]] std::size_t max_app_record() const noexcept { return journal_.max_payload() - sizeof(Head); }

  /// What opening the store replayed.
  [[nodiscard]] const JournalMessageStoreReplay& replayed() const noexcept { return replayed_; }
  /// The cache's bounds and evictions (what a resend can still serve).
  [[nodiscard]] InMemoryMessageStoreStats cache_stats() const noexcept { return cache_.stats(); }
  /// The underlying journal (stats, recovery report).
  [[nodiscard]] const Journal& journal() const noexcept { return journal_; }
  /// Any thread: makes everything appended durable (see Journal::flush).
  void flush() { journal_.flush(); }

 private:
  enum class Kind : std::uint8_t { Out = 1, Sender = 2, Target = 3, Reset = 4, App = 5 };
  struct Head {
    Kind kind;
    std::uint8_t pad[7];
    std::uint64_t seq;  // Out: its MsgSeqNum; Sender/Target: the next number
  };
  static_assert(sizeof(Head) == 16, "the record header's size is part of the store's format");

  void put(Kind k, std::uint64_t seq, std::string_view body) {
    const Head h{k, {}, seq};
    const std::span<std::byte> out = journal_.claim(sizeof h + body.size());
    std::memcpy(out.data(), &h, sizeof h);
    if (!body.empty()) std::memcpy(out.data() + sizeof h, body.data(), body.size());
    (void)journal_.commit(sizeof h + body.size());
  }

  template <class OnAppRecord>
  void replay(std::span<const std::byte> p, OnAppRecord& on_app_record) {
    Head h{};
    if (p.size() < sizeof h) bad();
    std::memcpy(&h, p.data(), sizeof h);
    const std::span<const std::byte> body = p.subspan(sizeof h);
    ++replayed_.records;
    switch (h.kind) {
      case Kind::Out:
        cache_.store(h.seq, {reinterpret_cast<const char*>(body.data()), body.size()});
        cache_.set_next_sender_seq(h.seq + 1);
        journaled_sender_ = h.seq + 1;
        ++replayed_.messages;
        break;
      case Kind::Sender:
        cache_.set_next_sender_seq(h.seq);
        journaled_sender_ = h.seq;
        break;
      case Kind::Target:
        cache_.set_next_target_seq(h.seq);
        journaled_target_ = h.seq;
        break;
      case Kind::Reset:
        cache_.reset();
        journaled_sender_ = journaled_target_ = 1;
        ++replayed_.resets;
        break;
      case Kind::App:
        on_app_record(body);
        ++replayed_.app_records;
        break;
      default:
        bad();
    }
  }
  [[noreturn]] void bad() const {
    throw std::runtime_error("hft::fix::JournalMessageStore: " + journal_.directory() +
                             " holds a record that is not a FIX store record");
  }

  InMemoryMessageStore cache_;
  Journal journal_;
  std::uint64_t journaled_sender_ = 1, journaled_target_ = 1;  // what a replay would restore
  JournalMessageStoreReplay replayed_;
};

}  // namespace hft::fix
