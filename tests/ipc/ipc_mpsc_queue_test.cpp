// hft/ipc/ipc_mpsc_queue.hpp: every element exactly once, each producer's in its order,
// from threads (TSan) and from processes; a producer killed between claim and publish
// (deterministically, holding a Claim, and at random points, more than 100 times) never
// wedges the consumer, which receives each producer's prefix and at most one counted skip
// per killed producer; a claim with no owner is skipped after claim_timeout, an abandoned
// one at once; a fork()ed child's handle records the child; a consumer killed under a full
// queue is reported as PeerDead; the consumer role is exclusive and taken over from a dead
// holder; a layout mismatch at open names the field; hostile region contents never make
// either side crash, read out of bounds (ASan) or spin forever.
#include "hft/ipc/ipc_mpsc_queue.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "../support/catch.hpp"
#include "../support/scale.hpp"
#include "ipc_test_support.hpp"

using hft::ipc::IpcMpscQueue;
using hft::ipc::SkipReason;
using hft::test::ShmName;
using namespace std::chrono_literals;

namespace {

struct Msg {
  std::uint32_t producer;
  std::uint32_t pad;
  std::uint64_t seq;
  std::uint64_t check;
};
constexpr std::uint64_t checksum(std::uint32_t producer, std::uint64_t i) {
  return (i * 0x9E3779B97F4A7C15ull) ^ (std::uint64_t{producer} << 48) ^ 0xABCDEFull;
}
constexpr Msg make(std::uint32_t producer, std::uint64_t i) { return {producer, 0, i, checksum(producer, i)}; }

const hft::ipc::TypeTag kTag = hft::ipc::type_tag("ipc_mpsc_queue_test::Msg");
using Queue = IpcMpscQueue<Msg>;

hft::ipc::detail::MpscControl& control(const Queue& q) {
  return *reinterpret_cast<hft::ipc::detail::MpscControl*>(q.region().channel());
}
std::uint64_t tail_of(const Queue& q) { return std::atomic_ref<std::uint64_t>(control(q).tail).load(); }

// Per producer, the next sequence number expected; any gap, repeat, reorder or torn item
// is recorded as a failure.
struct Checker {
  explicit Checker(std::size_t producers) : next(producers, 0) {}
  std::vector<std::uint64_t> next;
  std::uint64_t received = 0;
  std::string failure;
  void operator()(const Msg& m) {
    ++received;
    if (!failure.empty()) return;
    if (m.producer >= next.size() || m.check != checksum(m.producer, m.seq) || m.seq != next[m.producer]) {
      failure = "producer " + std::to_string(m.producer) + " seq " + std::to_string(m.seq);
      failure += " expected " + (m.producer < next.size() ? std::to_string(next[m.producer]) : std::string("-"));
      return;
    }
    ++next[m.producer];
  }
};

// Pops with a mix of the pop forms until `done()` or the deadline; false at the deadline.
template <class Done>
bool drain(Queue::Consumer& c, Checker& chk, std::mt19937_64& rng, Done&& done,
           std::chrono::steady_clock::duration limit = 20s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    switch (rng() % 8) {
      case 0: {
        Msg m{};
        if (c.try_pop(m)) chk(m);
        break;
      }
      case 1:
        if (auto m = c.try_pop()) chk(*m);
        break;
      case 2: {
        Msg m{};
        if (c.pop_wait(m, 1ms)) chk(m);
        break;
      }
      default:
        (void)c.consume([&](Msg& m) { chk(m); }, 1 + rng() % 16);
    }
  }
  return true;
}

void produce(Queue::Producer& p, std::uint32_t id, std::uint64_t n, std::mt19937_64& rng) {
  for (std::uint64_t i = 0; i < n;) {
    switch (rng() % 3) {
      case 0:
        if (p.try_push(make(id, i))) ++i;
        break;
      case 1:
        if (auto cl = p.try_claim()) {
          *cl->item() = make(id, i++);
          cl->publish();
        }
        break;
      default:
        p.push(make(id, i++));
    }
  }
}

}  // namespace

TEST_CASE("IpcMpscQueue: capacity rounds up to a power of two and is honoured", "[ipc][mpsc]") {
  for (const std::size_t asked : {std::size_t{1}, std::size_t{2}, std::size_t{5}, std::size_t{64}}) {
    CAPTURE(asked);
    ShmName name("mpsc_cap");
    auto q = Queue::create(name, asked, kTag);
    const std::size_t cap = std::max<std::size_t>(2, std::bit_ceil(asked));
    CHECK(q.capacity() == cap);
    auto p = q.producer();
    auto c = q.consumer();
    for (std::size_t lap = 0; lap < 3; ++lap) {
      for (std::size_t i = 0; i < cap; ++i) REQUIRE(p.try_push(make(0, lap * cap + i)));
      CHECK_FALSE(p.try_push(make(0, 999)));
      CHECK_FALSE(p.try_claim().has_value());
      CHECK(q.size() == cap);
      Checker chk(1);
      chk.next[0] = lap * cap;
      Msg m{};
      while (c.try_pop(m)) chk(m);
      CHECK(chk.failure.empty());
      CHECK(chk.received == cap);
      CHECK(q.empty());
    }
  }
  ShmName name("mpsc_cap0");
  CHECK_THROWS_AS(Queue::create(name, 0, kTag), std::invalid_argument);
  CHECK_THROWS_AS(Queue::create(name, Queue::max_capacity() + 1, kTag), std::length_error);
}

TEST_CASE("IpcMpscQueue: threads see every element exactly once, each producer's in order", "[ipc][mpsc][threads]") {
  const std::uint64_t n = hft::test::scaled(60'000);
  constexpr std::uint32_t kProducers = 3;
  ShmName name("mpsc_threads");
  auto q = Queue::create(name, 64, kTag);
  auto c = q.consumer();
  std::vector<std::thread> ts;
  for (std::uint32_t id = 0; id < kProducers; ++id)
    ts.emplace_back([&q, id, n] {
      auto p = q.producer();
      std::mt19937_64 rng(id);
      produce(p, id, n, rng);
    });
  Checker chk(kProducers);
  std::mt19937_64 rng(7);
  const bool ok = drain(c, chk, rng, [&] { return chk.received == kProducers * n || !chk.failure.empty(); });
  for (auto& t : ts) t.join();
  CHECK(ok);
  CHECK(chk.failure.empty());
  CHECK(chk.received == kProducers * n);
  // A producer preempted between its two CASes past claim_timeout is skipped and claims again:
  // a NoOwner skip per reclaim, nothing lost (the Checker saw every item).
  CHECK(q.skipped() == q.stats().reclaims);
  CHECK(q.stats().skipped_owner_dead + q.stats().skipped_abandoned == 0);
}

TEST_CASE("IpcMpscQueue: across processes every element arrives exactly once, each producer's in order",
          "[ipc][mpsc][fork]") {
  const std::uint64_t n = hft::test::scaled(100'000);
  constexpr std::uint32_t kProducers = 3;
  ShmName name("mpsc_fork");
  auto q = Queue::create(name, 100, kTag);
  auto c = q.consumer();
  std::vector<pid_t> kids;
  for (std::uint32_t id = 0; id < kProducers; ++id)
    kids.push_back(hft::test::fork_child([&, id] {
      auto peer = Queue::open(name, 100, kTag);
      auto p = peer.producer();
      std::mt19937_64 rng(100 + id);
      produce(p, id, n, rng);
      return 0;
    }));
  Checker chk(kProducers);
  std::mt19937_64 rng(8);
  CHECK(drain(
      c, chk, rng, [&] { return chk.received == kProducers * n || !chk.failure.empty(); }, 60s));
  for (const pid_t k : kids) CHECK(hft::test::wait_child(k) == 0);
  CHECK(chk.failure.empty());
  CHECK(q.empty());
  CHECK(q.stats().skipped_owner_dead + q.stats().skipped_abandoned == 0);  // NoOwner skips: reclaimed (see above)
}

TEST_CASE("IpcMpscQueue: the consumer role is exclusive while its holder lives and taken over when it is dead",
          "[ipc][mpsc][roles]") {
  ShmName name("mpsc_roles");
  auto q = Queue::create(name, 8, kTag);
  {
    auto c = q.consumer();
    CHECK(q.consumer_identity().pid == ::getpid());
    CHECK(q.consumer_alive());
    const pid_t child = hft::test::fork_child([&] {
      auto peer = Queue::open(name, 8, kTag);
      try {
        auto c2 = peer.consumer();
        return 1;
      } catch (const std::runtime_error& e) {
        return std::string(e.what()).find("held by live process pid " + std::to_string(::getppid())) !=
                       std::string::npos
                   ? 0
                   : 2;
      }
    });
    CHECK(hft::test::wait_child(child) == 0);
  }
  CHECK(q.consumer_identity().pid == 0);  // given back
  // A consumer killed while holding the role: the next one takes it over.
  auto p = q.producer();
  REQUIRE(p.try_push(make(0, 0)));
  const pid_t child = hft::test::fork_child([&] {
    auto c = q.consumer();
    (void)::raise(SIGKILL);
    return 0;
  });
  CHECK(hft::test::wait_child(child) == -SIGKILL);
  CHECK_FALSE(q.consumer_alive());
  auto c = q.consumer();
  CHECK(q.stats().takeovers == 1);
  Msg m{};
  REQUIRE(c.try_pop(m));
  CHECK(m.seq == 0);
}

TEST_CASE("IpcMpscQueue: a producer killed holding a claim is skipped, counted and reported",
          "[ipc][mpsc][fork][kill]") {
  ShmName name("mpsc_claimdead");
  auto q = Queue::create(name, 16, kTag);
  auto c = q.consumer(1h);  // the owner is recorded: no timeout is involved
  auto p = q.producer();
  REQUIRE(p.try_push(make(0, 0)));
  // The child uses a handle its parent made: the claim must name the child, or the consumer
  // would wait for the living parent forever.
  const pid_t child = hft::test::fork_child([&] {
    auto cl = p.try_claim();
    if (!cl) return 3;
    (void)::raise(SIGKILL);  // between claim and publish
    return 0;
  });
  CHECK(hft::test::wait_child(child) == -SIGKILL);
  REQUIRE(p.try_push(make(0, 1)));  // behind the dead claim
  Checker chk(1);
  std::mt19937_64 rng(3);
  CHECK(drain(
      c, chk, rng, [&] { return chk.received == 2; }, 5s));
  CHECK(chk.failure.empty());
  CHECK(q.skipped() == 1);
  CHECK(q.stats().skipped_owner_dead == 1);
  CHECK(c.last_skip().reason == SkipReason::OwnerDead);
  CHECK(c.last_skip().owner.pid == child);
  CHECK(c.last_skip().position == 1);
  CHECK(c.position() == 3);
  CHECK(q.empty());
  // The slot is free for its next lap.
  for (std::uint64_t i = 2; i < 2 + 2 * q.capacity(); ++i) {
    REQUIRE(p.try_push(make(0, i)));
    Msg m{};
    REQUIRE(c.try_pop(m));
    CHECK(m.seq == i);
  }
}

TEST_CASE("IpcMpscQueue: a claim with no owner recorded is skipped after claim_timeout, not before", "[ipc][mpsc]") {
  ShmName name("mpsc_noowner");
  auto q = Queue::create(name, 8, kTag);
  auto c = q.consumer(30ms);
  auto p = q.producer();
  // A producer killed between its tail CAS and its owner CAS: tail moved, nothing else.
  std::atomic_ref<std::uint64_t>(control(q).tail).fetch_add(1);
  REQUIRE(p.try_push(make(0, 0)));  // position 1, behind the orphan
  const auto start = std::chrono::steady_clock::now();
  Msg m{};
  while (!c.try_pop(m)) REQUIRE(std::chrono::steady_clock::now() - start < 5s);
  CHECK(std::chrono::steady_clock::now() - start >= 30ms);
  CHECK(m.seq == 0);
  CHECK(c.last_skip().reason == SkipReason::NoOwner);
  CHECK(c.last_skip().position == 0);
  CHECK(q.stats().skipped_no_owner == 1);
  // A sleeping consumer is not held for its whole timeout by such a slot either.
  std::atomic_ref<std::uint64_t>(control(q).tail).fetch_add(1);
  REQUIRE(p.try_push(make(0, 1)));
  const auto t0 = std::chrono::steady_clock::now();
  CHECK(c.pop_wait(m, 10s));
  CHECK(std::chrono::steady_clock::now() - t0 < 1s);  // ~claim_timeout, not the 10 s asked (a bound, not a speed)
  CHECK(m.seq == 1);
  CHECK(q.skipped() == 2);
}

TEST_CASE("IpcMpscQueue: an abandoned claim is skipped at once and the order around it holds", "[ipc][mpsc]") {
  ShmName name("mpsc_abandon");
  auto q = Queue::create(name, 4, kTag);
  auto c = q.consumer(1h);
  auto p = q.producer();
  for (std::uint64_t lap = 0; lap < 6; ++lap) {
    REQUIRE(p.try_push(make(0, 2 * lap)));
    {
      auto cl = p.try_claim();
      REQUIRE(cl.has_value());
      CHECK(cl->position() == 3 * lap + 1);
    }  // destroyed without publish
    auto moved = p.try_claim();
    REQUIRE(moved.has_value());
    auto held = std::move(*moved);
    *held.item() = make(0, 2 * lap + 1);
    held.publish();
    Msg m{};
    REQUIRE(c.try_pop(m));
    CHECK(m.seq == 2 * lap);
    REQUIRE(c.try_pop(m));
    CHECK(m.seq == 2 * lap + 1);
    CHECK(c.last_skip().reason == SkipReason::Abandoned);
    CHECK_FALSE(c.try_pop(m));
  }
  CHECK(q.stats().abandoned == 6);
  CHECK(q.stats().skipped_abandoned == 6);
}

TEST_CASE("IpcMpscQueue: producers killed at random points leave each producer's prefix, never wedged",
          "[ipc][mpsc][fork][kill]") {
  const auto seed = static_cast<std::uint64_t>(std::random_device{}()) ^ static_cast<std::uint64_t>(::getpid());
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  const auto start = std::chrono::steady_clock::now();
  int iterations = 0;
  int kills = 0;
  for (; iterations < 150 && std::chrono::steady_clock::now() - start < 8s; ++iterations) {
    CAPTURE(iterations);
    ShmName name("mpsc_kill");
    const std::size_t cap = 1 + rng() % 32;
    auto q = Queue::create(name, cap, kTag);
    auto c = q.consumer(2ms);
    constexpr std::uint32_t kProducers = 2;
    std::array<pid_t, kProducers> kids{};
    for (std::uint32_t id = 0; id < kProducers; ++id)
      kids[id] = hft::test::fork_child([&, id] {
        auto p = q.producer();
        std::mt19937_64 r(seed + id);
        for (std::uint64_t i = 0;; ++i) {
          if (r() % 2 == 0) {
            p.push(make(id, i));
          } else {
            for (;;) {
              auto cl = p.try_claim();
              if (!cl) continue;
              *cl->item() = make(id, i);
              cl->publish();
              break;
            }
          }
        }
        return 0;
      });
    Checker chk(kProducers);
    const auto kill_at = std::chrono::steady_clock::now() + std::chrono::microseconds(rng() % 3000);
    const bool consume_before = rng() % 4 != 0;
    while (std::chrono::steady_clock::now() < kill_at)
      if (consume_before) (void)c.consume([&](Msg& m) { chk(m); }, 1 + rng() % 32);
    for (const pid_t k : kids) {
      REQUIRE(::kill(k, SIGKILL) == 0);
      CHECK(hft::test::wait_child(k) == -SIGKILL);
      ++kills;
    }
    // Every claimed position resolves: published items arrive, dead claims are skipped.
    std::mt19937_64 drng(rng());
    const std::uint64_t claimed = tail_of(q);
    CHECK(drain(
        c, chk, drng, [&] { return c.position() == claimed; }, 10s));
    CHECK(chk.failure.empty());
    // At most the one item each was pushing is lost (the Checker saw every other, gap-free);
    // NoOwner skips may also be live producers preempted past claim_timeout, which reclaimed.
    CHECK(q.stats().skipped_owner_dead + q.stats().skipped_abandoned <= kProducers);
    CHECK(chk.received + q.skipped() == claimed);
    // Not wedged: a new producer's item comes through.
    auto p = q.producer();
    REQUIRE(p.try_push(make(0, chk.next[0])));
    Msg m{};
    REQUIRE(c.pop_wait(m, 5s));
    chk(m);
    CHECK(chk.failure.empty());
  }
  CHECK(iterations > 0);
  CHECK(kills >= 2 * iterations);
}

TEST_CASE("IpcMpscQueue: a producer blocked on a full queue learns that its consumer died", "[ipc][mpsc][fork][kill]") {
  for (const bool use_push : {false, true}) {
    CAPTURE(use_push);
    ShmName name("mpsc_deadc");
    auto q = Queue::create(name, 8, kTag);
    auto p = q.producer();
    const pid_t child = hft::test::fork_child([&] {
      auto c = q.consumer();
      (void)::raise(SIGKILL);
      return 0;
    });
    CHECK(hft::test::wait_child(child) == -SIGKILL);
    for (std::uint64_t i = 0; i < q.capacity(); ++i) REQUIRE(p.try_push(make(0, i)));
    if (use_push) {
      CHECK_THROWS_AS(p.push(make(0, 9)), hft::ipc::PeerDead);
    } else {
      CHECK(p.push_for(make(0, 9), 20s) == Queue::PushResult::PeerDead);
    }
    CHECK(q.stats().peer_dead == 1);
    // No consumer at all: push_for waits its timeout.
    ShmName name2("mpsc_noc");
    auto q2 = Queue::create(name2, 2, kTag);
    auto p2 = q2.producer();
    REQUIRE(p2.try_push(make(0, 0)));
    REQUIRE(p2.try_push(make(0, 1)));
    CHECK(p2.push_for(make(0, 2), 5ms) == Queue::PushResult::TimedOut);
    CHECK(p2.push_for(make(0, 2), std::chrono::nanoseconds::min()) == Queue::PushResult::TimedOut);
  }
}

TEST_CASE("IpcMpscQueue: a consumer that takes over steps over slots its predecessor freed", "[ipc][mpsc]") {
  ShmName name("mpsc_freed");
  auto q = Queue::create(name, 8, kTag);
  auto p = q.producer();
  for (std::uint64_t i = 0; i < 5; ++i) REQUIRE(p.try_push(make(0, i)));
  {
    auto c = q.consumer();
    Msg m{};
    REQUIRE(c.try_pop(m));
    REQUIRE(c.try_pop(m));
  }
  // A consumer killed after freeing slots 2 and 3 and before storing head: their seq moved
  // on, head did not.
  auto* slots =
      reinterpret_cast<hft::ipc::detail::MpscSlot<Msg>*>(q.region().channel() + sizeof(hft::ipc::detail::MpscControl));
  std::atomic_ref<std::uint64_t>(slots[2].seq).store(2 + 8);
  std::atomic_ref<std::uint64_t>(slots[3].seq).store(3 + 8);
  auto c = q.consumer();
  CHECK(c.position() == 4);
  Msg m{};
  REQUIRE(c.try_pop(m));
  CHECK(m.seq == 4);
  CHECK_FALSE(c.try_pop(m));
}

TEST_CASE("IpcMpscQueue: a foreign word on a free slot is not a claim - it costs one skipped position, never a wedge",
          "[ipc][mpsc]") {
  ShmName name("mpsc_leftover");
  auto q = Queue::create(name, 4, kTag);
  auto c = q.consumer(1ms);
  auto p = q.producer();
  // No protocol state leaves a process's word on a free slot (a buggy peer's write): a dead
  // identity (a child that exited) on slot 0, whose position 0 nobody claimed.
  const pid_t child = hft::test::fork_child([] { return 0; });
  const auto dead = hft::ipc::ProcessIdentity::of(child);
  REQUIRE(hft::test::wait_child(child) == 0);
  auto* slots =
      reinterpret_cast<hft::ipc::detail::MpscSlot<Msg>*>(q.region().channel() + sizeof(hft::ipc::detail::MpscControl));
  std::atomic_ref<std::uint64_t>(slots[0].owner).store(hft::ipc::detail::pack_owner(dead));
  Msg m{};
  const auto until = std::chrono::steady_clock::now() + 50ms;  // many times claim_timeout and the check interval
  bool popped = false;
  while (std::chrono::steady_clock::now() < until) popped = c.try_pop(m) || popped;
  CHECK_FALSE(popped);
  CHECK(q.skipped() == 0);  // not claimed: never skipped (head never passes tail)
  CHECK(c.position() == 0);
  // A producer claims position 0, finds a word that is not "free for lap 0", and claims again
  // (position 1); the consumer skips position 0 (its word names a dead process) and delivers.
  REQUIRE(p.try_push(make(0, 0)));
  CHECK(q.stats().reclaims == 1);
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!c.try_pop(m)) REQUIRE(std::chrono::steady_clock::now() < deadline);
  CHECK(m.seq == 0);
  CHECK(q.skipped() == 1);
  CHECK(c.last_skip().position == 0);
  CHECK(c.last_skip().reason == SkipReason::OwnerDead);
  // From then on the slot is an ordinary one.
  for (std::uint64_t i = 1; i < 1 + 3 * q.capacity(); ++i) {
    REQUIRE(p.try_push(make(0, i)));
    REQUIRE(c.try_pop(m));
    CHECK(m.seq == i);
  }
  CHECK(q.skipped() == 1);
}

TEST_CASE("IpcMpscQueue: open refuses a layout or type mismatch and names the field", "[ipc][mpsc]") {
  ShmName name("mpsc_mismatch");
  auto q = Queue::create(name, 16, kTag);
  const auto refused = [&](auto&& open, const char* field) {
    try {
      open();
      return false;
    } catch (const std::runtime_error& e) {
      return std::string(e.what()).find(field) != std::string::npos;
    }
  };
  CHECK(refused([&] { (void)Queue::open(name, 32, kTag); }, "capacity"));
  CHECK(refused([&] { (void)Queue::open(name, 16, hft::ipc::TypeTag{kTag.value + 1}); }, "type_tag"));
  CHECK(refused([&] { (void)IpcMpscQueue<std::uint64_t>::open(name, 16, kTag); }, "element_size"));
  auto same = Queue::open(name, 13, kTag);  // rounds to 16, as create did
  CHECK(same.capacity() == 16);
  ShmName other("mpsc_kind");
  auto spsc_like = hft::ipc::SharedRegion::create(other, {.kind = hft::ipc::ChannelKind::SpscQueue,
                                                          .element_size = sizeof(Msg),
                                                          .element_align = alignof(Msg),
                                                          .type_tag = kTag,
                                                          .capacity = 16,
                                                          .channel_bytes = Queue::layout(16, kTag).channel_bytes});
  spsc_like.mark_ready();
  CHECK(refused([&] { (void)Queue::open(other, 16, kTag); }, "kind"));
}

TEST_CASE("IpcMpscQueue: hostile region contents never make either side crash, read out of bounds or spin forever",
          "[ipc][mpsc][hostile]") {
  const auto seed = static_cast<std::uint64_t>(std::random_device{}());
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  for (int round = 0; round < 200; ++round) {
    CAPTURE(round);
    ShmName name("mpsc_hostile");
    auto q = Queue::create(name, 8, kTag);
    auto* bytes = reinterpret_cast<std::uint64_t*>(q.region().channel());
    const std::size_t words = q.region().channel_bytes() / 8;
    // Random words, biased to the values the protocol compares against.
    for (std::size_t i = 0; i < words; ++i) {
      switch (rng() % 4) {
        case 0:
          bytes[i] = rng();
          break;
        case 1:
          bytes[i] = rng() % 32;
          break;
        case 2:
          bytes[i] = ~std::uint64_t{0} - rng() % 4;
          break;
        default:
          break;
      }
    }
    // The consumer's owner word may name a live process (pid 1 with an unknown start
    // time): a clear refusal, and the producer side is exercised alone.
    std::optional<Queue::Consumer> c;
    try {
      c.emplace(q.consumer(1ms));
    } catch (const std::runtime_error& e) {
      CHECK(std::string(e.what()).find("consumer") != std::string::npos);
    }
    auto p = q.producer();
    Msg m{};
    const auto until = std::chrono::steady_clock::now() + 3ms;
    while (std::chrono::steady_clock::now() < until) {
      (void)p.try_push(make(0, 0));
      if (auto cl = p.try_claim()) cl->publish();
      if (c) {
        (void)c->try_pop(m);
        (void)c->consume([](Msg&) {}, 4);
      }
      (void)q.size();
    }
    CHECK(q.size() <= q.capacity());
  }
}
