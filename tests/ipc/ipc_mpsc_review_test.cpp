// Adversarial review of hft/ipc/ipc_mpsc_queue.hpp (commit 1b199c6). Each TEST_CASE shows one
// way a stated guarantee is false and fails on that commit. A preempted or killed peer is
// simulated by writing the region's words exactly as the interrupted code would have left
// them (the same white-box access as ipc_mpsc_queue_test.cpp); every test is deterministic.
// The fix (commit after 0c51a3c): a skip CASes the owner word to a token of its position and
// then moves seq on, never resetting the word; an abandoning Claim only CASes the word from its
// own identity; the consumer checks tail before any skip. Where a case hand-played the old
// store order, it now plays the new protocol's states.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <thread>

#include "../support/catch.hpp"
#include "hft/ipc/ipc_mpsc_queue.hpp"
#include "ipc_test_support.hpp"
#include "mpsc_review_support.hpp"

using hft::ipc::IpcMpscQueue;
using hft::ipc::SkipReason;
using hft::test::ShmName;
using namespace std::chrono_literals;

using namespace hft::test::mpsc_review;  // NOLINT(google-build-using-namespace): the reviews' shared vocabulary

namespace {

// The skip token a consumer leaves on a slot of position 0 (lap 0) or 2 (lap 1, capacity 2).
constexpr std::uint64_t kSkipped0 = hft::ipc::detail::mpsc_skip_token(0);
constexpr std::uint64_t kAbandoned = hft::ipc::detail::kMpscOwnerAbandoned;

}  // namespace

// Finding: stalled() takes any non-zero owner word as proof that the head position was
// claimed and never reads tail in that case. A consumer killed in skip() after it moved seq
// on and before it reset owner leaves kMpscOwnerSkipping in a free slot; one lap later, with
// the queue empty, the next consumer "skips" the unclaimed position, its head passes tail and
// the slot's seq runs a lap ahead: every producer sees "full" (claim() gives up) forever.
TEST_CASE("IpcMpscQueue review: a consumer killed inside skip wedges the queue one lap later", "[ipc][mpsc][review]") {
  ShmName name("rv_skip_kill");
  auto q = Queue::create(name, 2, kTag);
  // Position 0 was claimed by a producer that died before recording itself; the consumer that
  // skipped it (CAS owner 0 -> token, seq = 0 + 2) was killed before storing head.
  put(control(q).tail, 1);
  put(slot(q, 0).owner, kSkipped0);
  put(slot(q, 0).seq, 2);
  auto p = q.producer();
  auto c = q.consumer(1ms);  // takes over: its scan steps over position 0
  CHECK(c.position() == 1);
  REQUIRE(round_trips(p, c, 1) == 1);           // position 1: fine
  (void)poll_for(c, 20ms);                      // idle: nothing was claimed at position 2
  CHECK(c.position() <= get(control(q).tail));  // the consumer never passes the claims
  CHECK(round_trips(p, c, 4) == 4);             // and the queue still works
}

// Finding: ~Claim stores owner = abandoned and then seq = pos + 1 unconditionally. If it is
// preempted between the two for claim_timeout, the consumer skips the slot (reason Abandoned,
// seq = pos + capacity); the destructor's seq store then moves seq back to pos + 1: the slot
// is a lap behind, producers find it "full" and the consumer "empty", forever.
TEST_CASE("IpcMpscQueue review: an abandoning Claim preempted past claim_timeout wedges the queue",
          "[ipc][mpsc][review]") {
  ShmName name("rv_abandon_late");
  auto q = Queue::create(name, 2, kTag);
  auto p = q.producer();
  auto c = q.consumer(1ms);
  std::optional<Queue::Claim> cl;
  cl.emplace(std::move(*p.try_claim()));  // a live producer claims position 0
  REQUIRE(cl->position() == 0);
  // It drops the Claim; ~Claim is preempted right after `owner = abandoned` (written here).
  put(slot(q, 0).owner, kAbandoned);
  (void)poll_for(c, 20ms);
  REQUIRE(c.last_skip().reason == SkipReason::Abandoned);
  REQUIRE(c.position() == 1);
  cl.reset();  // ~Claim resumes (here: runs): its stores land on a slot already skipped
  CHECK(round_trips(p, c, 4) == 4);
}

// Finding: skip() of a published abandoned slot stored seq = pos + capacity (the slot is the
// next lap's) before `owner = 0`, so a next-lap producer that recorded itself in that window
// had its owner word wiped, was skipped as NoOwner while alive, and its publish() rewound seq.
// Now a skip never writes the word after seq; the next lap's owner stays and is waited for.
TEST_CASE("IpcMpscQueue review: skip of an abandoned slot wipes the next lap's recorded owner", "[ipc][mpsc][review]") {
  ShmName name("rv_abandon_clobber");
  auto q = Queue::create(name, 2, kTag);
  auto p = q.producer();
  auto c = q.consumer(1ms);
  { auto cl = p.try_claim(); }        // position 0: abandoned
  REQUIRE(p.try_push(Msg{0, 0, 0}));  // position 1
  Msg got{};
  REQUIRE(poll_for(c, 20ms, &got) == 1);
  CHECK(c.last_skip().reason == SkipReason::Abandoned);
  auto cl = p.try_claim();  // the next lap's producer claims position 2 and records itself
  REQUIRE(cl.has_value());
  REQUIRE(cl->position() == 2);
  REQUIRE(get(slot(q, 0).owner) == me());
  *cl->item() = Msg{1, 0, 42};
  CHECK(poll_for(c, 20ms) == 0);  // position 2's owner is alive: waited for, well past claim_timeout
  CHECK(q.skipped() == 1);
  CHECK(get(slot(q, 0).owner) == me());
  cl->publish();
  CHECK(poll_for(c, 20ms, &got) == 1);
  CHECK(got.seq == 42);
}

// Finding: a skip marker that was not tied to its position made a next-lap producer that was
// not late at all read "skipping" in record(), give its fresh claim up and claim again: a
// needless reclaim, a phantom skip, and a try_push that failed as "full" although a slot was
// free for it. A token of another lap is now stale and replaced.
TEST_CASE("IpcMpscQueue review: a producer meeting a skip between its two stores reclaims needlessly",
          "[ipc][mpsc][review]") {
  ShmName name("rv_phantom_skip");
  auto q = Queue::create(name, 2, kTag);
  // Position 0 claimed by a producer killed before recording; position 1 published. The
  // consumer skipping position 0 (owner = token, seq = 0 + 2) is preempted before storing head.
  Msg item{0, 0, 0};
  std::memcpy(slot(q, 1).storage, &item, sizeof item);
  put(slot(q, 1).owner, me());
  put(slot(q, 1).seq, 2);
  put(control(q).tail, 2);
  put(slot(q, 0).owner, kSkipped0);
  put(slot(q, 0).seq, 2);
  auto p = q.producer();
  CHECK(p.try_push(Msg{1, 0, 0}));  // position 2 is free for the next lap
  CHECK(q.stats().reclaims == 0);   // and this producer was never late
  // The consumer resumes (head = 1) and drains.
  put(control(q).head, 1);
  auto c = q.consumer(1ms);
  (void)poll_for(c, 20ms);
  CHECK(q.skipped() == 0);  // nobody died and nobody was late: nothing to skip
}

// Finding: wait_for_data's condition is "the head slot is published", which an abandoned
// Claim satisfies; it then returns true with no item ready, and the try_pop it promises
// fails (pop_wait returns false long before its timeout).
TEST_CASE("IpcMpscQueue review: wait_for_data returns true for an abandoned claim with no item",
          "[ipc][mpsc][review]") {
  ShmName name("rv_wait_abandon");
  auto q = Queue::create(name, 8, kTag);
  auto c = q.consumer();
  std::thread t([&q] {
    auto p = q.producer();
    std::this_thread::sleep_for(100ms);  // while the consumer sleeps
    auto cl = p.try_claim();
    (void)cl;  // destroyed unpublished: abandoned
  });
  const bool ready = c.wait_for_data(1s);
  t.join();
  Msg m{};
  const bool popped = ready && c.try_pop(m);
  CHECK(ready == popped);  // "true when one is [ready]"
}

// Finding (the same root cause as the consumer-killed case, from a killed producer): a
// producer preempted past claim_timeout between its tail CAS and its owner CAS is skipped
// (seq = pos + capacity, owner = 0); it then wins its owner CAS 0 -> itself and is killed
// before it sees the moved seq and puts 0 back. Its dead word stays in the free slot; one lap
// later, with the queue empty, the consumer "skips" that unclaimed position as OwnerDead and
// the queue is wedged for good ("a killed producer cannot wedge it").
TEST_CASE("IpcMpscQueue review: a producer killed inside its restore CAS wedges the queue one lap later",
          "[ipc][mpsc][review]") {
  ShmName name("rv_restore_kill");
  auto q = Queue::create(name, 2, kTag);
  const pid_t dead = hft::test::fork_child([] { return 0; });
  REQUIRE(hft::test::wait_child(dead) == 0);  // reaped: its pid names no process now
  auto p = q.producer();
  auto c = q.consumer(1ms);
  // Position 0 claimed; its claimer preempted before recording itself.
  put(control(q).tail, 1);
  (void)poll_for(c, 20ms);
  REQUIRE(c.last_skip().reason == SkipReason::NoOwner);
  // The late claimer's CAS 0 -> itself succeeds on the skipped slot; it dies before restoring.
  put(slot(q, 0).owner, hft::ipc::detail::pack_owner({.pid = dead, .reserved = 0, .start_time = 1}));
  REQUIRE(round_trips(p, c, 1) == 1);  // position 1
  (void)poll_for(c, 20ms);             // idle: position 2 was never claimed
  CHECK(c.position() <= get(control(q).tail));
  CHECK(round_trips(p, c, 4) == 4);
}

#if HFT_ENABLE_ASSERTS
// Finding: a Claim holds a pointer to the IpcMpscQueue and writes into its mapping when it
// is published or destroyed, but handles_ counts only Producers and Consumers: the
// destructor's "a handle outlives it" check passes with a Claim alive, whose destructor then
// writes through a dangling pointer into an unmapped region.
TEST_CASE("IpcMpscQueue review: a Claim outliving its queue passes the handle check", "[ipc][mpsc][review]") {
  ShmName name("rv_claim_outlives");
  const std::string n = name.str();
  const pid_t k = hft::test::fork_child([&n] {
    ::signal(SIGABRT, SIG_DFL);  // the abort is the expected outcome: not Catch's to report
    std::optional<Queue::Claim> cl;
    {
      auto q = Queue::create(n, 2, kTag);
      auto p = q.producer();
      auto c = p.try_claim();
      if (!c) return 3;
      cl.emplace(std::move(*c));
    }            // ~IpcMpscQueue with a Claim alive: HFT_ASSERT must stop here
    ::_exit(0);  // not running ~Claim (it would write into the unmapped region)
  });
  CHECK(hft::test::wait_child(k) == -SIGABRT);
}
#endif
