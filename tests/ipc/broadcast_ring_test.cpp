// BroadcastTransmitter / BroadcastReceiver: ordering and checksums across threads and processes,
// laps with exact losses, late joiners, wrap-around, a killed reader, a restarted writer, and a
// hostile region that must never make a reader read out of bounds.
#include "hft/ipc/broadcast_ring.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <new>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "../support/catch.hpp"
#include "../support/scale.hpp"
#include "ipc_test_support.hpp"

using namespace std::chrono_literals;
using hft::ipc::BroadcastReceiver;
using hft::ipc::BroadcastTransmitter;
using hft::ipc::ReceiveStatus;
using hft::ipc::SharedRegion;
using hft::test::HeapArea;

namespace {

std::uint32_t fnv1a(const std::byte* p, std::size_t n) {
  std::uint32_t h = 2166136261u;
  for (std::size_t i = 0; i < n; ++i) {
    h ^= static_cast<std::uint8_t>(p[i]);
    h *= 16777619u;
  }
  return h;
}

// Message k: [u64 k][filler bytes][u32 checksum of everything before], length 12 .. max.
std::vector<std::byte> make_message(std::uint64_t k, std::size_t max_len) {
  const std::size_t len = 12 + static_cast<std::size_t>(k * 7919) % (max_len - 12 + 1);
  std::vector<std::byte> m(len);
  std::memcpy(m.data(), &k, 8);
  for (std::size_t i = 8; i < len - 4; ++i) m[i] = static_cast<std::byte>((k * 31 + i) & 0xff);
  const std::uint32_t c = fnv1a(m.data(), len - 4);
  std::memcpy(m.data() + len - 4, &c, 4);
  return m;
}

// The checks every reader makes: checksum, ring sequence == payload number, and each message is
// the previous one + 1 + the messages a lap reported lost in between.
struct Verifier {
  std::uint64_t last = 0;  // 0: nothing yet
  std::uint64_t lost_since = 0;
  std::uint64_t messages = 0;
  std::uint64_t laps = 0;
  std::uint64_t bytes_lost = 0;
  std::string error;

  bool on(const hft::ipc::BroadcastReceiveResult& r) {
    if (r.status == ReceiveStatus::Lapped) {
      ++laps;
      bytes_lost += r.bytes_lost;
      lost_since += r.messages_lost;
      if (r.messages_lost > 0 && r.bytes_lost == 0) return fail("messages lost without bytes lost");
      return true;
    }
    if (r.status == ReceiveStatus::Corrupt) return fail("Corrupt result from an honest writer");
    if (r.status != ReceiveStatus::Message) return true;
    if (r.type != 7) return fail("type " + std::to_string(r.type));
    if (r.payload.size() < 12) return fail("short payload");
    std::uint64_t k = 0;
    std::memcpy(&k, r.payload.data(), 8);
    std::uint32_t c = 0;
    std::memcpy(&c, r.payload.data() + r.payload.size() - 4, 4);
    if (c != fnv1a(r.payload.data(), r.payload.size() - 4)) return fail("checksum of message " + std::to_string(k));
    if (k != r.sequence)
      return fail("sequence " + std::to_string(r.sequence) + " carries message " + std::to_string(k));
    if (last != 0 && k != last + 1 + lost_since)
      return fail("gap: after " + std::to_string(last) + " (+" + std::to_string(lost_since) + " lost) came " +
                  std::to_string(k));
    last = k;
    lost_since = 0;
    ++messages;
    return true;
  }
  bool fail(std::string e) {
    if (error.empty()) error = std::move(e);
    return false;
  }
};

// Reads until message `until` arrives (or an error, or the deadline).
// slow_every > 0: sleeps 20 us after every slow_every-th message, to be lapped on purpose.
Verifier read_until(BroadcastReceiver& rx, std::uint64_t until, std::uint64_t slow_every = 0) {
  Verifier v;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (v.last < until) {
    const auto r = rx.receive_next();
    if (!v.on(r)) break;
    if (slow_every != 0 && r && r.sequence % slow_every == 0) std::this_thread::sleep_for(20us);
    if (std::chrono::steady_clock::now() > deadline) {
      v.fail("deadline: last " + std::to_string(v.last));
      break;
    }
  }
  return v;
}

void transmit_range(BroadcastTransmitter& tx, std::uint64_t from, std::uint64_t to) {
  for (std::uint64_t k = from; k <= to; ++k) {
    const auto m = make_message(k, std::min<std::size_t>(tx.max_message_length(), 600));
    tx.transmit(7, m);
  }
}

// A forked child's verdict: 0 when every check held.
int child_read(const std::string& name, std::uint64_t capacity, std::uint64_t until, int ready_fd) {
  try {
    BroadcastReceiver rx(SharedRegion::open(name, hft::ipc::broadcast_ring_layout(capacity)));
    const char c = 'r';
    if (::write(ready_fd, &c, 1) != 1) return 2;
    const Verifier v = read_until(rx, until);
    if (!v.error.empty()) {
      std::cerr << "child " << ::getpid() << ": " << v.error << "\n";
      return 3;
    }
    return v.messages > 0 && rx.lapped_count() == v.laps ? 0 : 4;
  } catch (const std::exception& e) {
    std::cerr << "child " << ::getpid() << ": " << e.what() << "\n";
    return 5;
  }
}

int wait_exit(pid_t pid) {
  int status = 0;
  for (int i = 0; i < 60'000; ++i) {  // 60 s bound: never hang the suite
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    std::this_thread::sleep_for(1ms);
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return -1;
}

}  // namespace

TEST_CASE("broadcast ring: one writer thread and two reader threads see gap-free or reported-lap data") {
  // Reader 2 is slow on purpose: it is normally lapped (not asserted: that depends on scheduling).
  hft::test::ShmName rn("bcast");
  const std::uint64_t capacity = std::uint64_t{16} * 1024;
  BroadcastTransmitter tx(SharedRegion::create(rn.str(), hft::ipc::broadcast_ring_layout(capacity)));
  BroadcastReceiver r1(SharedRegion::open(rn.str(), hft::ipc::broadcast_ring_layout(capacity)));
  BroadcastReceiver r2(SharedRegion::open(rn.str(), hft::ipc::broadcast_ring_layout(capacity)));
  const std::uint64_t n = hft::test::scaled(200'000);
  Verifier v1, v2;
  std::thread t1([&] { v1 = read_until(r1, n); });
  std::thread t2([&] { v2 = read_until(r2, n, 32); });
  transmit_range(tx, 1, n);
  t1.join();
  t2.join();
  std::cout << "broadcast ring threads: reader 1 laps " << v1.laps << ", slow reader 2 laps " << v2.laps
            << " (messages lost " << r2.stats().messages_lost << ")" << std::endl;
  INFO("reader 1: " << v1.error << " laps " << v1.laps << " messages " << v1.messages);
  INFO("reader 2: " << v2.error << " laps " << v2.laps << " messages " << v2.messages);
  CHECK(v1.error.empty());
  CHECK(v2.error.empty());
  CHECK(v1.last == n);
  CHECK(v2.last == n);
  CHECK(r1.stats().received == v1.messages);
  CHECK(r1.stats().lapped == v1.laps);
  CHECK(r2.stats().bytes_lost == v2.bytes_lost);
  CHECK(tx.stats().transmitted == n);
}

TEST_CASE("broadcast ring: a writer process and 1, 2 and 4 reader processes") {
  for (const int readers : {1, 2, 4}) {
    hft::test::ShmName rn("bcast");
    const std::uint64_t capacity = std::uint64_t{64} * 1024;
    const std::uint64_t n = hft::test::scaled(100'000);
    BroadcastTransmitter tx(SharedRegion::create(rn.str(), hft::ipc::broadcast_ring_layout(capacity)));
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    std::vector<pid_t> kids;
    for (int i = 0; i < readers; ++i) {
      const pid_t pid = ::fork();
      REQUIRE(pid >= 0);
      if (pid == 0) {
        ::close(fds[0]);
        ::_exit(child_read(rn.str(), capacity, n, fds[1]));
      }
      kids.push_back(pid);
    }
    ::close(fds[1]);
    for (int i = 0; i < readers; ++i) {
      char c = 0;
      REQUIRE(::read(fds[0], &c, 1) == 1);  // every reader has joined
    }
    ::close(fds[0]);
    transmit_range(tx, 1, n);
    for (const pid_t pid : kids) {
      INFO("readers " << readers << " pid " << pid);
      CHECK(wait_exit(pid) == 0);
    }
  }
}

TEST_CASE("broadcast ring: a slow reader is lapped, told the exact loss, and resynchronises") {
  for (const auto mode : {hft::ipc::ResyncTo::Oldest, hft::ipc::ResyncTo::Latest}) {
    CAPTURE(static_cast<int>(mode));
    const std::uint64_t capacity = 4096;
    HeapArea area(capacity);
    BroadcastTransmitter tx(area.span(), capacity);
    BroadcastReceiver fast(area.span(), capacity);
    BroadcastReceiver slow(area.span(), capacity, mode);
    CHECK(slow.resync_to() == mode);
    Verifier vf;
    transmit_range(tx, 1, 3);
    Verifier vs = read_until(slow, 3);
    REQUIRE(vs.error.empty());
    REQUIRE(vf.on(fast.receive_next()));
    for (std::uint64_t k = 4; k <= 1000; ++k) {
      transmit_range(tx, k, k);
      REQUIRE(vf.on(fast.receive_next()));  // the fast reader keeps up: every message, in order
    }
    auto r = slow.receive_next();
    REQUIRE(r.status == ReceiveStatus::Lapped);
    CHECK(r.bytes_lost > 0);
    CHECK(slow.lapped_count() == 1);
    CHECK(slow.stats().messages_lost == r.messages_lost);
    CHECK(slow.stats().bytes_lost == r.bytes_lost);
    const std::uint64_t resumed = 4 + r.messages_lost;  // the first message after the lap
    if (mode == hft::ipc::ResyncTo::Latest) {
      CHECK(r.messages_lost == 1000 - 3 - 1);  // 4 .. 999 are gone; 1000 is the latest
    } else {
      // The oldest message still present: it and everything after it fit in the ring (with at
      // most one wrap padding), and the one before it does not.
      const auto record = [](std::uint64_t k) {
        return (16 + make_message(k, 512).size() + 7) / 8 * 8;  // max_message_length() = 4096 / 8
      };
      std::uint64_t kept = 0;
      for (std::uint64_t k = resumed; k <= 1000; ++k) kept += record(k);
      CHECK(kept <= capacity);
      CHECK(kept + record(resumed - 1) > capacity - record(1000));  // padding at the wrap is < one record
      CHECK(r.messages_lost < 1000 - 3 - 1);
    }
    REQUIRE(vs.on(r));
    r = slow.receive_next();
    REQUIRE(r.status == ReceiveStatus::Message);
    CHECK(r.sequence == resumed);
    REQUIRE(vs.on(r));
    while (vs.last < 1000 && vs.on(slow.receive_next())) {
    }
    CHECK(vs.error.empty());
    CHECK(vs.last == 1000);
    CHECK(slow.lapped_count() == 1);  // the writer was idle: no second lap
    transmit_range(tx, 1001, 1010);
    vs = [&] {
      Verifier v = vs;
      while (v.last < 1010 && v.on(slow.receive_next())) {
      }
      return v;
    }();
    CHECK(vs.error.empty());
    CHECK(vs.last == 1010);
    while (vf.last < 1010 && vf.on(fast.receive_next())) {
    }
    CHECK(vf.error.empty());
    CHECK(vf.laps == 0);
    CHECK(vf.messages == 1010);
    CHECK(fast.lapped_count() == 0);
  }
}

TEST_CASE("broadcast ring: kill -9 of a reader leaves the writer and the other readers unaffected") {
  hft::test::ShmName rn("bcast");
  const std::uint64_t capacity = std::uint64_t{64} * 1024;
  const std::uint64_t n = hft::test::scaled(50'000);
  BroadcastTransmitter tx(SharedRegion::create(rn.str(), hft::ipc::broadcast_ring_layout(capacity)));
  BroadcastReceiver local(SharedRegion::open(rn.str(), hft::ipc::broadcast_ring_layout(capacity)));
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  // The victim sleeps in wait_for_data, so it dies with the waiters count raised.
  const pid_t victim = ::fork();
  REQUIRE(victim >= 0);
  if (victim == 0) {
    ::close(fds[0]);
    BroadcastReceiver rx(SharedRegion::open(rn.str(), hft::ipc::broadcast_ring_layout(capacity)));
    const char c = 'v';
    if (::write(fds[1], &c, 1) != 1) ::_exit(2);
    for (;;) {
      if (rx.wait_for_data(1h)) (void)rx.receive_next();
    }
  }
  const pid_t survivor = ::fork();
  REQUIRE(survivor >= 0);
  if (survivor == 0) {
    ::close(fds[0]);
    ::_exit(child_read(rn.str(), capacity, n, fds[1]));
  }
  ::close(fds[1]);
  for (int i = 0; i < 2; ++i) {
    char c = 0;
    REQUIRE(::read(fds[0], &c, 1) == 1);
  }
  ::close(fds[0]);
  std::this_thread::sleep_for(20ms);  // let the victim reach its futex wait (not required for the checks)
  Verifier v;
  for (std::uint64_t k = 1; k <= n; ++k) {
    if (k == n / 2) {
      REQUIRE(::kill(victim, SIGKILL) == 0);
      CHECK(wait_exit(victim) == 128 + SIGKILL);
    }
    transmit_range(tx, k, k);
    REQUIRE(v.on(local.receive_next()));  // reads after each transmit: never lapped
  }
  CHECK(v.error.empty());
  CHECK(v.laps == 0);
  CHECK(v.last == n);
  CHECK(wait_exit(survivor) == 0);
  CHECK(tx.stats().transmitted == n);
}

TEST_CASE("broadcast ring: a reader that joins late starts at the latest message and readers leave freely") {
  const std::uint64_t capacity = 4096;
  HeapArea area(capacity);
  {
    BroadcastReceiver before(area.span(), capacity);  // joins an empty ring: starts at the first message
    BroadcastTransmitter tx(area.span(), capacity);
    CHECK(before.receive_next().status == ReceiveStatus::Empty);
    transmit_range(tx, 1, 10);
    Verifier vb = read_until(before, 10);
    CHECK(vb.error.empty());
    CHECK(vb.messages == 10);
    {
      BroadcastReceiver late(area.span(), capacity);
      auto r = late.receive_next();
      REQUIRE(r.status == ReceiveStatus::Message);
      CHECK(r.sequence == 10);
      CHECK(late.receive_next().status == ReceiveStatus::Empty);
      transmit_range(tx, 11, 12);
      Verifier vl;
      REQUIRE(vl.on(late.receive_next()));
      CHECK(vl.last == 11);
    }  // leaves mid-stream
    transmit_range(tx, 13, 20);
    vb = read_until(before, 20);
    CHECK(vb.error.empty());
    CHECK(vb.messages == 10);  // 11 .. 20
  }
}

TEST_CASE("broadcast ring: wrap-around with padding, every length 0 to max, max + 1 refused") {
  const std::uint64_t capacity = 1024;
  HeapArea area(capacity);
  BroadcastTransmitter tx(area.span(), capacity);
  BroadcastReceiver rx(area.span(), capacity);
  const std::size_t max = tx.max_message_length();
  REQUIRE(max == 128);
  REQUIRE(rx.max_message_length() == max);
  std::vector<std::byte> buf(max);
  std::uint64_t seq = 0;
  bool wrapped_with_padding = false;
  for (int round = 0; round < 5; ++round) {
    for (std::size_t len = 0; len <= max; ++len) {
      std::vector<std::byte> m(len);
      for (std::size_t i = 0; i < len; ++i)
        m[i] = static_cast<std::byte>((len * 13 + i + static_cast<std::size_t>(round)) & 0xff);
      const std::uint64_t before = rx.position();
      const std::uint64_t to_end = capacity - (before & (capacity - 1));
      tx.transmit(static_cast<std::int32_t>(len + 1), m);
      ++seq;
      auto r = rx.receive_next(buf);
      REQUIRE(r.status == ReceiveStatus::Message);
      CHECK(r.sequence == seq);
      CHECK(r.type == static_cast<std::int32_t>(len + 1));
      REQUIRE(r.payload.size() == len);
      CHECK((len == 0 || std::memcmp(r.payload.data(), m.data(), len) == 0));
      CHECK(r.payload.data() == buf.data());
      const std::uint64_t record = (16 + len + 7) / 8 * 8;
      if (to_end < record) {
        wrapped_with_padding = true;
        CHECK(rx.position() == before + to_end + record);
      } else {
        CHECK(rx.position() == before + record);
      }
    }
  }
  CHECK(wrapped_with_padding);
  CHECK(rx.stats().lapped == 0);
  CHECK(tx.stats().bytes == 5 * (max * (max + 1) / 2));
  std::vector<std::byte> too_long(max + 1);
  CHECK_THROWS_WITH(tx.transmit(1, too_long),
                    "hft::BroadcastTransmitter: length must be <= max_message_length() = 128, got 129");
  CHECK_THROWS_WITH(tx.transmit(0, std::span<const std::byte>()), "hft::BroadcastTransmitter: type must be > 0, got 0");
  CHECK_THROWS_AS(tx.transmit(-1, std::span<const std::byte>()), std::invalid_argument);
  std::vector<std::byte> small(max - 1);
  CHECK_THROWS_AS(rx.receive_next(small), std::invalid_argument);
  CHECK(rx.receive_next().status == ReceiveStatus::Empty);  // refused transmits published nothing
}

// Found by the ipc_region fuzz target: after a corrupt record the reader resynchronised to
// `latest` even when it was behind its cursor, so a ring holding message 1 and then garbage
// delivered message 1, Corrupt, message 1, ... forever: a sequence that went backwards.
TEST_CASE("broadcast ring: a corrupt record after the latest message never sends the reader back") {
  const std::uint64_t capacity = 512;
  HeapArea area(capacity);
  using L = hft::ipc::detail::BroadcastLayout;
  {
    BroadcastTransmitter tx(area.span(), capacity);
    transmit_range(tx, 1, 1);  // message 1 at position 0: latest = 0
  }
  BroadcastReceiver reader(area.span(), capacity);
  auto* words = reinterpret_cast<std::uint64_t*>(area.p);
  const std::uint64_t tail = words[(capacity + L::kTail) / 8];
  words[tail / 8] = L::pack(0xFFFFFFFFu, 1);  // a record no writer makes, after message 1
  words[(capacity + L::kTail) / 8] = tail + 64;
  words[(capacity + L::kTailIntent) / 8] = tail + 64;
  std::uint64_t delivered_1 = 0, corrupt = 0;
  for (int i = 0; i < 10; ++i) {
    const auto r = reader.receive_next();
    if (r.status == ReceiveStatus::Message) {
      CHECK(r.sequence == 1);
      ++delivered_1;
    }
    corrupt += r.status == ReceiveStatus::Corrupt;
  }
  CHECK(delivered_1 == 1);  // once, never again
  CHECK(corrupt == 1);      // then the reader skipped to the tail: nothing more
}

TEST_CASE("broadcast ring: a hostile region never makes a reader read out of bounds") {
  const std::uint64_t capacity = 512;
  HeapArea area(capacity);
  const auto seed = std::random_device{}();
  std::cout << "broadcast ring hostile region: seed " << seed << std::endl;
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  using L = hft::ipc::detail::BroadcastLayout;
  auto word = [&](std::uint64_t off) -> std::uint64_t* { return reinterpret_cast<std::uint64_t*>(area.p + off); };
  auto wild = [&]() -> std::uint64_t {
    switch (rng() % 6) {
      case 0:
        return rng();
      case 1:
        return rng() % (4 * capacity);  // plausible positions
      case 2:
        return rng() % (4 * capacity) & ~std::uint64_t{7};
      case 3:
        return L::pack(static_cast<std::uint32_t>(rng() % (2 * capacity)), static_cast<std::int32_t>(rng() % 5) - 1);
      case 4:
        return L::pack(static_cast<std::uint32_t>(rng()), static_cast<std::int32_t>(rng()));
      default:
        return 0;
    }
  };
  std::uint64_t messages = 0, laps = 0, corrupt = 0;
  const int rounds = static_cast<int>(hft::test::scaled(20'000) + 500);
  for (int round = 0; round < rounds; ++round) {
    std::memset(area.p, 0, area.size);
    {
      BroadcastTransmitter tx(area.span(), capacity);
      transmit_range(tx, 1, 1 + rng() % 40);
    }
    BroadcastReceiver old_reader(area.span(), capacity);  // joined before the damage
    const int damage = 1 + static_cast<int>(rng() % 8);
    for (int d = 0; d < damage; ++d) {
      const auto what = rng() % 4;
      if (what == 0) {
        *word(capacity + 8 * (rng() % 4)) = wild();  // tail intent, tail, latest, oldest
      } else if (what == 3 && round % 16 == 0) {
        for (std::size_t i = 0; i < area.size; ++i) area.p[i] = static_cast<std::byte>(rng());
      } else {
        *word(8 * (rng() % (capacity / 8))) = wild();  // a record word
      }
    }
    BroadcastReceiver new_reader(area.span(), capacity);  // joins the damaged ring
    std::vector<std::byte> buf(new_reader.max_message_length());
    for (int i = 0; i < 24; ++i) {
      for (BroadcastReceiver* rx : {&old_reader, &new_reader}) {
        const auto r = (i % 2 == 0) ? rx->receive_next() : rx->receive_next(buf);
        switch (r.status) {
          case ReceiveStatus::Message:
            ++messages;
            REQUIRE(r.payload.size() <= rx->max_message_length());
            REQUIRE(r.type > 0);
            break;
          case ReceiveStatus::Lapped:
            ++laps;
            break;
          case ReceiveStatus::Corrupt:
            ++corrupt;
            break;
          case ReceiveStatus::Empty:
            break;
        }
      }
    }
    // A writer attaching to the damaged ring either refuses or recovers; readers stay in bounds.
    try {
      BroadcastTransmitter tx(area.span(), capacity);
      transmit_range(tx, 1, 3);
      for (int i = 0; i < 8; ++i) (void)new_reader.receive_next();
    } catch (const std::runtime_error& e) {
      CHECK(std::string(e.what()).rfind("hft::BroadcastTransmitter: ", 0) == 0);
    }
  }
  std::cout << "  messages " << messages << " laps " << laps << " corrupt " << corrupt << "\n";
  CHECK(messages + laps + corrupt > 0);
}

TEST_CASE("broadcast ring: a layout mismatch at open is refused with the field named") {
  hft::test::ShmName rn("bcast");
  BroadcastTransmitter tx(
      SharedRegion::create(rn.str(), hft::ipc::broadcast_ring_layout(2048, hft::ipc::type_tag("md/v1"))));
  auto open_with = [&](const hft::ipc::RegionLayout& l) -> std::string {
    try {
      BroadcastReceiver rx(SharedRegion::open(rn.str(), l));
    } catch (const std::exception& e) {
      return e.what();
    }
    return "accepted";
  };
  const std::string tag = open_with(hft::ipc::broadcast_ring_layout(2048, hft::ipc::type_tag("md/v2")));
  CHECK(tag.find("type_tag") != std::string::npos);
  const std::string cap = open_with(hft::ipc::broadcast_ring_layout(1024, hft::ipc::type_tag("md/v1")));
  CHECK(cap.find("capacity") != std::string::npos);
  auto spsc = hft::ipc::broadcast_ring_layout(2048, hft::ipc::type_tag("md/v1"));
  spsc.kind = hft::ipc::ChannelKind::SpscQueue;
  const std::string kind = open_with(spsc);
  CHECK(kind.find("kind") != std::string::npos);
  CHECK(open_with(hft::ipc::broadcast_ring_layout(2048, hft::ipc::type_tag("md/v1"))) == "accepted");
  CHECK_THROWS_WITH(hft::ipc::broadcast_ring_layout(1000),
                    "hft::broadcast_ring_layout: capacity must be a power of two in [64, 2^31], got 1000");
  HeapArea area(1024);
  CHECK_THROWS_AS(BroadcastReceiver(area.span().first(area.size - 8), 1024), std::invalid_argument);
}

TEST_CASE("broadcast ring: one live transmitter per ring, and a restarted writer recovers a half-written record") {
  const std::uint64_t capacity = 1024;
  HeapArea area(capacity);
  BroadcastReceiver rx(area.span(), capacity);
  Verifier v;
  {
    BroadcastTransmitter tx(area.span(), capacity);
    CHECK_THROWS_WITH(BroadcastTransmitter(area.span(), capacity),
                      Catch::Matchers::StartsWith("hft::BroadcastTransmitter: owner: a transmitter is alive"));
    transmit_range(tx, 1, 37);  // wraps: 37 messages of up to 128 bytes in 1024
    v = read_until(rx, 37);
    REQUIRE(v.error.empty());
    CHECK(v.last == 37);  // laps on the way: the ring holds about 8 of these
  }
  // A writer killed mid-record, across the wrap: its intent is past the tail and its bytes are half there.
  using L = hft::ipc::detail::BroadcastLayout;
  auto word = [&](std::uint64_t off) -> std::uint64_t& { return *reinterpret_cast<std::uint64_t*>(area.p + off); };
  const std::uint64_t tail = word(capacity + L::kTail);
  const std::uint64_t to_end = capacity - (tail & (capacity - 1));
  REQUIRE(to_end + 96 <= capacity);  // 37 messages leave the tail mid-ring
  const std::uint64_t dead_intent = tail + to_end + 96;
  word(capacity + L::kTailIntent) = dead_intent;
  word(tail & (capacity - 1)) = L::pack(4000, 9);                // garbage where the dead record began
  word(capacity + L::kOwner) = std::uint64_t{0x7ffffff0} << 32;  // a pid that does not exist
  CHECK(rx.receive_next().status == ReceiveStatus::Empty);       // tail unchanged: nothing delivered
  BroadcastTransmitter restarted(area.span(), capacity);
  CHECK(restarted.next_sequence() == 38);
  CHECK(word(capacity + L::kTail) == dead_intent);
  CHECK(rx.receive_next().status == ReceiveStatus::Empty);  // only padding in between
  const std::uint64_t laps_before = v.laps;
  transmit_range(restarted, 38, 41);
  for (int i = 0; i < 20 && v.last < 41; ++i) REQUIRE(v.on(rx.receive_next()));
  CHECK(v.error.empty());
  CHECK(v.last == 41);
  CHECK(v.laps == laps_before);
}

TEST_CASE("broadcast ring: wait_for_data sleeps until the writer publishes or the timeout passes") {
  hft::test::ShmName rn("bcast");
  const std::uint64_t capacity = 4096;
  BroadcastTransmitter tx(SharedRegion::create(rn.str(), hft::ipc::broadcast_ring_layout(capacity)));
  BroadcastReceiver rx(SharedRegion::open(rn.str(), hft::ipc::broadcast_ring_layout(capacity)));
  CHECK_FALSE(rx.wait_for_data(5ms));
  CHECK_FALSE(rx.has_data());
  std::atomic<bool> woke{false};
  std::thread t([&] { woke = rx.wait_for_data(20s); });
  std::this_thread::sleep_for(10ms);
  transmit_range(tx, 1, 1);
  t.join();
  CHECK(woke.load());
  Verifier v;
  REQUIRE(v.on(rx.receive_next()));
  CHECK(v.last == 1);
  CHECK(rx.writer_alive());
}
