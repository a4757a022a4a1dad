// hft/ipc/shared_wait.hpp: notify() with nobody waiting makes no system call; a waiter is
// woken by a publish in another process; a timeout returns false; and a ping-pong in which
// both processes sleep between turns never loses a wake-up (one lost would stall a turn
// until its 20 s timeout), with the notifier registered for membarrier on one side and
// fencing on the other.
#include "hft/ipc/shared_wait.hpp"

#include <atomic>
#include <thread>

#include "../support/catch.hpp"
#include "hft/ipc/shared_region.hpp"
#include "ipc_test_support.hpp"

using hft::ipc::SharedRegion;
using hft::ipc::SharedWaitWord;
namespace shared_wait = hft::ipc::shared_wait;
using namespace std::chrono_literals;

namespace {

// The channel area of the tests: two wait words and two published counters.
struct Shared {
  SharedWaitWord to_child, to_parent;
  std::uint64_t child_turn = 0, parent_turn = 0;
};

hft::ipc::RegionLayout wait_layout() {
  return {.kind = hft::ipc::ChannelKind::SpscQueue,
          .element_size = 8,
          .element_align = 8,
          .type_tag = hft::ipc::type_tag("shared_wait_test"),
          .capacity = 1,
          .channel_bytes = sizeof(Shared)};
}

std::uint64_t load(std::uint64_t& v) { return std::atomic_ref<std::uint64_t>(v).load(std::memory_order_acquire); }
void store(std::uint64_t& v, std::uint64_t x) { std::atomic_ref<std::uint64_t>(v).store(x, std::memory_order_release); }

}  // namespace

TEST_CASE("shared wait: notify with nobody waiting makes no system call", "[ipc][wait]") {
  SharedWaitWord w;
  const auto before = shared_wait::stats();
  for (int i = 0; i < 1000; ++i) shared_wait::notify(w);
  CHECK(shared_wait::stats().wakes == before.wakes);
  CHECK(w.seq == 0);
}

TEST_CASE("shared wait: a timeout returns false, a ready condition returns true without sleeping", "[ipc][wait]") {
  SharedWaitWord w;
  const auto before = shared_wait::stats();
  CHECK_FALSE(shared_wait::wait(
      w, [] { return false; }, 20ms));
  CHECK(shared_wait::stats().sleeps > before.sleeps);
  CHECK(w.waiters == 0);  // the waiter left
  const auto mid = shared_wait::stats();
  CHECK(shared_wait::wait(
      w, [] { return true; }, 20ms));
  CHECK(shared_wait::stats().sleeps == mid.sleeps);
  CHECK_FALSE(shared_wait::wait(
      w, [] { return false; }, std::chrono::nanoseconds::zero()));
}

TEST_CASE("shared wait: a thread sleeping on the word is woken by a publish", "[ipc][wait]") {
  (void)shared_wait::prepare_notifier();
  SharedWaitWord w;
  std::uint64_t flag = 0;
  std::atomic<bool> woke{false};
  std::thread t([&] {
    woke = shared_wait::wait(
        w, [&] { return load(flag) != 0; }, 20s);
  });
  while (std::atomic_ref<std::uint32_t>(w.waiters).load() == 0) std::this_thread::yield();
  store(flag, 1);
  shared_wait::notify(w);
  t.join();
  CHECK(woke);
}

TEST_CASE("shared wait: two processes ping-pong sleeping between turns and lose no wake-up", "[ipc][wait]") {
  hft::test::ShmName name("wait");
  SharedRegion r = SharedRegion::create(name, wait_layout());
  Shared* const s = ::new (static_cast<void*>(r.channel())) Shared();  // cppcheck-suppress legacyUninitvar
  r.mark_ready();
  constexpr std::uint64_t kTurns = 300;
  // The child notifies without prepare_notifier (the fence path); the parent registers.
  const pid_t pid = hft::test::fork_child([&] {
    SharedRegion c = SharedRegion::open(name, wait_layout());
    auto* cs = reinterpret_cast<Shared*>(c.channel());
    for (std::uint64_t k = 1; k <= kTurns; ++k) {
      if (!shared_wait::wait(
              cs->to_child, [&] { return load(cs->child_turn) >= k; }, 20s))
        return 2;
      store(cs->parent_turn, k);
      shared_wait::notify(cs->to_parent);
    }
    return 0;
  });
  (void)shared_wait::prepare_notifier();
  bool ok = true;
  for (std::uint64_t k = 1; k <= kTurns && ok; ++k) {
    store(s->child_turn, k);
    shared_wait::notify(s->to_child);
    ok = shared_wait::wait(
        s->to_parent, [&] { return load(s->parent_turn) >= k; }, 20s);
  }
  CHECK(ok);
  CHECK(hft::test::wait_child(pid) == 0);
  CHECK(load(s->parent_turn) == kTurns);
}
