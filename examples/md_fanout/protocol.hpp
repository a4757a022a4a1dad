// examples/md_fanout/protocol.hpp: the wire format of the market-data fan-out, shared by the
// feed and its readers: typed messages (the int32 type of BroadcastTransmitter::transmit), each
// with its publish timestamp, and the book digest both sides compute the same way.
//
// Why an L2 snapshot and L2-complete events: the deep-book profile keeps ~20,000 live orders,
// so an order-level snapshot is ~500 KB, several times a demo ring; its ~1,000 price levels
// are 16 KB. Every event therefore carries the level it changes (price and quantity, and the
// old ones for a replace), which the feed looks up in its own order book: a reader then keeps
// an exact TickWindowBookL2 from events alone, and a snapshot of the L2 view rebuilds it
// exactly. The order ids still travel, so an L3 consumer could follow the same stream.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <type_traits>

#include "hft/ipc/shared_region.hpp"
#include "hft/trading/types.hpp"

namespace md_fanout {

// A reader built against another layout of these structs is refused at open, with the field
// named, instead of decoding garbage.
inline constexpr hft::ipc::TypeTag kProtocolTag = hft::ipc::type_tag("hft/examples/md_fanout/v1");

// The message types: > 0, as transmit() requires (the ring uses -1 for its padding).
enum class MsgType : std::int32_t {
  Add = 1,
  Cancel = 2,  // a partial cancel
  Trade = 3,   // an execution against a resting order
  Delete = 4,
  Replace = 5,  // modify: the old order goes, the new one takes its place
  SnapshotBegin = 10,
  SnapshotLevels = 11,
  SnapshotEnd = 12,
  Heartbeat = 20,
  EndOfStream = 21,
};

// Every struct starts with publish_ns: steady_clock nanoseconds, one clock (CLOCK_MONOTONIC)
// for every process of the machine, so publish -> applied is a plain difference.
struct Event {
  std::uint64_t publish_ns;
  std::uint64_t id;
  std::uint64_t new_id;    // Replace only
  std::int64_t price;      // ticks: the level the event changes (Replace: the new one)
  std::int64_t qty;        // Add / Replace: the size; Cancel / Trade / Delete: what leaves the level
  std::int64_t old_price;  // Replace only: the level the old order leaves
  std::int64_t old_qty;    // Replace only
  std::uint8_t side;
  std::uint8_t pad[7];  // explicit, so the bytes on the wire are defined (zero)
};

struct SnapshotBegin {
  std::uint64_t publish_ns;
  std::uint64_t snapshot;  // 1, 2, 3, ...
  std::uint64_t digest;    // of the feed's book at this point (book_digest)
  std::uint64_t events;    // events published before it
  std::uint32_t bid_levels;
  std::uint32_t ask_levels;
};

// Followed by `count` WireLevel, best first. A side longer than one message spans several.
struct SnapshotLevels {
  std::uint64_t publish_ns;
  std::uint64_t snapshot;
  std::uint32_t side;
  std::uint32_t count;
};

struct WireLevel {
  std::int64_t price;
  std::int64_t qty;
};

struct SnapshotEnd {
  std::uint64_t publish_ns;
  std::uint64_t snapshot;
};

struct Heartbeat {
  std::uint64_t publish_ns;
  std::uint64_t events;
};

// The last message: a reader still in sync checks the final digest too.
struct EndOfStream {
  std::uint64_t publish_ns;
  std::uint64_t events;
  std::uint64_t snapshots;
  std::uint64_t digest;
};

// Copies a payload into T; false when it is too short (a protocol error, never a crash).
template <class T>
[[nodiscard]] bool decode(std::span<const std::byte> payload, T& out) noexcept {
  static_assert(std::is_trivially_copyable_v<T>);
  if (payload.size() < sizeof(T)) return false;
  std::memcpy(&out, payload.data(), sizeof(T));
  return true;
}

// A 64-bit chain: each word is xored in and the state goes through MurmurHash3's fmix64 (a
// bijection that spreads every input bit over the output). Order-sensitive, so a level at the
// wrong place or with the wrong size changes it; a few ns per word, so a snapshot's ~1,000
// levels cost microseconds on both sides, not a tail-latency spike.
class Digest {
 public:
  void mix(std::uint64_t v) noexcept {
    std::uint64_t h = h_ ^ v;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    h_ = h;
  }
  [[nodiscard]] std::uint64_t value() const noexcept { return h_; }

 private:
  std::uint64_t h_ = 0x6d645f66616e6f75ULL;  // "md_fanou": any nonzero start, so an empty book is not 0
};

// The digest of an L2 view: per side, its level count, then every (price, qty) best first.
// A template because the feed hashes the OrderBookL2 inside its OrderBookL3 and a reader its
// TickWindowBookL2: the two share level_count and for_each_level, so equal books give equal
// digests whatever their storage.
template <class Book>
[[nodiscard]] std::uint64_t book_digest(const Book& book) {
  Digest d;
  for (const hft::Side side : {hft::Side::Buy, hft::Side::Sell}) {
    d.mix(static_cast<std::uint64_t>(side));
    d.mix(book.level_count(side));
    book.for_each_level(side, std::numeric_limits<std::size_t>::max(), [&d](const hft::Level& l) {
      d.mix(static_cast<std::uint64_t>(l.price.ticks()));
      d.mix(static_cast<std::uint64_t>(l.qty.value()));
    });
  }
  return d.value();
}

}  // namespace md_fanout
