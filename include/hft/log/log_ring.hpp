// hft/log/log_ring.hpp: LogRing, a bounded single-producer single-consumer ring of
// variable-length byte records: the per-thread queue of the asynchronous logger.
//
// What: a power-of-two byte array with a producer position (tail) and a consumer position
//   (head), both monotonic 64-bit byte counts. A record is a 4-byte size (the record's whole
//   length, a multiple of 8, at most max_record()) followed by its bytes, and is always
//   contiguous: a record that would cross the end of the array is preceded by a wrap marker
//   and starts again at offset 0. The producer reserves space (try_reserve), writes the
//   record in place and publishes it (commit); the consumer reads the next record in place
//   (peek) and gives its space back (release).
// When to use: variable-length messages between two fixed threads where copying into a
//   slot of fixed size would waste space or cap the length (log records, serialized
//   events). When not: fixed-size items (SpscQueue<T>: one cache line per item, no size
//   word); more than one producer (one ring per producer, as the logger does).
//
// Thread-safety:
//   producer thread only: try_reserve, commit, max_record
//   consumer thread only: peek, release, empty (consumer view)
//   any thread:           capacity, size_approx
//   Construction and destruction need exclusive access.
// Progress: wait-free: every operation takes a bounded number of steps; try_reserve returns
//   nullptr when full instead of waiting.
// Memory ordering: commit stores tail with release after the record's bytes are written;
//   peek loads tail with acquire, so the record's bytes (and whatever the producer wrote
//   before committing) are visible to the consumer that sees the record. release stores
//   head with release after the consumer's last read of the record; try_reserve loads head
//   with acquire before reusing that space, so the consumer's reads happen-before the
//   producer overwrites them.
// Complexity: O(1) per record; one array of capacity() bytes allocated at construction,
//   nothing after. The producer keeps a private copy of head and reads the shared one only
//   when its copy says the ring is full; the consumer does the same with tail.
// Robustness: the consumer validates every size word against the published tail and the end
//   of the array before it hands out a record; a ring whose bytes were corrupted (a bug, a
//   stray write) makes peek() report corrupt() and stop, never read out of bounds.
//
// Compared with:
//   - Quill's BoundedSPSCQueue and fmtlog's SPSC byte queue: the same idea (reserve, write in
//     place, commit); Quill publishes in batches from the producer and wraps by padding the
//     array; ours publishes every commit (the logger needs each line visible for the
//     reorder window) and wraps with a marker record.
//   - Aeron's and Agrona's OneToOneRingBuffer: records with a length header and a padding
//     record at the wrap, as here; Agrona's lives in shared memory and has a message type
//     per record, ours is in-process and leaves the record's content to the caller.
//   - SpscQueue<T> (hft/queue/spsc_queue.hpp): fixed-size slots with a sequence number in
//     each; a LogRing record costs its own length rounded to 8 bytes.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <span>
#include <stdexcept>
#include <string>

#include "hft/core/cache.hpp"

namespace hft {

/// A bounded SPSC ring of variable-length byte records (see the header comment).
class LogRing {
 public:
  /// Bytes every record starts with: its whole length as a little-endian std::uint32_t.
  static constexpr std::size_t kSizeBytes = sizeof(std::uint32_t);
  /// Records and their starts are aligned to this many bytes.
  static constexpr std::size_t kAlign = 8;
  /// The smallest capacity the constructor accepts.
  static constexpr std::size_t kMinCapacity = 64;
  /// The largest capacity the constructor accepts (record sizes are 32-bit).
  static constexpr std::size_t kMaxCapacity = std::size_t{1} << 31;

  /// A ring of `capacity_bytes` bytes rounded up to a power of two. Throws
  /// std::invalid_argument outside [kMinCapacity, kMaxCapacity]; std::bad_alloc.
  explicit LogRing(std::size_t capacity_bytes) : capacity_(round_up(capacity_bytes)), mask_(capacity_ - 1) {
    buffer_.reset(new std::uint64_t[capacity_ / sizeof(std::uint64_t)]());
  }
  LogRing(const LogRing&) = delete;
  LogRing& operator=(const LogRing&) = delete;

  /// The array's size in bytes.
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  /// The largest record try_reserve accepts: half the capacity, so that a record always fits
  /// once the ring is empty, wherever the wrap falls.
  [[nodiscard]] std::size_t max_record() const noexcept { return capacity_ / 2; }
  /// `n` rounded up to the record alignment.
  [[nodiscard]] static constexpr std::size_t record_bytes(std::size_t n) noexcept {
    return (n + kAlign - 1) & ~(kAlign - 1);
  }

  /// Producer: `n` contiguous bytes for the next record (n a multiple of kAlign, kSizeBytes
  /// <= n <= max_record()), or nullptr when the ring lacks the space now (or n is out of
  /// range). The caller writes the record, its first 4 bytes being `n` as std::uint32_t,
  /// then calls commit(n). Wait-free.
  [[nodiscard]] std::byte* try_reserve(std::size_t n) noexcept {
    if (n < kSizeBytes || n > max_record() || n % kAlign != 0) return nullptr;
    const std::size_t pos = static_cast<std::size_t>(tail_local_) & mask_;
    const std::size_t to_end = capacity_ - pos;
    const std::size_t need = n <= to_end ? n : to_end + n;
    if (capacity_ - (tail_local_ - head_cache_) < need) {
      head_cache_ = head_.value.load(std::memory_order_acquire);  // pairs with release()'s release store
      if (capacity_ - (tail_local_ - head_cache_) < need) return nullptr;
    }
    if (n > to_end) {
      store_u32(pos, kWrapMarker);
      tail_local_ += to_end;  // published with the record by commit()
      return bytes() + 0;
    }
    return bytes() + pos;
  }

  /// Producer: publishes the record try_reserve(n) returned (n as passed to it).
  void commit(std::size_t n) noexcept {
    tail_local_ += n;
    tail_.value.store(tail_local_, std::memory_order_release);  // pairs with peek()'s acquire load
  }

  /// Consumer: the next record (its first 4 bytes are its size), or an empty span when there
  /// is none or the ring is corrupt (corrupt() then says so and stays true). Wait-free.
  [[nodiscard]] std::span<const std::byte> peek() noexcept {
    if (corrupt_) return {};
    if (head_local_ == tail_cache_) {
      tail_cache_ = tail_.value.load(std::memory_order_acquire);  // pairs with commit()'s release store
      if (head_local_ == tail_cache_) return {};
      if (tail_cache_ - head_local_ > capacity_) return fail();  // behind head, or more than a ring ahead
    }
    std::size_t pos = static_cast<std::size_t>(head_local_) & mask_;
    std::uint32_t size = load_u32(pos);
    if (size == kWrapMarker) {
      const std::size_t skip = capacity_ - pos;
      if (tail_cache_ - head_local_ <= skip) return fail();
      head_local_ += skip;
      pos = 0;
      size = load_u32(0);
    }
    if (size < kSizeBytes || size % kAlign != 0 || size > max_record() || size > tail_cache_ - head_local_ ||
        size > capacity_ - pos)
      return fail();
    return {bytes() + pos, size};
  }

  /// Consumer: gives back the record peek() returned (n is its size), publishing the space
  /// to the producer.
  void release(std::size_t n) noexcept {
    head_local_ += n;
    head_.value.store(head_local_, std::memory_order_release);  // pairs with try_reserve()'s acquire load
  }

  /// Consumer: true when a size word failed validation; the ring yields nothing more.
  [[nodiscard]] bool corrupt() const noexcept { return corrupt_; }

  /// Consumer: true when no committed record is left (reloads the producer's position).
  [[nodiscard]] bool empty() noexcept {
    tail_cache_ = tail_.value.load(std::memory_order_acquire);  // pairs with commit()'s release store
    return head_local_ == tail_cache_ || corrupt_;
  }

  /// Any thread: committed bytes not yet released, a relaxed snapshot (statistics).
  [[nodiscard]] std::size_t size_approx() const noexcept {
    const std::uint64_t t = tail_.value.load(std::memory_order_relaxed);
    const std::uint64_t h = head_.value.load(std::memory_order_relaxed);
    return t >= h ? static_cast<std::size_t>(t - h) : 0;
  }

  /// Testing and fuzzing: the raw array (capacity() bytes).
  [[nodiscard]] std::byte* data() noexcept { return bytes(); }
  /// Testing and fuzzing: publishes `tail` as the producer's position without writing anything.
  void publish_tail_for_testing(std::uint64_t tail) noexcept {
    tail_local_ = tail;
    tail_.value.store(tail, std::memory_order_release);  // pairs with peek()'s acquire load
  }

 private:
  static constexpr std::uint32_t kWrapMarker = 0xFFFF'FFF8u;  // never a valid size (> kMaxCapacity / 2)

  static std::size_t round_up(std::size_t n) {
    if (n < kMinCapacity || n > kMaxCapacity)
      throw std::invalid_argument("hft::LogRing: capacity must be in [64, 2^31] bytes, got " + std::to_string(n));
    std::size_t c = kMinCapacity;
    while (c < n) c <<= 1;
    return c;
  }
  std::byte* bytes() const noexcept { return reinterpret_cast<std::byte*>(buffer_.get()); }
  std::uint32_t load_u32(std::size_t pos) const noexcept {
    std::uint32_t v = 0;
    std::memcpy(&v, bytes() + pos, sizeof v);
    return v;
  }
  void store_u32(std::size_t pos, std::uint32_t v) noexcept { std::memcpy(bytes() + pos, &v, sizeof v); }
  std::span<const std::byte> fail() noexcept {
    corrupt_ = true;
    return {};
  }

  // Producer line: the shared tail, then what only the producer touches.
  CachePadded<std::atomic<std::uint64_t>> tail_{};
  std::uint64_t tail_local_ = 0;
  std::uint64_t head_cache_ = 0;
  // Consumer line.
  alignas(cache_line_size) CachePadded<std::atomic<std::uint64_t>> head_{};
  std::uint64_t head_local_ = 0;
  std::uint64_t tail_cache_ = 0;
  bool corrupt_ = false;
  // Read-only after construction.
  alignas(cache_line_size) std::size_t capacity_;
  std::size_t mask_;
  std::unique_ptr<std::uint64_t[]> buffer_;
};

static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
// The producer's line (tail + its private copies), the consumer's line and the read-only
// line are three different cache lines: five lines in all with the padding of the atomics.
static_assert(sizeof(LogRing) == 5 * cache_line_size, "LogRing: producer and consumer state share a cache line");

}  // namespace hft
