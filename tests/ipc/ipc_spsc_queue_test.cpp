// hft/ipc/ipc_spsc_queue.hpp: every element exactly once and in order between two threads
// (TSan) and between two processes; a producer killed at random points never wedges the
// consumer, which receives a prefix; a consumer killed under a blocked producer is reported
// as PeerDead; roles are exclusive and a dead holder's role is taken over; layout mismatch
// at open names the field; hostile region contents never make a reader crash or read out
// of bounds (ASan); and the futex wait: woken across processes, timeouts, no syscall when
// nobody waits.
#include "hft/ipc/ipc_spsc_queue.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "../support/catch.hpp"
#include "../support/scale.hpp"
#include "ipc_test_support.hpp"

using hft::ipc::IpcSpscQueue;
using hft::test::ShmName;
using namespace std::chrono_literals;

namespace {

struct Msg {
  std::uint64_t seq;
  std::uint64_t check;
};
constexpr Msg make(std::uint64_t i) { return {i, i * 0x9E3779B97F4A7C15ull ^ 0xABCDEFull}; }
constexpr bool valid(const Msg& m, std::uint64_t want) { return m.seq == want && m.check == make(want).check; }

const hft::ipc::TypeTag kTag = hft::ipc::type_tag("ipc_spsc_queue_test::Msg");
using Queue = IpcSpscQueue<Msg>;

// A pipe for one byte of "go" between parent and child; both ends closed at scope exit.
struct Pipe {
  int fd[2] = {-1, -1};
  Pipe() { REQUIRE(::pipe(fd) == 0); }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  ~Pipe() {
    ::close(fd[0]);
    ::close(fd[1]);
  }
  void send() const { (void)!::write(fd[1], "x", 1); }
  bool receive() const {
    char c = 0;
    return ::read(fd[0], &c, 1) == 1;
  }
};

hft::ipc::detail::SpscControl& control(const Queue& q) {
  return *reinterpret_cast<hft::ipc::detail::SpscControl*>(q.region().channel());
}

// Pushes [from, from + n) with a mix of the push forms.
void produce(Queue::Producer& p, std::uint64_t from, std::uint64_t n, std::mt19937_64& rng) {
  std::vector<Msg> batch;
  for (std::uint64_t i = from; i < from + n;) {
    switch (rng() % 4) {
      case 0:
        if (p.try_push(make(i))) ++i;
        break;
      case 1: {
        batch.clear();
        const std::uint64_t k = std::min<std::uint64_t>(1 + rng() % 9, from + n - i);
        for (std::uint64_t j = 0; j < k; ++j) batch.push_back(make(i + j));
        i += p.try_push_n(batch.begin(), batch.end());
        break;
      }
      default:
        p.push(make(i++));
    }
  }
}

// Pops n items with a mix of the pop forms; returns the first bad position, or n.
std::uint64_t consume_in_order(Queue::Consumer& c, std::uint64_t from, std::uint64_t n, std::mt19937_64& rng) {
  std::uint64_t next = from;
  bool bad = false;
  while (next < from + n && !bad) {
    switch (rng() % 16) {  // pop_wait rarely: a sleep costs a membarrier and the producer a FUTEX_WAKE
      case 0:
      case 1:
      case 2:
      case 3: {
        Msg m{};
        if (c.try_pop(m)) bad = !valid(m, next++);
        break;
      }
      case 4:
      case 5:
      case 6:
      case 7:
        if (auto m = c.try_pop()) bad = !valid(*m, next++);
        break;
      case 15: {
        Msg m{};
        if (c.pop_wait(m, 1ms)) bad = !valid(m, next++);
        break;
      }
      default:
        (void)c.consume([&](Msg& m) { bad = bad || !valid(m, next++); }, 1 + rng() % 16);
    }
  }
  return bad ? next - 1 : next;
}

}  // namespace

TEST_CASE("IpcSpscQueue: capacity is checked and honoured exactly", "[ipc][spsc]") {
  ShmName name("spsc_cap");
  CHECK_THROWS_WITH(Queue::create(name, 0, kTag), "hft::IpcSpscQueue: capacity must be >= 1, got 0");
  CHECK_THROWS_AS(Queue::create(name, Queue::max_capacity() + 1, kTag), std::length_error);
  for (const std::size_t cap : {1u, 3u, 5u, 8u}) {
    ShmName n("spsc_cap");
    auto q = Queue::create(n, cap, kTag);
    CHECK(q.capacity() == cap);
    auto p = q.producer();
    auto c = q.consumer();
    for (std::size_t i = 0; i < cap; ++i) REQUIRE(p.try_push(make(i)));
    CHECK_FALSE(p.try_push(make(cap)));
    CHECK(q.size() == cap);
    CHECK(p.push_for(make(cap), 0ns) == Queue::PushResult::TimedOut);
    Msg m{};
    REQUIRE(c.try_pop(m));
    CHECK(valid(m, 0));
    CHECK(p.try_push(make(cap)));
    CHECK(q.size() == cap);
  }
}

TEST_CASE("IpcSpscQueue: batch operations and wrap-around in one thread", "[ipc][spsc]") {
  ShmName name("spsc_batch");
  auto q = Queue::create(name, 5, kTag);
  auto p = q.producer();
  auto c = q.consumer();
  std::vector<Msg> batch;
  for (std::uint64_t i = 0; i < 7; ++i) batch.push_back(make(i));
  CHECK(p.try_push_n(batch.begin(), batch.end()) == 5);  // 0..4, no room for 5 and 6
  CHECK(p.try_push_n(batch.begin() + 5, batch.end()) == 0);
  std::uint64_t next = 0;
  CHECK(c.consume([&](Msg& m) { CHECK(valid(m, next++)); }, 2) == 2);
  CHECK(p.try_push_n(batch.begin() + 5, batch.end()) == 2);
  CHECK(q.size() == 5);
  // Many laps of the 8-slot ring with batches of every size.
  std::uint64_t pushed = 7;
  for (int round = 0; round < 500; ++round) {
    batch.clear();
    const auto k = static_cast<std::uint64_t>(1 + round % 5);
    for (std::uint64_t j = 0; j < k; ++j) batch.push_back(make(pushed + j));
    const std::size_t done = p.try_push_n(batch.begin(), batch.end());
    pushed += done;
    const std::size_t taken =
        c.consume([&](Msg& m) { CHECK(valid(m, next++)); }, 1 + static_cast<std::size_t>(round % 4));
    CHECK(taken >= 1);
  }
  const std::uint64_t left = pushed - next;
  CHECK(c.consume([&](Msg& m) { CHECK(valid(m, next++)); }) == left);
  CHECK(next == pushed);
  CHECK(q.empty());
  CHECK_FALSE(c.try_pop().has_value());
}

TEST_CASE("IpcSpscQueue: two threads see every element exactly once and in order", "[ipc][spsc][threads]") {
  const std::uint64_t n = hft::test::scaled(200'000);
  for (const std::size_t cap : {1u, 3u, 7u, 64u, 1000u}) {
    CAPTURE(cap);
    ShmName name("spsc_threads");
    auto q = Queue::create(name, cap, kTag);
    auto p = q.producer();
    auto c = q.consumer();
    std::uint64_t got = 0;
    std::thread consumer([&] {
      std::mt19937_64 rng(cap * 7 + 1);
      got = consume_in_order(c, 0, n, rng);
    });
    std::mt19937_64 rng(cap);
    produce(p, 0, n, rng);
    consumer.join();
    CHECK(got == n);
    CHECK(q.empty());
  }
}

TEST_CASE("IpcSpscQueue: roles are exclusive while their holder lives", "[ipc][spsc][roles]") {
  ShmName name("spsc_roles");
  auto q = Queue::create(name, 4, kTag);
  auto other = Queue::open(name, 4, kTag);
  {
    auto p = q.producer();
    CHECK(q.producer_alive());
    CHECK(q.producer_identity().pid == ::getpid());
    CHECK_FALSE(q.consumer_alive());
    CHECK_THROWS_WITH(other.producer(),
                      Catch::Contains("producer: held by live process pid " + std::to_string(::getpid())));
    auto c = other.consumer();  // the other role is free, even in the same process
    CHECK_THROWS_WITH(q.consumer(), Catch::Contains("consumer: held by live process pid"));
    REQUIRE(p.try_push(make(1)));
    Msg m{};
    REQUIRE(c.try_pop(m));  // through two mappings of one region
    CHECK(valid(m, 1));
  }
  CHECK_FALSE(q.producer_alive());  // given back by the handles' destructors
  auto p = other.producer();
  auto c = q.consumer();
  CHECK(q.stats().takeovers == 0);
}

TEST_CASE("IpcSpscQueue: a dead holder's role is taken over", "[ipc][spsc][roles]") {
  ShmName name("spsc_takeover");
  auto q = Queue::create(name, 4, kTag);
  // The child attaches both roles and dies without giving them back (_exit runs no destructors).
  const pid_t child = hft::test::fork_child([&] {
    auto p = q.producer();
    auto c = q.consumer();
    if (!p.try_push(make(0)) || !p.try_push(make(1))) return 1;
    Msg m{};
    if (!c.try_pop(m)) return 2;
    ::_exit(0);
  });
  REQUIRE(hft::test::wait_child(child) == 0);
  CHECK(q.producer_identity().pid == child);
  CHECK_FALSE(q.producer_alive());
  CHECK_FALSE(q.consumer_alive());
  auto p = q.producer();
  auto c = q.consumer();
  CHECK(q.stats().takeovers == 2);
  REQUIRE(p.try_push(make(2)));
  std::uint64_t next = 1;
  CHECK(c.consume([&](Msg& m) { CHECK(valid(m, next++)); }) == 2);
}

TEST_CASE("IpcSpscQueue: across processes every element arrives exactly once and in order", "[ipc][spsc][fork]") {
  const std::uint64_t n = hft::test::scaled(200'000);
  for (const bool child_produces : {true, false}) {
    CAPTURE(child_produces);
    ShmName name("spsc_fork");
    auto q = Queue::create(name, 100, kTag);
    const pid_t child = hft::test::fork_child([&] {
      auto peer = Queue::open(name, 100, kTag);
      std::mt19937_64 rng(11);
      if (child_produces) {
        auto p = peer.producer();
        produce(p, 0, n, rng);
        return 0;
      }
      auto c = peer.consumer();
      return consume_in_order(c, 0, n, rng) == n ? 0 : 3;
    });
    std::mt19937_64 rng(12);
    if (child_produces) {
      auto c = q.consumer();
      CHECK(consume_in_order(c, 0, n, rng) == n);
    } else {
      auto p = q.producer();
      produce(p, 0, n, rng);
    }
    CHECK(hft::test::wait_child(child) == 0);
    CHECK(q.empty());
  }
}

TEST_CASE("IpcSpscQueue: a producer killed at random points leaves the consumer a prefix, never wedged",
          "[ipc][spsc][fork][kill]") {
  const auto seed = static_cast<std::uint64_t>(std::random_device{}()) ^ static_cast<std::uint64_t>(::getpid());
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  const auto start = std::chrono::steady_clock::now();
  int iterations = 0;
  for (; iterations < 150 && std::chrono::steady_clock::now() - start < 7s; ++iterations) {
    CAPTURE(iterations);
    ShmName name("spsc_kill");
    const std::size_t cap = 1 + rng() % 64;
    auto q = Queue::create(name, cap, kTag);
    auto c = q.consumer();
    Pipe ready;
    const pid_t child = hft::test::fork_child([&] {
      auto p = q.producer();
      ready.send();
      for (std::uint64_t i = 0;; ++i) p.push(make(i));
      return 0;
    });
    REQUIRE(ready.receive());
    std::uint64_t next = 0;
    bool bad = false;
    // Consume for a random while (sometimes not at all, so the producer blocks on a full
    // queue), then kill -9 wherever the producer is.
    const auto kill_at = std::chrono::steady_clock::now() + std::chrono::microseconds(rng() % 2000);
    const bool consume_before = rng() % 4 != 0;
    while (std::chrono::steady_clock::now() < kill_at) {
      if (consume_before) (void)c.consume([&](Msg& m) { bad = bad || !valid(m, next++); }, 1 + rng() % 32);
    }
    REQUIRE(::kill(child, SIGKILL) == 0);
    CHECK(hft::test::wait_child(child) == -SIGKILL);
    CHECK_FALSE(q.producer_alive());
    // Everything published before the kill is there, in order; nothing after it.
    while (c.consume([&](Msg& m) { bad = bad || !valid(m, next++); }) != 0) {
    }
    CHECK_FALSE(bad);
    CHECK_FALSE(c.wait_for_data(100us));
    CHECK(q.size() == 0);
    // A new producer resumes after the last published item.
    auto p = q.producer();
    CHECK(q.stats().takeovers == 1);
    REQUIRE(p.try_push(make(next)));
    Msg m{};
    REQUIRE(c.try_pop(m));
    CHECK(valid(m, next));
  }
  CHECK(iterations > 0);
}

TEST_CASE("IpcSpscQueue: a producer blocked on a full queue learns that its consumer died", "[ipc][spsc][fork][kill]") {
  for (const bool use_push : {false, true}) {
    CAPTURE(use_push);
    ShmName name("spsc_deadc");
    auto q = Queue::create(name, 8, kTag);
    auto p = q.producer();
    Pipe took;
    const pid_t child = hft::test::fork_child([&] {
      auto c = q.consumer();
      Msg m{};
      while (!c.try_pop(m)) std::this_thread::yield();
      took.send();
      std::this_thread::sleep_for(20ms);
      (void)::raise(SIGKILL);  // kill -9 while the parent is blocked in push
      return 0;
    });
    REQUIRE(p.try_push(make(0)));
    REQUIRE(took.receive());
    for (std::uint64_t i = 1; i <= 8; ++i) REQUIRE(p.try_push(make(i)));
    if (use_push) {
      CHECK_THROWS_AS(p.push(make(9)), hft::ipc::PeerDead);
    } else {
      CHECK(p.push_for(make(9), 20s) == Queue::PushResult::PeerDead);
    }
    CHECK(q.stats().peer_dead == 1);
    CHECK_FALSE(p.consumer_alive());
    CHECK(hft::test::wait_child(child) == -SIGKILL);
    // A new consumer takes over and finds the queue as the dead one left it.
    auto c = q.consumer();
    std::uint64_t next = 1;
    CHECK(c.consume([&](Msg& m) { CHECK(valid(m, next++)); }) == 8);
    CHECK(p.push_for(make(9), 1s) == Queue::PushResult::Pushed);
  }
}

TEST_CASE("IpcSpscQueue: open refuses a layout or type mismatch and names the field", "[ipc][spsc]") {
  struct Wide {
    std::uint64_t a, b, c;
  };
  ShmName name("spsc_mismatch");
  auto q = Queue::create(name, 64, kTag);
  CHECK_THROWS_WITH(Queue::open(name, 100, kTag), Catch::Contains("capacity: the region has 64, expected 100"));
  CHECK_THROWS_WITH(Queue::open(name, 64, hft::ipc::TypeTag{kTag.value + 1}), Catch::Contains("type_tag"));
  CHECK_THROWS_WITH(IpcSpscQueue<Wide>::open(name, 64, kTag), Catch::Contains("element_size: the region has 16"));
  CHECK_THROWS_AS(Queue::create(name, 64, kTag), std::system_error);  // exclusive
  auto same = Queue::open(name, 64, kTag);
  CHECK(same.capacity() == 64);
}

TEST_CASE("IpcSpscQueue: hostile region contents never make a reader crash or read out of bounds",
          "[ipc][spsc][hostile]") {
  const auto seed = static_cast<std::uint64_t>(std::random_device{}());
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  for (const std::size_t cap : {1u, 5u, 16u}) {
    ShmName name("spsc_hostile");
    auto q = Queue::create(name, cap, kTag);
    auto* area = reinterpret_cast<unsigned char*>(q.region().channel());
    const std::size_t bytes = q.region().channel_bytes();
    const std::uint64_t mask = std::bit_ceil(cap) - 1;
    auto* slots = reinterpret_cast<hft::ipc::detail::SpscSlot<Msg>*>(area + sizeof(hft::ipc::detail::SpscControl));
    for (int round = 0; round < 300; ++round) {
      // Random bytes everywhere; then, half the time, a head and seqs that look ready for
      // a run of positions (so the reader copies garbage items, masked), and free owners.
      for (std::size_t i = 0; i < bytes; ++i) area[i] = static_cast<unsigned char>(rng());
      auto& ctl = control(q);
      if (round % 2 == 0) {
        ctl.producer_owner = 0;
        ctl.consumer_owner = 0;
        ctl.head = rng() % 4 == 0 ? ~std::uint64_t{0} - rng() % 4 : rng();
        for (std::uint64_t i = 0; i <= mask; ++i) {
          if (rng() % 4 != 0) slots[(ctl.head + i) & mask].seq = ctl.head + i + 1;
        }
        ctl.data.waiters = 0;
      }
      try {
        auto c = q.consumer();
        Msg m{};
        (void)c.try_pop(m);
        (void)c.try_pop();
        (void)c.consume([&](Msg& x) { m = x; }, rng() % 100);
        (void)c.consume([&](Msg& x) { m = x; });
        (void)c.wait_for_data(0ns);
        (void)c.pop_wait(m, 50us);
        (void)c.producer_alive();
      } catch (const std::runtime_error& e) {
        CHECK_THAT(e.what(), Catch::Contains("held by live process"));  // a random owner word named a live pid
      }
      (void)q.size();
      (void)q.empty();
      (void)q.consumer_identity();
      try {
        auto p = q.producer();
        std::vector<Msg> batch(3, make(1));
        (void)p.try_push(make(0));
        (void)p.try_push_n(batch.begin(), batch.end());
        (void)p.push_for(make(2), 0ns);
      } catch (const std::runtime_error& e) {
        const std::string what = e.what();
        CHECK((what.find("held by live process") != std::string::npos || what.find("corrupt") != std::string::npos));
      }
    }
  }
}

TEST_CASE("IpcSpscQueue: the blocking wait", "[ipc][spsc][wait]") {
  SECTION("a consumer asleep on the futex is woken by a push from another process") {
    ShmName name("spsc_wake");
    auto q = Queue::create(name, 16, kTag);
    auto c = q.consumer();
    const auto before = q.stats();
    const pid_t child = hft::test::fork_child([&] {
      auto p = q.producer();
      // Push only once the consumer has announced itself, so the push must wake it.
      std::atomic_ref<std::uint32_t> waiters(control(q).data.waiters);
      while (waiters.load(std::memory_order_relaxed) == 0) std::this_thread::sleep_for(100us);
      std::this_thread::sleep_for(10ms);  // let it reach FUTEX_WAIT
      const auto wakes = hft::ipc::shared_wait::stats().wakes;
      p.push(make(42));
      return hft::ipc::shared_wait::stats().wakes == wakes + 1 ? 0 : 5;
    });
    Msg m{};
    CHECK(c.pop_wait(m, 20s));
    CHECK(valid(m, 42));
    CHECK(hft::test::wait_child(child) == 0);
    CHECK(q.stats().waits == before.waits + 1);
    CHECK(q.stats().wait_timeouts == before.wait_timeouts);
  }
  SECTION("a timeout returns false") {
    ShmName name("spsc_timeout");
    auto q = Queue::create(name, 16, kTag);
    auto c = q.consumer();
    CHECK_FALSE(c.wait_for_data(5ms));
    Msg m{};
    CHECK_FALSE(c.pop_wait(m, 1ms));
    CHECK(q.stats().wait_timeouts == 2);
  }
  SECTION("a push with nobody waiting makes no system call") {
    ShmName name("spsc_nowake");
    auto q = Queue::create(name, 16, kTag);
    auto p = q.producer();
    auto c = q.consumer();
    const auto before = q.stats();
    std::vector<Msg> batch(4, make(0));
    for (int i = 0; i < 1000; ++i) {
      REQUIRE(p.try_push(make(0)));
      REQUIRE(p.try_push_n(batch.begin(), batch.end()) == 4);
      p.push(make(0));
      (void)c.consume([](Msg&) {});
    }
    CHECK(q.stats().futex_wakes == before.futex_wakes);
    CHECK(q.stats().futex_sleeps == before.futex_sleeps);
  }
}
