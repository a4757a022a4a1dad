// Fuzz target: shared memory that holds arbitrary bytes, as a buggy or hostile peer could
// leave it, read as each kind of hft/ipc channel and as a region header (issue 39: "opens
// random region bytes as each channel kind and reads"). One binary; byte 0 % 4 picks the mode.
//
// Mode 0, IpcSpscQueue: the channel area (control block and slots) of a real region holds
//   the input, and a consumer and a producer of this process use it.
//   Invariants: no crash, no out-of-bounds access (ASan), no UB (UBSan); consume() returns at
//   most capacity() items and size() at most capacity(); an attach either succeeds or is
//   refused with the documented errors (a live holder, or a producer's tail and head that
//   contradict each other); a producer attached to a region with sane indices accepts items
//   and a consumer then receives them.
//   Input: byte 1 picks the capacity, byte 2 the operations; the rest is laid over the area
//   (repeated to fill it).
// Mode 1, BroadcastReceiver: a ring area of exactly capacity + 384 bytes on the heap (so ASan
//   flags any read past it) holds the input; a receiver joins and calls receive_next a bounded
//   number of times, optionally with a BroadcastTransmitter attached to the same area
//   publishing between the calls.
//   Invariants: every result is Message / Empty / Lapped / Corrupt; only Lapped and Corrupt
//   report losses; a Message has a type > 0, a payload of at most max_message_length() bytes
//   inside the buffer it was copied to, and is exactly the record the ring holds where the
//   receiver read it (header, sequence and bytes); two Messages with no Lapped/Corrupt between
//   them have consecutive sequence numbers; the receiver's stats are the sums of its results.
//   A transmitter either attaches or is refused with "hft::BroadcastTransmitter: positions";
//   once it has published, a receiver joining afterwards reads exactly its last message first
//   and then Empty.
//   Input: byte 1 picks the capacity, byte 2 flags (sane positions, caller's buffer,
//   transmitter, waits, number of messages), byte 3 the number of receive calls (1..64) and
//   whether the messages come in one burst before them; the rest is laid over the area.
// Mode 2, SharedRegion::open: a region created for a fixed layout (a broadcast ring or an SPSC
//   queue) whose 256-byte header is overwritten with the input (raw, or XORed over the real
//   header so that single-field mismatches are near), opened with open_timeout 0 (never waits).
//   Invariants: open succeeds exactly when every checked field matches (computed here from the
//   bytes written, in open()'s order); otherwise it throws std::runtime_error or
//   std::system_error whose message is "hft::SharedRegion: <name>: <the first mismatching
//   field>: ..."; a region that opens can be handed to a BroadcastReceiver, which reads Empty.
//   Input: byte 1 flags (XOR or raw, keep the ready word, layout); the rest fills the header.
//   The region exists under its name only from create to the return of open (names carry the
//   pid; a stale one from an earlier run is removed first).
// Mode 3, IpcMpscQueue: as mode 0 for the multi-producer queue: the channel area (control block
//   and slots {seq, owner, item}) holds the input; a consumer (claim_timeout 0, so the skip
//   paths run) and a producer use it, claiming, publishing and abandoning.
//   Invariants: no crash, no out-of-bounds access, no UB; every call returns (a claim loop on a
//   region that shows no progress gives up); consume() returns at most capacity() items and
//   size() at most capacity(); the consumer attach succeeds or is refused as documented.
//   Input: byte 1 picks the capacity, byte 2 the operations; the rest is laid over the area.
// Why: a reader must never crash or read out of bounds because of what a region holds
// (include/hft/ipc/*.hpp "Errors" and "Crash semantics"); this drives every path that reads
// shared words with values no honest writer produces.
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <span>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "fuzz_check.hpp"
#include "hft/ipc/broadcast_ring.hpp"
#include "hft/ipc/ipc_mpsc_queue.hpp"
#include "hft/ipc/ipc_spsc_queue.hpp"
#include "hft/ipc/shared_region.hpp"

namespace {

// ---------------------------------------------------------------- mode 0: IpcSpscQueue

struct Item {
  std::uint64_t a;
  std::uint32_t b;
};
using Queue = hft::ipc::IpcSpscQueue<Item>;
constexpr std::size_t kCapacities[] = {1, 3, 8, 13, 64};

// One region per queue type and capacity for the whole run, unlinked at once (the mapping
// stays): nothing is left in /dev/shm whatever the run does.
template <class Q>
Q& queue_for(std::size_t which, const char* what) {
  static std::unique_ptr<Q> queues[std::size(kCapacities)];
  auto& q = queues[which];
  if (!q) {
    const std::string name =
        "hft_fuzz_ipc_" + std::string(what) + "_" + std::to_string(::getpid()) + "_" + std::to_string(which);
    (void)Q::remove(name);
    q.reset(new Q(Q::create(name, kCapacities[which], hft::ipc::type_tag("fuzz::Item"))));
    (void)Q::remove(name);
  }
  return *q;
}

// Lays the input over the queue's channel area (repeated to fill it; zeros for no input) and
// returns the area.
template <class Q>
unsigned char* lay_input(Q& q, const std::uint8_t* data, std::size_t size) {
  auto* area = reinterpret_cast<unsigned char*>(q.region().channel());
  const std::size_t bytes = q.region().channel_bytes();
  if (size > 0) {
    for (std::size_t i = 0; i < bytes; ++i) area[i] = data[i % size];
  } else {
    std::memset(area, 0, bytes);
  }
  return area;
}

bool refused_as_documented(const std::exception& e) {
  const std::string what = e.what();
  return what.find("held by live process") != std::string::npos || what.find("corrupt region") != std::string::npos;
}

void fuzz_spsc(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return;
  const std::size_t which = data[0] % std::size(kCapacities);
  const std::uint8_t ops = data[1];
  Queue& q = queue_for<Queue>(which, "region");
  auto& ctl = *reinterpret_cast<hft::ipc::detail::SpscControl*>(lay_input(q, data + 2, size - 2));
  if ((ops & 1) != 0) {  // free roles, so that the operations behind the attach run
    ctl.producer_owner = 0;
    ctl.consumer_owner = 0;
  }
  ctl.data.waiters = 0;  // a garbage waiter count only costs FUTEX_WAKE calls; keep runs fast

  FUZZ_CHECK(q.size() <= q.capacity(), "size %zu > capacity %zu", q.size(), q.capacity());
  (void)q.producer_alive();
  (void)q.consumer_alive();

  try {
    auto c = q.consumer();
    Item it{};
    (void)c.try_pop(it);
    (void)c.try_pop();
    std::size_t n = c.consume([&](Item& x) { it = x; }, (ops >> 1) & 7);
    FUZZ_CHECK(n <= 7, "consume(max 7) returned %zu", n);
    n = c.consume([&](Item& x) { it = x; });
    FUZZ_CHECK(n <= q.capacity(), "consume returned %zu > capacity %zu", n, q.capacity());
    if ((ops & 16) != 0) (void)c.wait_for_data(std::chrono::nanoseconds(0));
  } catch (const std::runtime_error& e) {
    FUZZ_CHECK(refused_as_documented(e), "consumer attach: %s", e.what());
  }

  try {
    auto p = q.producer();
    const bool from_empty = ctl.head == ctl.tail;  // then every position from head to ours is ready
    const Item item{0x1234, 7};
    const std::vector<Item> batch(3, item);
    const bool pushed = p.try_push(item);
    (void)p.try_push_n(batch.begin(), batch.end());
    (void)p.push_for(item, std::chrono::nanoseconds(0));
    FUZZ_CHECK(q.size() <= q.capacity(), "size %zu > capacity %zu", q.size(), q.capacity());
    if (pushed && from_empty && (ops & 32) != 0 && ctl.consumer_owner == 0) {
      // A fresh consumer resumes at the region's head and reads up to and including ours.
      auto c = q.consumer();
      std::size_t got = 0;
      (void)c.consume([&](Item&) { ++got; });
      FUZZ_CHECK(got >= 1 && got <= q.capacity(), "a pushed item is not delivered (%zu)", got);
    }
  } catch (const std::runtime_error& e) {
    FUZZ_CHECK(refused_as_documented(e), "producer attach: %s", e.what());
  }
}

// ---------------------------------------------------------------- mode 1: BroadcastReceiver

using BL = hft::ipc::detail::BroadcastLayout;
using hft::ipc::BroadcastReceiver;
using hft::ipc::ReceiveStatus;
constexpr std::uint64_t kRingCapacities[] = {64, 128, 512, 4096};

struct AlignedFree {
  void operator()(std::byte* p) const noexcept { ::operator delete (p, std::align_val_t{64}); }
};
using AreaPtr = std::unique_ptr<std::byte, AlignedFree>;

std::uint64_t load_u64(const std::byte* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
void store_u64(std::byte* p, std::uint64_t v) { std::memcpy(p, &v, 8); }

// What a run of receive_next() results adds up to; checked against the receiver's stats.
struct Tally {
  std::uint64_t messages = 0, lapped = 0, corrupt = 0, bytes_lost = 0, messages_lost = 0;
  bool after_message = false;  // the last non-Empty result was a Message
  std::uint64_t last_sequence = 0;
};

// One receive_next() call and every per-result invariant.
void receive_and_check(BroadcastReceiver& r, const std::byte* area, std::uint64_t capacity, std::byte* buffer,
                       std::size_t buffer_size, Tally& t) {
  const auto res = buffer != nullptr ? r.receive_next(std::span<std::byte>(buffer, buffer_size)) : r.receive_next();
  switch (res.status) {
    case ReceiveStatus::Empty:
      FUZZ_CHECK(res.bytes_lost == 0 && res.messages_lost == 0, "Empty reports losses");
      return;
    case ReceiveStatus::Lapped:
    case ReceiveStatus::Corrupt:
      if (res.status == ReceiveStatus::Lapped)
        ++t.lapped;
      else
        ++t.corrupt;
      t.bytes_lost += res.bytes_lost;
      t.messages_lost += res.messages_lost;
      t.after_message = false;
      return;
    case ReceiveStatus::Message:
      break;
    default:
      FUZZ_CHECK(false, "receive_next returned status %d", static_cast<int>(res.status));
  }
  ++t.messages;
  const std::size_t n = res.payload.size();
  FUZZ_CHECK(res.type > 0, "Message of type %d", res.type);
  FUZZ_CHECK(res.bytes_lost == 0 && res.messages_lost == 0, "a Message reports losses");
  FUZZ_CHECK(n <= r.max_message_length(), "payload %zu > max_message_length %llu", n,
             static_cast<unsigned long long>(r.max_message_length()));
  if (buffer != nullptr)
    FUZZ_CHECK(res.payload.data() == buffer && n <= buffer_size, "payload is not in the caller's buffer");
  if (t.after_message)
    FUZZ_CHECK(res.sequence == t.last_sequence + 1, "sequence %llu after %llu",
               static_cast<unsigned long long>(res.sequence), static_cast<unsigned long long>(t.last_sequence));
  t.after_message = true;
  t.last_sequence = res.sequence;
  // The record the receiver read ends at its new position; nothing wrote the ring meanwhile,
  // so the copy must be exactly what the ring holds there.
  const std::uint64_t start = (r.position() - BL::align(BL::kHeader + n)) & (capacity - 1);
  FUZZ_CHECK(start + BL::kHeader + n <= capacity, "record at %llu of %zu bytes runs past the ring",
             static_cast<unsigned long long>(start), n);
  const std::uint64_t w0 = load_u64(area + start);
  FUZZ_CHECK(BL::type_of(w0) == res.type && BL::length_of(w0) == BL::kHeader + n, "header differs from the result");
  FUZZ_CHECK(load_u64(area + start + 8) == res.sequence, "sequence differs from the ring's");
  FUZZ_CHECK(std::memcmp(area + start + BL::kHeader, res.payload.data(), n) == 0, "payload differs from the ring's");
}

void check_stats(const BroadcastReceiver& r, const Tally& t) {
  const auto s = r.stats();
  FUZZ_CHECK(s.received == t.messages && s.lapped == t.lapped && s.corrupt == t.corrupt &&
                 s.bytes_lost == t.bytes_lost && s.messages_lost == t.messages_lost && r.lapped_count() == s.lapped,
             "stats (received %llu lapped %llu corrupt %llu bytes_lost %llu messages_lost %llu) != results (%llu %llu "
             "%llu %llu %llu)",
             static_cast<unsigned long long>(s.received), static_cast<unsigned long long>(s.lapped),
             static_cast<unsigned long long>(s.corrupt), static_cast<unsigned long long>(s.bytes_lost),
             static_cast<unsigned long long>(s.messages_lost), static_cast<unsigned long long>(t.messages),
             static_cast<unsigned long long>(t.lapped), static_cast<unsigned long long>(t.corrupt),
             static_cast<unsigned long long>(t.bytes_lost), static_cast<unsigned long long>(t.messages_lost));
}

void fuzz_broadcast(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return;
  const std::uint64_t capacity = kRingCapacities[data[0] % std::size(kRingCapacities)];
  const std::uint8_t flags = data[1];
  const std::uint8_t calls_byte = data[2];
  const std::size_t calls = 1 + std::size_t{calls_byte} % 64;
  data += 3;
  size -= 3;
  const std::size_t bytes = BL::channel_bytes(capacity);
  AreaPtr holder(static_cast<std::byte*>(::operator new (bytes, std::align_val_t{64})));
  std::byte* area = holder.get();
  for (std::size_t i = 0; i < bytes; ++i) area[i] = size > 0 ? std::byte{data[i % size]} : std::byte{0};
  std::byte* trailer = area + capacity;
  if ((flags & 1) != 0) {  // positions a writer could have left: aligned, intent == tail, latest before tail
    const std::uint64_t tail = load_u64(trailer + BL::kTail) % (4 * capacity) & ~(BL::kAlign - 1);
    const std::uint64_t latest = tail == 0 ? 0 : load_u64(trailer + BL::kLatest) % tail & ~(BL::kAlign - 1);
    store_u64(trailer + BL::kTail, tail);
    store_u64(trailer + BL::kTailIntent, tail);
    store_u64(trailer + BL::kLatest, latest);
  }
  store_u64(trailer + BL::kWaitWord, 0);  // a garbage waiter count only costs FUTEX_WAKE calls
  store_u64(trailer + BL::kOwner, 0);     // no live owner: a transmitter may attach

  const std::span<std::byte> ring(area, bytes);
  BroadcastReceiver r(ring, capacity);
  FUZZ_CHECK(r.capacity() == capacity && r.max_message_length() == capacity / 8, "receiver geometry");
  // The caller's buffer: exactly max_message_length() bytes on the heap, so ASan sees an overrun.
  std::unique_ptr<std::byte[]> buffer;
  if ((flags & 2) != 0) buffer = std::make_unique<std::byte[]>(r.max_message_length());
  if ((flags & 8) != 0) {
    (void)r.has_data();
    (void)r.writer_alive();
    (void)r.wait_for_data(std::chrono::nanoseconds(0));
  }

  std::unique_ptr<hft::ipc::BroadcastTransmitter> tx;
  if ((flags & 4) != 0) {
    try {
      tx =
          std::make_unique<hft::ipc::BroadcastTransmitter>(ring, capacity, hft::ipc::BroadcastTransmitterConfig{false});
    } catch (const std::runtime_error& e) {
      FUZZ_CHECK(std::strncmp(e.what(), "hft::BroadcastTransmitter: positions: ", 38) == 0, "transmitter: %s",
                 e.what());
    }
  }
  // Byte 2's top bit: a burst of 8x as many messages before the first receive (laps the reader).
  const bool burst = (calls_byte & 0x80) != 0;
  const std::size_t to_send = (1 + std::size_t{(flags >> 4) & 7u}) * (burst ? 8 : 1);
  std::size_t sent = 0;
  std::vector<std::byte> last;
  std::int32_t last_type = 0;
  Tally t;
  for (std::size_t i = 0; i < calls; ++i) {
    while (tx && sent < to_send && (burst || i % 3 == 0)) {
      const std::size_t n = (size > 0 ? data[(i + sent) % size] : 0) % (tx->max_message_length() + 1);
      last.assign(n, std::byte{0});
      for (std::size_t k = 0; k < n; ++k) last[k] = std::byte{static_cast<std::uint8_t>(k * 31 + sent)};
      last_type = static_cast<std::int32_t>(1 + sent);
      tx->transmit(last_type, last);
      ++sent;
      if (!burst) break;
    }
    receive_and_check(r, area, capacity, buffer.get(), buffer ? r.max_message_length() : 0, t);
  }
  check_stats(r, t);

  if (sent > 0) {  // a late joiner starts at the latest message: ours
    BroadcastReceiver late(ring, capacity);
    const auto res = late.receive_next();
    FUZZ_CHECK(res.status == ReceiveStatus::Message, "a late joiner after %zu transmits got status %d", sent,
               static_cast<int>(res.status));
    FUZZ_CHECK(res.type == last_type && res.sequence + 1 == tx->next_sequence() && res.payload.size() == last.size() &&
                   std::equal(last.begin(), last.end(), res.payload.begin()),
               "a late joiner did not read the last message (type %d, sequence %llu, %zu bytes)", res.type,
               static_cast<unsigned long long>(res.sequence), res.payload.size());
    FUZZ_CHECK(late.receive_next().status == ReceiveStatus::Empty, "a late joiner read past the last message");
  }
}

// ---------------------------------------------------------------- mode 2: SharedRegion::open

using hft::ipc::RegionLayout;
using hft::ipc::SharedRegion;

// The header's fields as SharedRegion::Header lays them out (private there; checked against a
// real region once, at the first run).
constexpr std::size_t kMagicAt = 0, kVersionAt = 8, kKindAt = 12, kElementSizeAt = 16, kElementAlignAt = 20,
                      kTypeTagAt = 24, kCapacityAt = 32, kChannelOffsetAt = 40, kChannelBytesAt = 48,
                      kTotalBytesAt = 56, kReadyAt = 128;
constexpr char kMagic[8] = {'H', 'F', 'T', 'I', 'P', 'C', '0', '1'};
constexpr std::uint32_t kReady = 0x52454459;

std::uint32_t load_u32(const std::byte* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// The first field open() must refuse for header `h` (its order), or nullptr when all match.
const char* first_mismatch(const std::byte* h, const RegionLayout& l, std::uint64_t total) {
  if (load_u32(h + kReadyAt) != kReady) return "ready";
  if (std::memcmp(h + kMagicAt, kMagic, 8) != 0) return "magic";
  if (load_u32(h + kVersionAt) != SharedRegion::kLayoutVersion) return "layout_version";
  if (load_u32(h + kKindAt) != static_cast<std::uint32_t>(l.kind)) return "kind";
  if (load_u32(h + kElementSizeAt) != l.element_size) return "element_size";
  if (load_u32(h + kElementAlignAt) != l.element_align) return "element_align";
  if (load_u64(h + kTypeTagAt) != l.type_tag.value) return "type_tag";
  if (load_u64(h + kCapacityAt) != l.capacity) return "capacity";
  if (load_u64(h + kChannelOffsetAt) != SharedRegion::kHeaderBytes) return "channel_offset";
  if (load_u64(h + kChannelBytesAt) != l.channel_bytes) return "channel_bytes";
  if (load_u64(h + kTotalBytesAt) != total) return "total_bytes";
  return nullptr;
}

const RegionLayout& region_layout(bool broadcast) {
  static const RegionLayout ring = hft::ipc::broadcast_ring_layout(256, hft::ipc::type_tag("fuzz/md"));
  static const RegionLayout spsc = Queue::layout(13, hft::ipc::type_tag("fuzz::Item"));
  return broadcast ? ring : spsc;
}

void fuzz_region_open(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return;
  const std::uint8_t flags = data[0];
  ++data;
  --size;
  const bool broadcast = (flags & 4) != 0;
  const RegionLayout& layout = region_layout(broadcast);
  const std::string name = "hft_fuzz_ipc_region_hdr_" + std::to_string(::getpid());
  static bool stale_removed = false;
  if (!stale_removed) (void)SharedRegion::remove(name);
  stale_removed = true;

  SharedRegion created = SharedRegion::create(name, layout);
  created.mark_ready();
  std::byte* header = created.channel() - SharedRegion::kHeaderBytes;
  const std::uint64_t total = created.mapped_bytes();
  static bool offsets_checked = false;
  if (!offsets_checked) {  // this target's idea of the header against a real one
    FUZZ_CHECK(first_mismatch(header, layout, total) == nullptr, "the header layout changed: %s",
               first_mismatch(header, layout, total));
    offsets_checked = true;
  }
  for (std::size_t i = 0; i < SharedRegion::kHeaderBytes; ++i) {
    const auto b = std::byte{size > 0 ? data[i % size] : std::uint8_t{0}};
    header[i] = (flags & 1) != 0 ? header[i] ^ b : b;  // XOR: zero input bytes keep the real header
  }
  if ((flags & 2) != 0) std::memcpy(header + kReadyAt, &kReady, 4);
  const char* expected = first_mismatch(header, layout, total);

  hft::ipc::SharedRegionConfig cfg;
  cfg.open_timeout = std::chrono::milliseconds(0);
  std::string error;
  std::unique_ptr<SharedRegion> opened;
  try {
    opened = std::make_unique<SharedRegion>(SharedRegion::open(name, layout, cfg));
  } catch (const std::system_error& e) {
    error = e.what();
  } catch (const std::runtime_error& e) {
    error = e.what();
  }
  (void)SharedRegion::remove(name);  // before any check can abort: nothing is left in /dev/shm

  if (expected == nullptr) {
    FUZZ_CHECK(opened != nullptr, "a header with every field right is refused: %s", error.c_str());
    FUZZ_CHECK(opened->channel_bytes() == layout.channel_bytes && opened->mapped_bytes() == total,
               "opened with another geometry");
    if (broadcast) {  // the channel area is still zero-filled: an empty ring
      BroadcastReceiver r(std::move(*opened));
      FUZZ_CHECK(r.receive_next().status == ReceiveStatus::Empty, "a fresh ring is not empty");
    }
    return;
  }
  FUZZ_CHECK(opened == nullptr, "open accepted a header whose %s is wrong", expected);
  const std::string prefix = "hft::SharedRegion: " + name + ": " + expected + ":";
  FUZZ_CHECK(error.compare(0, prefix.size(), prefix) == 0, "expected an error naming %s, got: %s", expected,
             error.c_str());
}

// ---------------------------------------------------------------- mode 3: IpcMpscQueue

using Mpsc = hft::ipc::IpcMpscQueue<Item>;

void fuzz_mpsc(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return;
  const std::size_t which = data[0] % std::size(kCapacities);
  const std::uint8_t ops = data[1];
  Mpsc& q = queue_for<Mpsc>(which, "mpsc");
  auto& ctl = *reinterpret_cast<hft::ipc::detail::MpscControl*>(lay_input(q, data + 2, size - 2));
  if ((ops & 1) != 0) ctl.consumer_owner = 0;  // so that the operations behind the attach run
  ctl.data.waiters = 0;                        // a garbage count only costs FUTEX_WAKE calls

  FUZZ_CHECK(q.size() <= q.capacity(), "size %zu > capacity %zu", q.size(), q.capacity());
  (void)q.consumer_alive();
  (void)q.skipped();

  auto p = q.producer();
  const Item item{0x1234, 7};
  (void)p.try_push(item);
  if (auto cl = p.try_claim()) {
    if ((ops & 2) != 0) cl->publish();  // else abandoned by the destructor
  }
  (void)p.push_for(item, std::chrono::nanoseconds(0));
  FUZZ_CHECK(q.size() <= q.capacity(), "size %zu > capacity %zu", q.size(), q.capacity());

  try {
    auto c = q.consumer(std::chrono::nanoseconds(0));
    Item it{};
    for (int i = 0; i < 1 + ((ops >> 2) & 3); ++i) {
      (void)c.try_pop(it);
      (void)c.try_pop();
      const std::size_t n = c.consume([&](Item& x) { it = x; });
      FUZZ_CHECK(n <= q.capacity(), "consume returned %zu > capacity %zu", n, q.capacity());
    }
    if ((ops & 16) != 0) (void)c.wait_for_data(std::chrono::nanoseconds(0));
  } catch (const std::runtime_error& e) {
    FUZZ_CHECK(refused_as_documented(e), "consumer attach: %s", e.what());
  }
  FUZZ_CHECK(q.size() <= q.capacity(), "size %zu > capacity %zu", q.size(), q.capacity());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  switch (data[0] % 4) {
    case 0:
      fuzz_spsc(data + 1, size - 1);
      break;
    case 1:
      fuzz_broadcast(data + 1, size - 1);
      break;
    case 2:
      fuzz_region_open(data + 1, size - 1);
      break;
    default:
      fuzz_mpsc(data + 1, size - 1);
      break;
  }
  return 0;
}
