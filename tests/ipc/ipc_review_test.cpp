// Findings of the adversarial review of hft/ipc (2026-12-07): each "review:" case failed on
// the code before its fix (broadcast restart after a kill between the latest and tail stores,
// a live process whose main thread exited, a dead sleeping consumer's waiter count, open
// racing create, a forked child releasing its parent's role, duration::max() waits,
// try_push_n with a throwing iterator); "review (verified):" cases pin behaviour the review
// found correct. Not fixed, documented: a reader killed asleep costs the writer a FUTEX_WAKE
// per transmit. (A lapped broadcast reader now resumes at the oldest message still present,
// broadcast_ring_test.cpp; ResyncTo::Latest keeps agrona's rule.)
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <memory>
#include <new>
#include <ranges>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "../support/catch.hpp"
#include "hft/ipc/broadcast_ring.hpp"
#include "hft/ipc/ipc_spsc_queue.hpp"
#include "hft/ipc/shared_region.hpp"
#include "ipc_test_support.hpp"

using namespace std::chrono_literals;
using hft::ipc::BroadcastReceiver;
using hft::ipc::BroadcastReceiveResult;
using hft::ipc::BroadcastTransmitter;
using hft::ipc::ReceiveStatus;
using hft::ipc::SharedRegion;
using hft::test::HeapArea;
using Q = hft::ipc::IpcSpscQueue<std::uint64_t>;

namespace {

constexpr hft::ipc::TypeTag kTag = hft::ipc::type_tag("review/u64");

std::string proc_state(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string s;
  std::getline(f, s);
  const auto close = s.rfind(')');
  return close == std::string::npos ? "?" : s.substr(close + 2, 1);
}

}  // namespace

// F1: the restart rule refuses a ring whose writer died between `latest <- start` and `tail <- end`.
TEST_CASE("review: a writer killed between its latest and tail stores can be restarted, numbering gap-free",
          "[ipc][review][broadcast]") {
  using L = hft::ipc::detail::BroadcastLayout;
  const std::uint64_t capacity = 1024;
  HeapArea area(capacity);
  auto word = [&](std::uint64_t off) -> std::uint64_t& { return *reinterpret_cast<std::uint64_t*>(area.p + off); };
  BroadcastReceiver rx(area.span(), capacity);
  const std::byte payload[8] = {};
  std::uint64_t tail_before_third = 0;
  {
    BroadcastTransmitter tx(area.span(), capacity);
    tx.transmit(1, payload, sizeof payload);  // seq 1
    tx.transmit(1, payload, sizeof payload);  // seq 2
    tail_before_third = word(capacity + L::kTail);
    tx.transmit(1, payload, sizeof payload);  // seq 3: every word, then latest, then tail
  }
  // The writer was SIGKILLed after `latest.store(start)` and before `tail.store(end)`.
  word(capacity + L::kTail) = tail_before_third;
  word(capacity + L::kOwner) = std::uint64_t{0x7ffffff0} << 32;  // a pid that does not exist
  REQUIRE(rx.receive_next().sequence == 1);
  REQUIRE(rx.receive_next().sequence == 2);
  REQUIRE(rx.receive_next().status == ReceiveStatus::Empty);

  std::unique_ptr<BroadcastTransmitter> restarted;
  REQUIRE_NOTHROW(restarted = std::make_unique<BroadcastTransmitter>(area.span(), capacity));
  restarted->transmit(1, payload, sizeof payload);
  BroadcastReceiveResult r;
  for (int i = 0; i < 4 && r.status != ReceiveStatus::Message; ++i) {
    r = rx.receive_next();
    CHECK(r.status != ReceiveStatus::Corrupt);
  }
  CHECK(r.status == ReceiveStatus::Message);
  CHECK(r.sequence == 3);  // message 3 was never published: its number is reused, no gap
}

// F2: ProcessIdentity::alive() reads only the thread-group leader's state: a live process whose
// main thread has exited shows 'Z' and is declared dead, so its role is taken over.
TEST_CASE("review: a live producer whose main thread exited is alive and its role is not taken over",
          "[ipc][review][spsc][roles]") {
  hft::test::ShmName name("rv_leader");
  auto q = Q::create(name, 16, kTag);
  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  const pid_t child = ::fork();
  if (child == 0) {
    std::thread([&name, ready] {
      auto q2 = Q::open(name, 16, kTag);
      auto p = q2.producer();
      (void)!::write(ready[1], "x", 1);
      for (std::uint64_t i = 0;; ++i) {
        (void)p.try_push(i);
        std::this_thread::sleep_for(1ms);
      }
    }).detach();
    ::syscall(SYS_exit, 0);  // this thread only (pthread_exit without unwinding): the process lives on
  }
  char c = 0;
  REQUIRE(::read(ready[0], &c, 1) == 1);
  std::this_thread::sleep_for(100ms);
  INFO("leader state in /proc/" << child << "/stat: " << proc_state(child));
  CHECK(::kill(child, 0) == 0);  // the process exists and its producer thread keeps pushing
  CHECK(q.producer_alive());
  bool took_over = false;
  try {
    auto stolen = q.producer();  // a second producer next to a live one: two writers on one SPSC ring
    took_over = true;
  } catch (const std::runtime_error&) {
  }
  CHECK_FALSE(took_over);
  ::kill(child, SIGKILL);
  (void)hft::test::wait_child(child);
  ::close(ready[0]);
  ::close(ready[1]);
}

// F3: a consumer killed while asleep in wait_for_data leaves `waiters` at 1 forever: every later
// publish pays a FUTEX_WAKE syscall, also after a new consumer took the role over.
TEST_CASE("review: a consumer killed asleep does not make every later push a syscall", "[ipc][review][spsc][wait]") {
  hft::test::ShmName name("rv_waiter");
  auto q = Q::create(name, 64, kTag);
  auto p = q.producer();
  const pid_t child = hft::test::fork_child([&] {
    auto c = q.consumer();
    (void)c.wait_for_data(30s);
    return 0;
  });
  auto& waiters = reinterpret_cast<hft::ipc::detail::SpscControl*>(q.region().channel())->data.waiters;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (std::atomic_ref<std::uint32_t>(waiters).load() == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(1ms);
  REQUIRE(std::atomic_ref<std::uint32_t>(waiters).load() == 1);
  std::this_thread::sleep_for(20ms);
  ::kill(child, SIGKILL);
  REQUIRE(hft::test::wait_child(child) == -SIGKILL);
  auto c = q.consumer();  // takeover of the dead consumer's role
  const auto before = q.stats().futex_wakes;
  for (std::uint64_t i = 0; i < 100; ++i) {
    REQUIRE(p.try_push(i));
    std::uint64_t out = 0;
    REQUIRE(c.try_pop(out));
  }
  INFO("waiters left in the region: " << std::atomic_ref<std::uint32_t>(waiters).load());
  CHECK(q.stats().futex_wakes - before == 0);
}

// F4: open() of a region whose creator is between shm_open(O_EXCL) and ftruncate throws at once
// ("the object's size ... 0") instead of waiting open_timeout for mark_ready as documented.
TEST_CASE("review: open waits for a creator that has not yet sized the object", "[ipc][review][region]") {
  hft::test::ShmName name("rv_race");
  hft::test::ShmName ref("rv_ref");
  const hft::ipc::RegionLayout layout = Q::layout(16, kTag);
  const int fd = ::shm_open(("/" + name.str()).c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
  REQUIRE(fd >= 0);
  std::thread creator([&] {
    std::this_thread::sleep_for(200ms);
    // What create() + mark_ready() leave, copied from a region made by create() itself.
    SharedRegion r = SharedRegion::create(ref, layout);
    r.mark_ready();
    std::vector<char> bytes(r.mapped_bytes());
    std::memcpy(bytes.data(), r.channel() - SharedRegion::kHeaderBytes, bytes.size());
    constexpr std::size_t kReadyOffset = 128;
    std::uint32_t ready = 0;
    std::memcpy(&ready, bytes.data() + kReadyOffset, 4);
    std::memset(bytes.data() + kReadyOffset, 0, 4);
    (void)!::ftruncate(fd, static_cast<off_t>(bytes.size()));
    (void)!::pwrite(fd, bytes.data(), bytes.size(), 0);
    (void)!::pwrite(fd, &ready, 4, kReadyOffset);
  });
  std::string error;
  try {
    (void)SharedRegion::open(name, layout, {.open_timeout = 3000ms});
  } catch (const std::exception& e) {
    error = e.what();
  }
  creator.join();
  ::close(fd);
  CHECK(error.empty());
  INFO(error);
  CHECK(error.find("total_bytes") == std::string::npos);
}

// F5: a fork()ed child that destroys its copy of a handle gives the PARENT's role back: the
// release CAS compares the owner word with the parent's identity, which the child inherited.
TEST_CASE("review: a forked child's handle copy does not release its parent's role", "[ipc][review][roles]") {
  SECTION("IpcSpscQueue producer") {
    hft::test::ShmName name("rv_fork_q");
    auto q = Q::create(name, 16, kTag);
    auto p = q.producer();
    const pid_t child = hft::test::fork_child([&] {
      { Q::Producer gone = std::move(p); }  // e.g. the child leaves the scope that held the handle
      return 0;
    });
    REQUIRE(hft::test::wait_child(child) == 0);
    CHECK(q.producer_identity().pid == ::getpid());
    bool second = false;
    try {
      auto another = q.producer();
      second = true;
    } catch (const std::runtime_error&) {
    }
    CHECK_FALSE(second);
  }
  SECTION("BroadcastTransmitter") {
    hft::test::ShmName name("rv_fork_b");
    const auto layout = hft::ipc::broadcast_ring_layout(1024);
    auto tx = std::make_unique<BroadcastTransmitter>(SharedRegion::create(name, layout));
    const pid_t child = hft::test::fork_child([&] {
      tx.reset();
      return 0;
    });
    REQUIRE(hft::test::wait_child(child) == 0);
    bool second = false;
    try {
      BroadcastTransmitter another(SharedRegion::open(name, layout));
      second = true;
    } catch (const std::runtime_error&) {
    }
    CHECK_FALSE(second);
  }
}

// F7: shared_wait::wait computes `now + timeout` unchecked: nanoseconds::max() ("wait forever",
// which push_for() accepts) overflows (signed: UB) and returns false at once.
TEST_CASE("review: wait_for_data(nanoseconds::max()) waits for the item", "[ipc][review][spsc][wait]") {
  hft::test::ShmName name("rv_forever");
  auto q = Q::create(name, 16, kTag);
  auto p = q.producer();
  auto c = q.consumer();
  std::thread producer([&] {
    std::this_thread::sleep_for(100ms);
    (void)p.try_push(7);
  });
  const auto t0 = std::chrono::steady_clock::now();
  const bool ok = c.wait_for_data(std::chrono::nanoseconds::max());
  const auto waited = std::chrono::steady_clock::now() - t0;
  producer.join();
  INFO("waited " << std::chrono::duration_cast<std::chrono::microseconds>(waited).count() << " us");
  CHECK(ok);
}

// F8: try_push_n stores each item's seq as it goes but publishes (tail_ += n) only at the end: an
// iterator that throws mid-batch leaves items visible to the consumer that the producer does not
// count. The next pushes reuse their positions: those items are silently lost.
TEST_CASE("review: try_push_n whose iterator throws mid-batch loses nothing", "[ipc][review][spsc]") {
  hft::test::ShmName name("rv_throw");
  auto q = Q::create(name, 8, kTag);
  auto p = q.producer();
  auto c = q.consumer();
  // An input iterator over 10, 11, 12, 13 whose dereference throws at 12 (a failing source).
  struct Source {
    using value_type = std::uint64_t;
    using difference_type = std::ptrdiff_t;
    std::uint64_t v = 0;
    std::uint64_t operator*() const {
      if (v == 12) throw std::runtime_error("source failed");
      return v;
    }
    Source& operator++() {
      ++v;
      return *this;
    }
    void operator++(int) { ++v; }
    bool operator==(const Source&) const = default;
    difference_type operator-(const Source& o) const { return static_cast<difference_type>(v - o.v); }
  };
  static_assert(std::input_iterator<Source> && std::sized_sentinel_for<Source, Source>);
  CHECK_THROWS_AS((void)p.try_push_n(Source{10}, Source{14}), std::runtime_error);
  std::vector<std::uint64_t> got;
  auto drain = [&] {
    while (c.consume([&](std::uint64_t& v) { got.push_back(v); }) != 0) {
    }
  };
  drain();
  for (std::uint64_t v = 20; v < 40; ++v) {
    if (!p.try_push(v)) break;
    drain();
  }
  INFO("received " << got.size() << " items; first after the throw: " << (got.size() > 2 ? got[2] : 0));
  REQUIRE(got.size() >= 2);
  CHECK(got[0] == 10);
  CHECK(got[1] == 11);
  REQUIRE(got.size() == 22);  // 10, 11, then every one of 20 .. 39
  CHECK(got[2] == 20);
  CHECK(got.back() == 39);
}

// Verified correct (passes): a consumer killed inside consume() loses nothing; its batch comes again, in order.
TEST_CASE("review (verified): a consumer killed mid-batch: at-least-once, in order", "[ipc][review][verified]") {
  hft::test::ShmName name("rv_midbatch");
  auto q = Q::create(name, 8, kTag);
  auto p = q.producer();
  for (std::uint64_t v = 0; v < 5; ++v) REQUIRE(p.try_push(v));
  const pid_t child = hft::test::fork_child([&] {
    auto c = q.consumer();
    int seen = 0;
    (void)c.consume([&](std::uint64_t&) {
      if (++seen == 3) ::kill(::getpid(), SIGKILL);
    });
    return 0;
  });
  REQUIRE(hft::test::wait_child(child) == -SIGKILL);
  auto c = q.consumer();
  std::vector<std::uint64_t> got;
  (void)c.consume([&](std::uint64_t& v) { got.push_back(v); });
  CHECK(got == std::vector<std::uint64_t>{0, 1, 2, 3, 4});
}

// Verified correct (passes): a producer killed mid-batch after some seq stores, before its tail
// store: the consumer gets the prefix, a new producer resumes after it.
TEST_CASE("review (verified): a producer killed mid-batch, then a new producer", "[ipc][review][verified]") {
  hft::test::ShmName name("rv_pbatch");
  auto q = Q::create(name, 8, kTag);
  auto c = q.consumer();
  const pid_t child = hft::test::fork_child([&] {
    auto p = q.producer();
    const std::uint64_t items[5] = {0, 1, 2, 3, 4};
    (void)p.try_push_n(items, items + 5);
    // Undo the tail store: the process "died" after the 5 seq stores.
    std::atomic_ref<std::uint64_t>(reinterpret_cast<hft::ipc::detail::SpscControl*>(q.region().channel())->tail)
        .store(0);
    ::kill(::getpid(), SIGKILL);
    return 0;
  });
  REQUIRE(hft::test::wait_child(child) == -SIGKILL);
  auto p = q.producer();
  REQUIRE(p.try_push(5));
  std::vector<std::uint64_t> got;
  (void)c.consume([&](std::uint64_t& v) { got.push_back(v); });
  CHECK(got == std::vector<std::uint64_t>{0, 1, 2, 3, 4, 5});
}
