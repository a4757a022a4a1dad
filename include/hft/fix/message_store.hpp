// hft/fix/message_store.hpp: what a FIX session keeps so it can serve a ResendRequest and
// survive a restart: its outbound application messages by MsgSeqNum and both next sequence
// numbers. fix::MessageStore is the interface; fix::InMemoryMessageStore the bounded default.
//
// What: Session calls store(seq, wire) for every application message it sends, load(seq)
//   when the peer asks for a resend, and the next_*_seq accessors whenever a number moves.
//   Admin messages are never stored: a resend replaces them with SequenceReset-GapFill, and
//   so it does any message the store no longer holds. InMemoryMessageStore keeps the newest
//   messages in a byte ring of `max_bytes` with an index of `max_messages` entries and
//   evicts the oldest to make room; a message larger than the whole ring is not kept (and
//   counted). The mini-OMS plugs a journal-backed store in when it runs with --journal.
// When to use: InMemoryMessageStore when a restart may start both sides at sequence 1
//   (ResetSeqNumFlag) or the peer tolerates gap fills for what was lost. When not: a session
//   whose sequence numbers must survive a crash: implement MessageStore over hft::Journal.
// Thread-safety: one thread (the session's).
// Progress: wait-free; every operation is bounded.
// Memory ordering: none (not shared).
// Complexity: store O(1) amortised (evictions), load O(log max_messages). Allocates only in
//   the constructor.
// Compared with: QuickFIX's MemoryStore keeps every message in a std::map of std::string
//   (unbounded); its FileStore appends to files and seeks for a resend.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace hft::fix {

/// Where a Session keeps its sequence numbers and the application messages it sent, for
/// resends. One thread (the session's).
class MessageStore {
 public:
  virtual ~MessageStore() = default;
  /// Keeps `wire`, the application message sent with MsgSeqNum `seq` (seqs only increase).
  virtual void store(std::uint64_t seq, std::string_view wire) = 0;
  /// The message sent as `seq`, or empty when it is not kept. Valid until the next store().
  [[nodiscard]] virtual std::string_view load(std::uint64_t seq) const = 0;
  /// The MsgSeqNum the next outbound message gets.
  [[nodiscard]] virtual std::uint64_t next_sender_seq() const = 0;
  /// The MsgSeqNum expected on the next inbound message.
  [[nodiscard]] virtual std::uint64_t next_target_seq() const = 0;
  /// Sets the next outbound MsgSeqNum (>= 1).
  virtual void set_next_sender_seq(std::uint64_t seq) = 0;
  /// Sets the next expected inbound MsgSeqNum (>= 1).
  virtual void set_next_target_seq(std::uint64_t seq) = 0;
  /// Forgets every message and sets both numbers to 1 (Logon with ResetSeqNumFlag=Y).
  virtual void reset() = 0;
};

/// Counters of an InMemoryMessageStore, returned by value from stats().
struct InMemoryMessageStoreStats {
  std::uint64_t stored = 0;     ///< messages store() kept
  std::uint64_t evicted = 0;    ///< old messages dropped to make room (by count or bytes)
  std::uint64_t too_large = 0;  ///< larger than the whole byte ring: not kept
};

/// A MessageStore in memory: the newest messages in a byte ring, bounded by count and bytes;
/// lost on restart (JournalMessageStore persists).
class InMemoryMessageStore final : public MessageStore {
 public:
  /// Keeps at most `max_messages` messages and `max_bytes` bytes of them.
  InMemoryMessageStore(std::size_t max_messages, std::size_t max_bytes)
      : data_(max_bytes), index_(max_messages) {
    if (max_messages == 0)
      throw std::invalid_argument("hft::fix::InMemoryMessageStore: max_messages must be >= 1, got 0");
    if (max_bytes == 0) throw std::invalid_argument("hft::fix::InMemoryMessageStore: max_bytes must be >= 1, got 0");
  }

  void store(std::uint64_t seq, std::string_view wire) override {
    if (wire.size() > data_.size()) {
      ++stats_.too_large;
      return;
    }
    const bool wrap = write_at_ + wire.size() > data_.size();  // no message straddles the end
    const std::size_t at = wrap ? 0 : write_at_;
    // The oldest entries lie just ahead of the write position, in ring order: drop those
    // the new bytes cover (after a wrap, also the abandoned tail), and the oldest if the
    // index is full.
    while (count_ > 0) {
      const Entry& e = index_[head_];
      const bool overlaps = wrap ? e.offset + e.length > write_at_ || e.offset < wire.size()
                                 : e.offset < at + wire.size() && at < e.offset + e.length;
      if (!overlaps && count_ < index_.size()) break;
      head_ = (head_ + 1) % index_.size();
      --count_;
      ++stats_.evicted;
    }
    std::memcpy(data_.data() + at, wire.data(), wire.size());
    index_[(head_ + count_) % index_.size()] = Entry{seq, at, wire.size()};
    ++count_;
    write_at_ = at + wire.size();
    ++stats_.stored;
  }

  [[nodiscard]] std::string_view load(std::uint64_t seq) const override {
    // Entries are in increasing seq order around the ring: binary search by position.
    std::size_t lo = 0, hi = count_;
    while (lo < hi) {
      const std::size_t mid = (lo + hi) / 2;
      if (at(mid).seq < seq)
        lo = mid + 1;
      else
        hi = mid;
    }
    if (lo == count_ || at(lo).seq != seq) return {};
    return {data_.data() + at(lo).offset, at(lo).length};
  }

  [[nodiscard]] std::uint64_t next_sender_seq() const override { return next_sender_; }
  [[nodiscard]] std::uint64_t next_target_seq() const override { return next_target_; }
  void set_next_sender_seq(std::uint64_t s) override { next_sender_ = s; }
  void set_next_target_seq(std::uint64_t s) override { next_target_ = s; }
  void reset() override {
    head_ = count_ = write_at_ = 0;
    next_sender_ = next_target_ = 1;
  }

  /// Messages kept now.
  [[nodiscard]] std::size_t size() const noexcept { return count_; }
  /// A copy of the counters.
  [[nodiscard]] InMemoryMessageStoreStats stats() const noexcept { return stats_; }

 private:
  struct Entry {
    std::uint64_t seq = 0;
    std::size_t offset = 0;
    std::size_t length = 0;
  };
  [[nodiscard]] const Entry& at(std::size_t i) const noexcept { return index_[(head_ + i) % index_.size()]; }

  std::vector<char> data_;
  std::vector<Entry> index_;
  std::size_t head_ = 0, count_ = 0, write_at_ = 0;
  std::uint64_t next_sender_ = 1, next_target_ = 1;
  InMemoryMessageStoreStats stats_;
};

}  // namespace hft::fix
