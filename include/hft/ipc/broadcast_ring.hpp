// hft/ipc/broadcast_ring.hpp: BroadcastTransmitter and BroadcastReceiver, one writer fanning
// variable-length messages out to any number of readers in any processes, never waiting for them.
//
// What: a lossy ring of records over a SharedRegion (ChannelKind::BroadcastRing, capacity = data
//   bytes, a power of two). A record is a 16-byte header {u32 length incl. header, i32 type,
//   u64 sequence} and its payload, 8-byte aligned; a record never spans the end of the ring:
//   the writer fills the rest with a padding record (type -1, header word 0 only) and starts at
//   offset 0. Three free-running 64-bit positions after the data: tail intent (where the
//   record being written ends), tail (the end of the last complete record) and latest (the
//   start of the last complete message). A reader keeps its own cursor; it copies a record and
//   then checks that the tail intent has not come within one capacity of where it started: if
//   it has, the writer may have overwritten it (a lap), the copy is dropped and the reader
//   jumps to the oldest message still present (ResyncTo::Oldest, the default: the writer keeps
//   a fourth position, `oldest`, the first record it has not overwritten) or to `latest`
//   (ResyncTo::Latest), reporting the bytes and messages it lost (the sequence numbers count
//   messages exactly).
// When to use: market-data or state fan-out to processes that can each afford to lose data
//   when they fall behind and then resynchronise (a snapshot, a book rebuild), where the
//   publisher must never be slowed by a slow or dead subscriber. When not: every message must
//   arrive (IpcSpscQueue / IpcMpscQueue, with back-pressure); threads of one process only
//   (disruptor/ or queue/, no copy-and-validate); persistence or replay (hft/journal).
//
// Thread-safety:
//   BroadcastTransmitter: one writer thread in one process at a time; a second live transmitter
//     on the same ring is refused at construction (the owner word, see Crash semantics).
//   BroadcastReceiver: one thread per receiver object; any number of receivers in any number of
//     processes. stats() and lapped_count() of either side: any thread (relaxed loads).
// Progress: transmit() is wait-free (a bounded number of stores; never reads a reader's state).
//   receive_next() is wait-free (at most 4 padding hops and 16 resync attempts per call).
//   wait_for_data() blocks up to its timeout (a shared futex, hft/ipc/shared_wait.hpp).
// Memory ordering: positions and record words are u64 words of the shared area (std::atomic_ref).
//   writer: oldest <- past what this record overwrites (release); tail_intent <- end (relaxed);
//           every header and payload word: store(release); latest <- start (release);
//           tail <- end (release); then shared_wait::notify.
//   reader: tail.load(acquire) pairs with the writer's release store of tail: the records
//           before it are visible. Every record word: load(acquire); then tail_intent (relaxed):
//           if a loaded word came from a later (overwriting) transmit W, that word's release
//           store makes W's earlier tail_intent store happen-before this load, so the reader
//           sees W's intent (>= cursor + capacity + 1) and drops the copy. That is SeqLock's
//           argument (sync/seqlock.hpp) with the tail intent as the sequence, and agrona's
//           release fence after the intent store made unnecessary by release word stores.
//           latest.load(acquire) (join, resync) pairs with the writer's release store of latest;
//           oldest.load(acquire) (resync) with its release store of oldest. A record read at
//           either is validated by the same tail-intent check as any other.
//   On x86 every one of these is a plain mov.
// Complexity: transmit O(length / 8) stores; receive O(length / 8) loads plus one copy into the
//   caller's buffer or the receiver's scratch buffer (max_message_length() bytes, allocated at
//   construction; nothing is allocated after).
// Compared with:
//   - agrona/Aeron BroadcastTransmitter / BroadcastReceiver / CopyBroadcastReceiver: the same
//     shape (tail intent, tail, latest; padding at the wrap; max message = capacity / 8; a
//     late joiner starts at latest). We differ in four ways: a lapped reader resumes at the
//     oldest message still present (agrona: latest; ours on request), at the cost of one
//     header read per overwritten record on the writer's side, in lines it writes anyway;
//     the copying receive is the only one (agrona's zero-copy receiveNext hands out the live
//     buffer and leaves validate() to the caller); a lap is a result with the bytes and
//     messages lost, not an IllegalStateException ("unable to keep up") or a bare counter; and
//     every length and offset read from the shared area is bounds-checked against the reader's
//     own capacity, so a buggy or hostile writer gets a Corrupt result, not an out-of-bounds
//     read.
//   - iceoryx publish/subscribe: a RouDi daemon owns the memory, publishers loan chunks that
//     subscribers hold (zero copy), and each subscriber has a queue that either blocks the
//     publisher or drops its oldest sample when full. Here there is no daemon and no loan: a
//     reader copies what it reads (one copy, from a ring that stays in cache) and can never
//     hold the writer or its memory back.
//   - UDP multicast on loopback: a system call per send and per receive and kernel buffers that
//     drop silently (a gap is only visible through the application's own sequence numbers).
//     Here a publish is a few stores and a reader learns exactly what it lost.
//   - Chronicle Queue: persisted, replayable, every reader sees everything. This ring keeps only
//     the last capacity bytes in memory; use hft/journal when history must survive.
// Lifecycle: the creator of the region (writer or reader) initialises nothing (a zero-filled
//   ring is empty) and marks it ready. A receiver starts at the latest complete message (it is
//   delivered first) or at the beginning of an empty ring, and may be destroyed at any time:
//   the writer never knows readers exist. Neither type is copyable or movable. The region lives
//   until SharedRegion::remove().
// Errors: transmit() throws std::invalid_argument "hft::BroadcastTransmitter: ..." for a type
//   <= 0 or a length above max_message_length(). Constructors throw std::invalid_argument for a
//   region of another layout and std::runtime_error when another transmitter is alive or the
//   ring's positions are inconsistent. receive_next() never throws; a record that cannot be a
//   writer's is a ReceiveStatus::Corrupt result.
// Crash semantics:
//   - a reader killed at any point: nothing changes for the writer or the other readers (a
//     reader never writes the shared area except the waiters count of wait_for_data, which the
//     writer only reads to decide whether to call FUTEX_WAKE: a reader killed while asleep
//     leaves it counted, and every later transmit makes one unnecessary FUTEX_WAKE syscall,
//     until the region is recreated. Prefer busy polling where readers can die asleep).
//   - a writer killed mid-record: tail and latest are unchanged, so the partial record is never
//     delivered; readers keep seeing Empty, and a reader more than one capacity behind the dead
//     writer's tail intent reports a lap (its record may have been overwritten).
//   - a restarted writer must reopen the region and construct a new BroadcastTransmitter, which
//     (1) refuses if the recorded owner (pid + start time) is still alive, else claims the
//     owner word with a CAS; (2) if tail intent != tail, covers [tail, tail intent) with
//     padding records and publishes tail = tail intent (so nothing the dead writer left
//     half-written is ever delivered and no reader check is weakened), except a writer killed
//     between its latest and tail stores: that record is complete (every word was stored
//     before latest) and readers joining at latest may hold it, so it is published as it is;
//     (3) continues the sequence numbers after the latest message. Readers carry on without
//     reopening.
//   - a region removed and created again under the same name is a new ring: readers of the old
//     mapping see Empty forever (writer_alive() turns false) and must reopen.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>

#include "hft/ipc/process_identity.hpp"
#include "hft/ipc/shared_region.hpp"
#include "hft/ipc/shared_wait.hpp"

namespace hft::ipc {

namespace detail {

// The shared area: [0, capacity) records, then the trailer below. Offsets only.
struct BroadcastLayout {
  static constexpr std::uint64_t kMinCapacity = 64;
  static constexpr std::uint64_t kMaxCapacity = std::uint64_t{1} << 31;  // a padding length fits u32
  static constexpr std::uint64_t kAlign = 8;
  static constexpr std::uint64_t kHeader = 16;  // u32 length, i32 type, u64 sequence
  static constexpr std::uint64_t kPaddingHeader = 8;
  static constexpr std::int32_t kPaddingType = -1;
  // Trailer, relative to capacity. The four positions share one line: the writer stores all of
  // them per message and readers load them together. Waiters (written by sleeping readers) and
  // the owner (written at attach) each get their own block.
  static constexpr std::uint64_t kTailIntent = 0;
  static constexpr std::uint64_t kTail = 8;
  static constexpr std::uint64_t kLatest = 16;
  static constexpr std::uint64_t kOldest = 24;  // the start of the oldest record not yet overwritten
  static constexpr std::uint64_t kWaitWord = 128;
  static constexpr std::uint64_t kOwner = 256;       // u64: pid << 32 | low 32 bits of its start time
  static constexpr std::uint64_t kOwnerStart = 264;  // u64: its full start time
  static constexpr std::uint64_t kTrailer = 384;

  static constexpr std::uint64_t align(std::uint64_t n) noexcept { return (n + kAlign - 1) & ~(kAlign - 1); }
  static constexpr std::uint64_t channel_bytes(std::uint64_t capacity) noexcept { return capacity + kTrailer; }
  static constexpr std::uint64_t max_message_length(std::uint64_t capacity) noexcept { return capacity / 8; }
  static constexpr std::uint64_t pack(std::uint32_t length, std::int32_t type) noexcept {
    return std::uint64_t{length} | (std::uint64_t{static_cast<std::uint32_t>(type)} << 32);
  }
  static constexpr std::uint32_t length_of(std::uint64_t w0) noexcept { return static_cast<std::uint32_t>(w0); }
  static constexpr std::int32_t type_of(std::uint64_t w0) noexcept {
    return static_cast<std::int32_t>(static_cast<std::uint32_t>(w0 >> 32));
  }
};
static_assert(BroadcastLayout::kTail - BroadcastLayout::kTailIntent == 8 &&
                  BroadcastLayout::kLatest - BroadcastLayout::kTail == 8 &&
                  BroadcastLayout::kOldest - BroadcastLayout::kLatest == 8,
              "the four positions are consecutive u64 words of one line");
static_assert(BroadcastLayout::kWaitWord % 64 == 0 && BroadcastLayout::kOwner % 64 == 0 &&
                  BroadcastLayout::kOwner - BroadcastLayout::kWaitWord >= 64 &&
                  BroadcastLayout::kOwnerStart + 8 <= BroadcastLayout::kTrailer,
              "trailer blocks must not overlap");
static_assert(BroadcastLayout::kHeader % BroadcastLayout::kAlign == 0 &&
                  BroadcastLayout::kPaddingHeader % BroadcastLayout::kAlign == 0,
              "headers keep records 8-byte aligned");
static_assert(BroadcastLayout::kMinCapacity % BroadcastLayout::kAlign == 0, "records wrap on an aligned edge");
static_assert(std::atomic_ref<std::uint64_t>::is_always_lock_free, "a shared word must be lock-free");
static_assert(std::atomic_ref<std::uint32_t>::is_always_lock_free, "a shared word must be lock-free");
static_assert(sizeof(SharedWaitWord) == 8 && alignof(SharedWaitWord) <= 8, "the wait word fills one u64 slot");

// Checks what a channel constructor is given; `who` names the type in the message.
inline std::uint64_t check_broadcast_capacity(const char* who, std::uint64_t capacity) {
  using L = BroadcastLayout;
  if (capacity < L::kMinCapacity || capacity > L::kMaxCapacity || (capacity & (capacity - 1)) != 0)
    throw std::invalid_argument(std::string(who) + ": capacity must be a power of two in [64, 2^31], got " +
                                std::to_string(capacity));
  return capacity;
}

inline std::uint64_t check_broadcast_region(const char* who, const SharedRegion& region) {
  const RegionLayout& l = region.layout();  // this process's own copy, never re-read from shared memory
  if (l.kind != ChannelKind::BroadcastRing)
    throw std::invalid_argument(std::string(who) + ": kind: must be BroadcastRing, got " + to_string(l.kind));
  if (l.element_size != 0 || l.element_align != 0)
    throw std::invalid_argument(std::string(who) + ": element_size/element_align: must be 0 (byte messages), got " +
                                std::to_string(l.element_size) + "/" + std::to_string(l.element_align));
  const std::uint64_t capacity = check_broadcast_capacity(who, l.capacity);
  if (l.channel_bytes != BroadcastLayout::channel_bytes(capacity))
    throw std::invalid_argument(std::string(who) + ": channel_bytes: must be " +
                                std::to_string(BroadcastLayout::channel_bytes(capacity)) + ", got " +
                                std::to_string(l.channel_bytes));
  return capacity;
}

inline std::byte* check_broadcast_area(const char* who, std::span<std::byte> area, std::uint64_t capacity) {
  check_broadcast_capacity(who, capacity);
  if (area.size() != BroadcastLayout::channel_bytes(capacity))
    throw std::invalid_argument(std::string(who) + ": area size must be capacity + " +
                                std::to_string(BroadcastLayout::kTrailer) + " = " +
                                std::to_string(BroadcastLayout::channel_bytes(capacity)) + ", got " +
                                std::to_string(area.size()));
  if (reinterpret_cast<std::uintptr_t>(area.data()) % 64 != 0)
    throw std::invalid_argument(std::string(who) + ": area must be 64-byte aligned");
  return area.data();
}

// The shared words of one ring, seen through this process's own capacity.
class BroadcastWords {
 public:
  BroadcastWords(std::byte* base, std::uint64_t capacity) noexcept : base_(base), capacity_(capacity) {}

  [[nodiscard]] std::atomic_ref<std::uint64_t> word(std::uint64_t offset) const noexcept {
    // offset < capacity + kTrailer and 8-aligned: every caller masks or bounds-checks it first.
    return std::atomic_ref<std::uint64_t>(*reinterpret_cast<std::uint64_t*>(base_ + offset));
  }
  [[nodiscard]] std::atomic_ref<std::uint64_t> tail_intent() const noexcept {
    return word(capacity_ + BroadcastLayout::kTailIntent);
  }
  [[nodiscard]] std::atomic_ref<std::uint64_t> tail() const noexcept {
    return word(capacity_ + BroadcastLayout::kTail);
  }
  [[nodiscard]] std::atomic_ref<std::uint64_t> latest() const noexcept {
    return word(capacity_ + BroadcastLayout::kLatest);
  }
  [[nodiscard]] std::atomic_ref<std::uint64_t> oldest() const noexcept {
    return word(capacity_ + BroadcastLayout::kOldest);
  }
  [[nodiscard]] std::atomic_ref<std::uint64_t> owner() const noexcept {
    return word(capacity_ + BroadcastLayout::kOwner);
  }
  [[nodiscard]] std::atomic_ref<std::uint64_t> owner_start() const noexcept {
    return word(capacity_ + BroadcastLayout::kOwnerStart);
  }
  [[nodiscard]] SharedWaitWord& wait_word() const noexcept {
    return *reinterpret_cast<SharedWaitWord*>(base_ + capacity_ + BroadcastLayout::kWaitWord);
  }
  [[nodiscard]] std::uint64_t capacity() const noexcept { return capacity_; }

  // Whether the process named by the owner word is alive (never trusted for memory safety).
  [[nodiscard]] bool owner_alive() const noexcept {
    const std::uint64_t w = owner().load(std::memory_order_relaxed);
    if (w == 0) return false;
    const ProcessIdentity now = ProcessIdentity::of(static_cast<std::int32_t>(w >> 32));
    if (now.start_time == 0) return now.alive();  // no /proc: the pid alone
    return now.alive() && static_cast<std::uint32_t>(now.start_time) == static_cast<std::uint32_t>(w);
  }

 private:
  std::byte* base_;
  std::uint64_t capacity_;
};

}  // namespace detail

/// The RegionLayout of a broadcast ring of `capacity` data bytes (a power of two in [64, 2^31]);
/// `type_tag` names the message protocol (hft::ipc::type_tag("md/v3")) so a mismatch is refused.
[[nodiscard]] inline RegionLayout broadcast_ring_layout(std::uint64_t capacity, TypeTag type_tag = {}) {
  detail::check_broadcast_capacity("hft::broadcast_ring_layout", capacity);
  RegionLayout l;
  l.kind = ChannelKind::BroadcastRing;
  l.element_size = 0;
  l.element_align = 0;
  l.type_tag = type_tag;
  l.capacity = capacity;
  l.channel_bytes = detail::BroadcastLayout::channel_bytes(capacity);
  return l;
}

/// Counters of a transmitter (relaxed: statistics, not synchronisation).
struct BroadcastTransmitterStats {
  std::uint64_t transmitted = 0;  ///< messages published
  std::uint64_t bytes = 0;        ///< payload bytes published (headers and padding not counted)
};

/// Settings of a BroadcastTransmitter.
struct BroadcastTransmitterConfig {
  /// Call shared_wait::notify after each transmit (one relaxed load when nobody waits, a
  /// FUTEX_WAKE when a reader sleeps in wait_for_data). Off: readers must busy-poll.
  bool notify_waiters = true;
};

/// The single writer of a broadcast ring. Never waits for, or reads the state of, a reader.
class BroadcastTransmitter {
  using L = detail::BroadcastLayout;

 public:
  /// Attaches to a region made with broadcast_ring_layout() (created or opened; takes it over).
  /// Claims the ring's owner word and recovers after a dead writer (see Crash semantics).
  /// Throws std::invalid_argument for another layout, std::runtime_error if a transmitter is
  /// alive or the ring's positions are inconsistent.
  explicit BroadcastTransmitter(SharedRegion region, const BroadcastTransmitterConfig& cfg = {})
      : region_(std::move(region)),
        words_(region_->channel(), detail::check_broadcast_region("hft::BroadcastTransmitter", *region_)),
        cfg_(cfg) {
    attach();
    if (region_->created()) region_->mark_ready();
  }

  /// Attaches to `area` (capacity + 384 bytes, 64-byte aligned, zero-filled or a ring's state)
  /// that the caller maps itself, or heap memory shared by threads. The caller keeps it alive.
  BroadcastTransmitter(std::span<std::byte> area, std::uint64_t capacity, const BroadcastTransmitterConfig& cfg = {})
      : words_(detail::check_broadcast_area("hft::BroadcastTransmitter", area, capacity), capacity), cfg_(cfg) {
    attach();
  }

  BroadcastTransmitter(const BroadcastTransmitter&) = delete;
  BroadcastTransmitter& operator=(const BroadcastTransmitter&) = delete;

  /// Releases the owner word (release; pairs with the next transmitter's acquire CAS), so a
  /// successor attaches without waiting for this process to exit.
  ~BroadcastTransmitter() {
    // A fork()ed child's copy must not give back its parent's ownership.
    if ((owner_word_ >> 32) != static_cast<std::uint32_t>(::getpid())) return;
    std::uint64_t mine = owner_word_;
    (void)words_.owner().compare_exchange_strong(mine, 0, std::memory_order_release, std::memory_order_relaxed);
  }

  /// Writer only. Publishes one message of `type` (> 0) and `payload` (<= max_message_length()
  /// bytes), overwriting the oldest records; never waits. Release: a reader that sees the new
  /// tail sees the message. Throws std::invalid_argument for a bad type or length.
  void transmit(std::int32_t type, std::span<const std::byte> payload) {
    if (type <= 0)
      throw std::invalid_argument("hft::BroadcastTransmitter: type must be > 0, got " + std::to_string(type));
    if (payload.size() > max_message_length_)
      throw std::invalid_argument("hft::BroadcastTransmitter: length must be <= max_message_length() = " +
                                  std::to_string(max_message_length_) + ", got " + std::to_string(payload.size()));
    const std::uint64_t capacity = words_.capacity();
    const std::uint64_t record = L::align(L::kHeader + payload.size());
    std::uint64_t start = tail_;
    std::uint64_t offset = start & (capacity - 1);
    const std::uint64_t to_end = capacity - offset;
    advance_oldest(to_end < record ? start + to_end : start, start + (to_end < record ? to_end : 0) + record);
    if (to_end < record) {
      // Relaxed: each word's release store below orders it before that word for any reader
      // that loads the word (the header's argument).
      words_.tail_intent().store(start + to_end + record, std::memory_order_relaxed);
      // Pairs with the reader's acquire load of the padding header.
      words_.word(offset).store(L::pack(static_cast<std::uint32_t>(to_end), L::kPaddingType),
                                std::memory_order_release);
      start += to_end;
      offset = 0;
    } else {
      words_.tail_intent().store(start + record, std::memory_order_relaxed);  // relaxed: as above
    }
    // Each release store pairs with the reader's acquire load of that word.
    words_.word(offset).store(L::pack(static_cast<std::uint32_t>(L::kHeader + payload.size()), type),
                              std::memory_order_release);
    words_.word(offset + 8).store(sequence_, std::memory_order_release);
    const std::byte* src = payload.data();
    const std::size_t n = payload.size();
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {  // fixed-size copies are inlined; a variable one is a libc call per word
      std::uint64_t w;
      std::memcpy(&w, src + i, 8);
      words_.word(offset + L::kHeader + i).store(w, std::memory_order_release);
    }
    if (i < n) {
      std::uint64_t w = 0;  // the record's padding bytes are zeros, never stale data
      std::memcpy(&w, src + i, n - i);
      words_.word(offset + L::kHeader + i).store(w, std::memory_order_release);
    }
    words_.latest().store(start, std::memory_order_release);  // pairs with the reader's acquire load at join/resync
    tail_ = start + record;
    words_.tail().store(tail_, std::memory_order_release);  // pairs with the reader's acquire load of tail
    ++sequence_;
    transmitted_.store(transmitted_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    bytes_.store(bytes_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    if (cfg_.notify_waiters) shared_wait::notify(words_.wait_word());
  }

  /// Writer only. transmit() for a byte string.
  void transmit(std::int32_t type, const void* data, std::size_t length) {
    transmit(type, std::span<const std::byte>(static_cast<const std::byte*>(data), length));
  }

  /// The ring's data bytes.
  [[nodiscard]] std::uint64_t capacity() const noexcept { return words_.capacity(); }
  /// capacity() / 8, as agrona.
  [[nodiscard]] std::uint64_t max_message_length() const noexcept { return max_message_length_; }
  /// The sequence number the next message gets (the first message of a new ring is 1).
  [[nodiscard]] std::uint64_t next_sequence() const noexcept { return sequence_; }
  /// Any thread. Relaxed loads.
  [[nodiscard]] BroadcastTransmitterStats stats() const noexcept {
    return {transmitted_.load(std::memory_order_relaxed), bytes_.load(std::memory_order_relaxed)};
  }
  /// Any thread. The settings it was made with.
  [[nodiscard]] const BroadcastTransmitterConfig& config() const noexcept { return cfg_; }

 private:
  // Before a record ending at `end` overwrites the previous lap, moves the oldest-record
  // position past every record it will overwrite, reading their headers (the lines this
  // transmit writes anyway), and publishes it, so a lapped reader can resume at the oldest
  // message still present. `record_start` is the new record's start: a boundary to fall back
  // on if a header is not one this writer made (a hostile peer wrote the ring).
  void advance_oldest(std::uint64_t record_start, std::uint64_t end) noexcept {
    const std::uint64_t capacity = words_.capacity();
    if (end - oldest_ <= capacity) return;
    const std::uint64_t mask = capacity - 1;
    while (end - oldest_ > capacity && oldest_ < record_start) {
      const std::uint64_t offset = oldest_ & mask;
      // Relaxed: this writer's own earlier stores.
      const std::uint64_t w0 = words_.word(offset).load(std::memory_order_relaxed);
      const std::uint64_t length = L::type_of(w0) == L::kPaddingType ? L::length_of(w0) : L::align(L::length_of(w0));
      if (length < L::kPaddingHeader || length % L::kAlign != 0 || length > capacity - offset) {
        oldest_ = record_start;
        break;
      }
      oldest_ += length;
    }
    if (end - oldest_ > capacity) oldest_ = record_start;
    // Release: pairs with the reader's acquire load of oldest (resync); the headers at it
    // were stored (release) before.
    words_.oldest().store(oldest_, std::memory_order_release);
  }

  void attach() {
    if (cfg_.notify_waiters) (void)shared_wait::prepare_notifier();
    claim_owner();
    try {
      recover();
    } catch (...) {
      std::uint64_t mine = owner_word_;
      (void)words_.owner().compare_exchange_strong(mine, 0, std::memory_order_release, std::memory_order_relaxed);
      throw;
    }
  }

  void claim_owner() {
    const ProcessIdentity me = detail::current_process();
    owner_word_ = (static_cast<std::uint64_t>(static_cast<std::uint32_t>(me.pid)) << 32) |
                  static_cast<std::uint32_t>(me.start_time);
    std::uint64_t seen = words_.owner().load(std::memory_order_relaxed);
    if (seen != 0 && words_.owner_alive())
      throw std::runtime_error("hft::BroadcastTransmitter: owner: a transmitter is alive in pid " +
                               std::to_string(seen >> 32));
    // Acquire: pairs with the previous owner's release (destructor), so its last positions are visible.
    if (!words_.owner().compare_exchange_strong(seen, owner_word_, std::memory_order_acquire,
                                                std::memory_order_relaxed))
      throw std::runtime_error("hft::BroadcastTransmitter: owner: another transmitter attached concurrently (pid " +
                               std::to_string(seen >> 32) + ")");
    words_.owner_start().store(me.start_time, std::memory_order_relaxed);
  }

  // The exact restart rule of the header's Crash semantics.
  void recover() {
    const std::uint64_t capacity = words_.capacity();
    const std::uint64_t mask = capacity - 1;
    // Acquire: pairs with the dead writer's release stores, so its last complete record is visible.
    const std::uint64_t tail = words_.tail().load(std::memory_order_acquire);
    const std::uint64_t intent = words_.tail_intent().load(std::memory_order_relaxed);
    const std::uint64_t latest = words_.latest().load(std::memory_order_acquire);
    auto inconsistent = [&](const char* why) {
      return std::runtime_error(std::string("hft::BroadcastTransmitter: positions: ") + why + " (tail " +
                                std::to_string(tail) + ", tail intent " + std::to_string(intent) + ", latest " +
                                std::to_string(latest) + ")");
    };
    if ((tail | intent | latest) % L::kAlign != 0) throw inconsistent("not 8-byte aligned");
    if (intent < tail || intent - tail > capacity) throw inconsistent("tail intent not within one capacity of tail");
    sequence_ = 1;
    std::uint64_t from = tail;  // what is padded over: [from, intent)
    if (tail != 0) {
      if (latest >= tail) {
        // The writer died between its latest and tail stores: every word of the record at
        // latest (and of the padding before it) was stored before latest, so it is complete,
        // and readers joining at latest may hold it already. Publish it, not pad over it.
        if (latest >= intent || (latest & mask) + L::kHeader > capacity) throw inconsistent("latest is past tail");
        const std::uint64_t w0 = words_.word(latest & mask).load(std::memory_order_relaxed);
        if (L::type_of(w0) <= 0 || latest + L::align(L::length_of(w0)) != intent)
          throw inconsistent("the record at latest does not end at the tail intent");
        from = intent;
      }
      // Only padding so far (a writer died before its first message): numbering starts at 1.
      if ((latest & mask) + L::kHeader <= capacity &&
          L::type_of(words_.word(latest & mask).load(std::memory_order_relaxed)) > 0)
        sequence_ = words_.word((latest & mask) + 8).load(std::memory_order_relaxed) + 1;
    }
    // Release, as every record word: pairs with the reader's acquire load of the header.
    for (std::uint64_t p = from; p < intent;) {
      const std::uint64_t offset = p & mask;
      const std::uint64_t n = std::min(intent - p, capacity - offset);
      words_.word(offset).store(L::pack(static_cast<std::uint32_t>(n), L::kPaddingType), std::memory_order_release);
      p += n;
    }
    tail_ = intent;
    // The dead writer's oldest is a record boundary if it is aligned and within one capacity of
    // the tail; anything else (a region written by another build, or garbage) restarts it at
    // the tail, where the next record starts.
    const std::uint64_t oldest = words_.oldest().load(std::memory_order_relaxed);
    oldest_ = oldest % L::kAlign == 0 && oldest <= tail_ && tail_ - oldest <= capacity ? oldest : tail_;
    words_.oldest().store(oldest_, std::memory_order_release);  // pairs with the reader's acquire load
    words_.tail().store(tail_, std::memory_order_release);  // pairs with the reader's acquire load of tail
  }

  std::optional<SharedRegion> region_;  // empty over a caller's area
  detail::BroadcastWords words_;
  BroadcastTransmitterConfig cfg_;
  std::uint64_t max_message_length_ = L::max_message_length(words_.capacity());
  std::uint64_t tail_ = 0;      // the writer's own copy: the shared tail is never read back on the hot path
  std::uint64_t oldest_ = 0;    // the start of the oldest record not overwritten (the writer's own copy)
  std::uint64_t sequence_ = 1;  // of the next message
  std::uint64_t owner_word_ = 0;
  std::atomic<std::uint64_t> transmitted_{0};
  std::atomic<std::uint64_t> bytes_{0};
};

/// What receive_next() found.
enum class ReceiveStatus : std::uint8_t {
  Empty,    ///< nothing new
  Message,  ///< a validated copy: type, payload, sequence
  Lapped,   ///< the writer overwrote what this reader had not read; resynchronised (see ResyncTo)
  Corrupt,  ///< a record no writer makes (bad length or type, out-of-order sequence); resynchronised
};

/// Where a lapped receiver resumes.
enum class ResyncTo : std::uint8_t {
  Oldest,  ///< the oldest message still in the ring: the least loss (and the next to be overwritten)
  Latest,  ///< the latest complete message: the freshest data, the most loss (agrona's rule)
};

/// One receive_next() result.
struct BroadcastReceiveResult {
  ReceiveStatus status = ReceiveStatus::Empty;  ///< what was found
  std::int32_t type = 0;               ///< Message: the type id (> 0)
  std::span<const std::byte> payload;  ///< Message: the validated copy (scratch or the caller's buffer)
  std::uint64_t sequence = 0;          ///< Message: the writer's sequence number
  std::uint64_t bytes_lost = 0;        ///< Lapped/Corrupt: ring bytes skipped (records, headers and padding)
  std::uint64_t messages_lost = 0;     ///< Lapped/Corrupt: messages skipped (from sequence numbers; see receiver)
  /// True for a delivered message.
  explicit operator bool() const noexcept { return status == ReceiveStatus::Message; }
};

/// Counters of a receiver (relaxed: statistics, not synchronisation).
struct BroadcastReceiverStats {
  std::uint64_t received = 0;       ///< messages delivered
  std::uint64_t lapped = 0;         ///< laps detected
  std::uint64_t bytes_lost = 0;     ///< ring bytes skipped by resyncs
  std::uint64_t messages_lost = 0;  ///< messages skipped by resyncs
  std::uint64_t corrupt = 0;        ///< Corrupt results
};

/// One reader of a broadcast ring: copies each record out and delivers it only after checking
/// that the writer has not overwritten it meanwhile. Never writes the ring (except the waiters
/// count while in wait_for_data). messages_lost is exact while the reader knows the next
/// sequence number; after a Corrupt resync that found no readable latest record it is not known
/// until the next delivered message, and that gap is counted in bytes only.
class BroadcastReceiver {
  using L = detail::BroadcastLayout;

 public:
  /// Attaches to a region made with broadcast_ring_layout() (opened, or created: then it is
  /// marked ready). Starts at the latest complete message. Throws std::invalid_argument for
  /// another layout, or what allocating the scratch buffer throws.
  explicit BroadcastReceiver(SharedRegion region, ResyncTo resync_to = ResyncTo::Oldest)
      : region_(std::move(region)),
        words_(region_->channel(), detail::check_broadcast_region("hft::BroadcastReceiver", *region_)),
        resync_to_(resync_to) {
    if (region_->created()) region_->mark_ready();
    join();
  }

  /// Attaches to `area` (capacity + 384 bytes, 64-byte aligned) that the caller maps itself or
  /// shares between threads. `capacity` is this reader's own: nothing read from `area` can widen it.
  BroadcastReceiver(std::span<std::byte> area, std::uint64_t capacity, ResyncTo resync_to = ResyncTo::Oldest)
      : words_(detail::check_broadcast_area("hft::BroadcastReceiver", area, capacity), capacity),
        resync_to_(resync_to) {
    join();
  }

  BroadcastReceiver(const BroadcastReceiver&) = delete;
  BroadcastReceiver& operator=(const BroadcastReceiver&) = delete;

  /// This receiver's thread. The next record, copied into the receiver's scratch buffer (valid
  /// until the next call), or Empty / Lapped / Corrupt. Acquire: a delivered message
  /// happens-after its transmit (and everything the writer did before it). Never throws.
  [[nodiscard]] BroadcastReceiveResult receive_next() noexcept { return receive_into(scratch_.get()); }

  /// This receiver's thread. As receive_next(), copying into `buffer`, which must hold
  /// max_message_length() bytes (else std::invalid_argument). Only a validated copy is reported;
  /// after a Lapped/Corrupt result the buffer's contents are unspecified.
  [[nodiscard]] BroadcastReceiveResult receive_next(std::span<std::byte> buffer) {
    if (buffer.size() < max_message_length_)
      throw std::invalid_argument("hft::BroadcastReceiver: buffer size must be >= max_message_length() = " +
                                  std::to_string(max_message_length_) + ", got " + std::to_string(buffer.size()));
    return receive_into(buffer.data());
  }

  /// This receiver's thread. True when the writer has published past this reader's cursor
  /// (acquire: pairs with the writer's release store of tail).
  [[nodiscard]] bool has_data() const noexcept {
    return static_cast<std::int64_t>(words_.tail().load(std::memory_order_acquire) - next_) > 0;
  }

  /// This receiver's thread. Sleeps on the ring's shared futex until has_data() or `timeout`;
  /// returns has_data(). Only wakes early if the transmitter notifies (its default).
  [[nodiscard]] bool wait_for_data(std::chrono::nanoseconds timeout) {
    return shared_wait::wait(words_.wait_word(), [this] { return has_data(); }, timeout);
  }

  /// Whether the process that holds the transmitter's owner word is alive (reads /proc: not for
  /// a hot path). False after a clean detach, a crash, or before any transmitter attached.
  [[nodiscard]] bool writer_alive() const noexcept { return words_.owner_alive(); }

  /// Any thread. Laps detected so far (relaxed).
  [[nodiscard]] std::uint64_t lapped_count() const noexcept { return lapped_.load(std::memory_order_relaxed); }
  /// Any thread. Relaxed loads.
  [[nodiscard]] BroadcastReceiverStats stats() const noexcept {
    return {received_.load(std::memory_order_relaxed), lapped_.load(std::memory_order_relaxed),
            bytes_lost_.load(std::memory_order_relaxed), messages_lost_.load(std::memory_order_relaxed),
            corrupt_.load(std::memory_order_relaxed)};
  }
  /// Any thread. The ring's data bytes (this receiver's own, never read from the region).
  [[nodiscard]] std::uint64_t capacity() const noexcept { return words_.capacity(); }
  /// Any thread. The largest payload a message can have: capacity() / 8.
  [[nodiscard]] std::uint64_t max_message_length() const noexcept { return max_message_length_; }
  /// This receiver's thread. The ring position of the next record it will read.
  [[nodiscard]] std::uint64_t position() const noexcept { return next_; }
  /// Where this receiver resumes after a lap.
  [[nodiscard]] ResyncTo resync_to() const noexcept { return resync_to_; }

 private:
  static constexpr int kMaxPaddingHops = 4;
  static constexpr int kResyncAttempts = 16;

  struct Latest {
    bool ok = false;  // a stable, well-formed message header was read at `at`
    std::uint64_t at = 0;
    std::uint64_t sequence = 0;
  };

  static void bump(std::atomic<std::uint64_t>& c, std::uint64_t by) noexcept {
    c.store(c.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);  // one writer: no RMW needed
  }

  [[nodiscard]] bool overwritten(std::uint64_t at) const noexcept {
    // Relaxed: it follows acquire loads (tail or record words), which carry the ordering (header).
    return words_.tail_intent().load(std::memory_order_relaxed) - at > words_.capacity();
  }

  // A message header at ring position `at` that is in bounds for this reader's capacity.
  [[nodiscard]] bool well_formed(std::uint64_t offset, std::uint64_t w0) const noexcept {
    const std::uint32_t length = L::length_of(w0);
    return L::type_of(w0) > 0 && length >= L::kHeader && length - L::kHeader <= max_message_length_ &&
           L::align(length) <= words_.capacity() - offset;
  }

  // The latest complete message, read until its header is stable (bounded attempts).
  [[nodiscard]] Latest read_latest() const noexcept {
    const std::uint64_t mask = words_.capacity() - 1;
    for (int i = 0; i < kResyncAttempts; ++i) {
      // Acquire: pairs with the writer's release store of latest: its record is visible.
      const std::uint64_t at = words_.latest().load(std::memory_order_acquire);
      if (at % L::kAlign != 0) return {};
      const std::uint64_t offset = at & mask;
      const std::uint64_t w0 = words_.word(offset).load(std::memory_order_acquire);  // pairs with its release store
      if (!well_formed(offset, w0)) {
        if (overwritten(at)) continue;
        return {};
      }
      const std::uint64_t seq = words_.word(offset + 8).load(std::memory_order_acquire);  // as above
      if (overwritten(at)) continue;
      return {true, at, seq};
    }
    return {};
  }

  // The oldest message still present: the writer's oldest-record position (a boundary; padding
  // records after it are hopped), read until stable like read_latest(). Not ok when there is
  // none readable (the writer's oldest is not ahead of `after`, or moved on every attempt).
  [[nodiscard]] Latest read_oldest(std::uint64_t after) const noexcept {
    const std::uint64_t capacity = words_.capacity();
    const std::uint64_t mask = capacity - 1;
    for (int i = 0; i < kResyncAttempts; ++i) {
      const std::uint64_t tail = words_.tail().load(std::memory_order_acquire);  // pairs with the writer's release
      // Acquire: pairs with the writer's release store of oldest; the headers at and after it
      // (up to tail) are visible.
      std::uint64_t at = words_.oldest().load(std::memory_order_acquire);
      if (at % L::kAlign != 0 || static_cast<std::int64_t>(at - after) <= 0 ||
          static_cast<std::int64_t>(tail - at) <= 0 || tail - at > capacity)
        return {};
      bool moved = false;
      for (int hop = 0; hop <= kMaxPaddingHops && static_cast<std::int64_t>(tail - at) > 0; ++hop) {
        const std::uint64_t offset = at & mask;
        const std::uint64_t w0 = words_.word(offset).load(std::memory_order_acquire);  // pairs with its release store
        if (L::type_of(w0) == L::kPaddingType) {
          const std::uint32_t length = L::length_of(w0);
          const bool ok = length >= L::kPaddingHeader && length % L::kAlign == 0 && length <= capacity - offset;
          if (overwritten(at)) {
            moved = true;
            break;
          }
          if (!ok) return {};
          at += length;
          continue;
        }
        if (!well_formed(offset, w0)) {
          if (overwritten(at)) {
            moved = true;
            break;
          }
          return {};
        }
        const std::uint64_t seq = words_.word(offset + 8).load(std::memory_order_acquire);  // as above
        if (overwritten(at)) {
          moved = true;
          break;
        }
        return {true, at, seq};
      }
      if (!moved) return {};
    }
    return {};
  }

  void join() noexcept {
    const std::uint64_t tail = words_.tail().load(std::memory_order_acquire);  // pairs with the writer's release
    if (tail == 0) {  // an empty ring: its first message is number 1 at position 0
      next_ = 0;
      expected_ = 1;
      synced_ = true;
      return;
    }
    const Latest l = read_latest();
    next_ = l.ok ? l.at : tail & ~(L::kAlign - 1);
    expected_ = l.sequence;
    synced_ = l.ok;
  }

  // Moves the cursor to the latest message after a lap or a corrupt record; fills the losses.
  BroadcastReceiveResult resync(ReceiveStatus status) noexcept {
    BroadcastReceiveResult r;
    r.status = status;
    if (status == ReceiveStatus::Lapped) bump(lapped_, 1);
    else bump(corrupt_, 1);
    Latest l;
    if (status == ReceiveStatus::Lapped && resync_to_ == ResyncTo::Oldest) l = read_oldest(next_);
    if (!l.ok) l = read_latest();
    // After a corrupt record, a latest that is not ahead of the cursor would deliver again
    // what was delivered (a writer that wrote garbage after its last message): skip ahead.
    const bool ahead = l.ok && static_cast<std::int64_t>(l.at - next_) > 0;
    if (!l.ok || (!ahead && status == ReceiveStatus::Corrupt)) {
      if (status == ReceiveStatus::Corrupt) {
        // Nothing readable to resume at: skip to the tail so a later honest record can be read.
        const std::uint64_t tail = words_.tail().load(std::memory_order_acquire) & ~(L::kAlign - 1);  // as in has_data
        if (static_cast<std::int64_t>(tail - next_) > 0) {
          r.bytes_lost = tail - next_;
          next_ = tail;
        }
        synced_ = false;
      }
      // Lapped and the latest record kept moving: the cursor stays; the next call laps again and
      // counts the whole loss when it can resume.
      bump(bytes_lost_, r.bytes_lost);
      return r;
    }
    if (static_cast<std::int64_t>(l.at - next_) > 0) r.bytes_lost = l.at - next_;
    if (synced_ && static_cast<std::int64_t>(l.sequence - expected_) > 0) r.messages_lost = l.sequence - expected_;
    next_ = l.at;
    expected_ = l.sequence;
    synced_ = true;
    bump(bytes_lost_, r.bytes_lost);
    bump(messages_lost_, r.messages_lost);
    return r;
  }

  BroadcastReceiveResult receive_into(std::byte* out) noexcept {
    const std::uint64_t capacity = words_.capacity();
    const std::uint64_t mask = capacity - 1;
    const std::uint64_t tail = words_.tail().load(std::memory_order_acquire);  // pairs with the writer's release
    for (int hop = 0; hop <= kMaxPaddingHops; ++hop) {
      if (static_cast<std::int64_t>(tail - next_) <= 0) return {};
      if (overwritten(next_)) return resync(ReceiveStatus::Lapped);
      const std::uint64_t offset = next_ & mask;
      const std::uint64_t w0 = words_.word(offset).load(std::memory_order_acquire);  // pairs with its release store
      const std::uint32_t length = L::length_of(w0);
      if (L::type_of(w0) == L::kPaddingType) {
        const bool ok = length >= L::kPaddingHeader && length % L::kAlign == 0 && length <= capacity - offset;
        if (overwritten(next_)) return resync(ReceiveStatus::Lapped);
        if (!ok) return resync(ReceiveStatus::Corrupt);
        next_ += length;
        continue;
      }
      if (!well_formed(offset, w0)) {
        if (overwritten(next_)) return resync(ReceiveStatus::Lapped);
        return resync(ReceiveStatus::Corrupt);
      }
      const std::uint64_t seq = words_.word(offset + 8).load(std::memory_order_acquire);  // as above
      const std::size_t n = length - L::kHeader;
      // Bounded by well_formed(): offset + align(length) <= capacity. Fixed-size copies are
      // inlined; a variable one is a libc call per word.
      std::size_t i = 0;
      for (; i + 8 <= n; i += 8) {
        const std::uint64_t w = words_.word(offset + L::kHeader + i).load(std::memory_order_acquire);  // as above
        std::memcpy(out + i, &w, 8);
      }
      if (i < n) {
        const std::uint64_t w = words_.word(offset + L::kHeader + i).load(std::memory_order_acquire);  // as above
        std::memcpy(out + i, &w, n - i);
      }
      if (overwritten(next_)) return resync(ReceiveStatus::Lapped);
      if (synced_ && seq != expected_) return resync(ReceiveStatus::Corrupt);
      BroadcastReceiveResult r;
      r.status = ReceiveStatus::Message;
      r.type = L::type_of(w0);
      r.payload = std::span<const std::byte>(out, n);
      r.sequence = seq;
      next_ += L::align(length);
      expected_ = seq + 1;
      synced_ = true;
      bump(received_, 1);
      return r;
    }
    return {};  // a run of padding: the rest next call
  }

  std::optional<SharedRegion> region_;  // empty over a caller's area
  detail::BroadcastWords words_;
  std::uint64_t max_message_length_ = L::max_message_length(words_.capacity());
  std::unique_ptr<std::byte[]> scratch_ = std::make_unique<std::byte[]>(max_message_length_);
  std::uint64_t next_ = 0;      // ring position of the next record to read
  std::uint64_t expected_ = 0;  // sequence number of the next message, when synced_
  bool synced_ = false;
  ResyncTo resync_to_ = ResyncTo::Oldest;
  std::atomic<std::uint64_t> received_{0};
  std::atomic<std::uint64_t> lapped_{0};
  std::atomic<std::uint64_t> bytes_lost_{0};
  std::atomic<std::uint64_t> messages_lost_{0};
  std::atomic<std::uint64_t> corrupt_{0};
};

}  // namespace hft::ipc
