// Second adversarial review of hft/ipc/ipc_mpsc_queue.hpp (commit dc61d04, the owner-word /
// skip-token protocol). Each TEST_CASE shows one way a stated guarantee is false and fails on
// that commit. The fix: every word that names no process carries its lap, a claimer records
// itself only over "free for my lap" (no give-back), and a Claim copied into a fork()ed child
// leaves the parent's claim alone. Where a case plays the old code's CAS, that CAS now fails,
// as the real one would. A preempted or killed peer is simulated by writing the region's words exactly
// as the interrupted code would have left them (its CASes played with compare_exchange on the
// same words); every test is deterministic.
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

// Finding: the owner word names a process, not a claim, so two producer threads of one process
// write the same word. A late claimer (thread A: claimed position 0, read owner 0 and seq 0,
// then preempted past claim_timeout before its owner CAS) is skipped; two laps later the slot
// is free with owner 0 again and A's CAS 0 -> W succeeds. Thread B of the same process claims
// position 4 and records itself: W -> W. A re-reads seq, sees it lost, and "gives the word
// back": its CAS W -> 0 succeeds on B's record. B, alive and holding its Claim, is now a claim
// with no owner: the consumer skips it after claim_timeout (a live owner must be waited for),
// and B's publish() moves seq back from 6 to 5: every producer finds the queue full and the
// consumer finds it empty, for good, and B's item is lost.
TEST_CASE("IpcMpscQueue review2: a late claimer's give-back wipes a sibling thread's record and wedges the queue",
          "[ipc][mpsc][review]") {
  ShmName name("rv2_sibling_restore");
  auto q = Queue::create(name, 2, kTag);
  auto p = q.producer();
  auto c = q.consumer(1ms);
  // Thread A claimed position 0 (tail CAS), loaded the owner word, saw seq 0, and was preempted.
  put(control(q).tail, 1);
  const std::uint64_t a_cur = get(slot(q, 0).owner);
  (void)poll_for(c, 20ms);
  REQUIRE(c.last_skip().reason == SkipReason::NoOwner);
  REQUIRE(c.position() == 1);
  REQUIRE(round_trips(p, c, 3) == 3);  // positions 1, 2 (slot 0, popped: free for 4) and 3
  REQUIRE(get(slot(q, 0).seq) == 4);
  // A resumes: its owner CAS from what it loaded to W (on dc61d04: 0 -> W, it succeeds).
  const bool a_won = cas(slot(q, 0).owner, a_cur, me());
  // Thread B of the same process claims position 4 and records itself (on dc61d04: W -> W).
  std::optional<Queue::Claim> cl;
  std::atomic<bool> b_done{false};
  std::thread b([&] {
    auto x = p.try_claim();
    if (x) cl.emplace(std::move(*x));
    b_done.store(true);
  });
  for (int i = 0; i < 200 && !b_done.load(); ++i) std::this_thread::sleep_for(1ms);
  // A re-reads seq (4, not 0: it lost position 0) and gives the word back: CAS W -> a_cur.
  if (a_won) (void)cas(slot(q, 0).owner, me(), a_cur);
  b.join();
  REQUIRE(cl.has_value());
  REQUIRE(cl->position() == 4);
  *cl->item() = Msg{1, 0, 42};
  // B is alive and holds its Claim: the consumer must wait for it, however long.
  CHECK(poll_for(c, 20ms) == 0);
  CHECK(c.position() == 4);
  CHECK(q.skipped() == 1);
  cl->publish();
  Msg got{};
  CHECK(poll_for(c, 20ms, &got) == 1);
  CHECK(got.seq == 42);
  CHECK(round_trips(p, c, 4) == 4);
}

// Finding: "a fork()ed child's producer handles record the child, not the parent", but a Claim
// keeps the parent's identity and has no fork check. A child that destroys its copy of a Claim
// the parent holds (leaving the scope that held it, an exception unwinding) CASes the parent's
// owner word to "abandoned": the consumer skips the parent's live claim, and the parent's
// publish() then moves seq back a lap: the queue is wedged and the item lost.
TEST_CASE("IpcMpscQueue review2: a fork()ed child destroying its copy of a Claim abandons the parent's claim",
          "[ipc][mpsc][review]") {
  ShmName name("rv2_fork_claim");
  auto q = Queue::create(name, 2, kTag);
  auto p = q.producer();
  auto c = q.consumer(1ms);
  auto cl = p.try_claim();
  REQUIRE(cl.has_value());
  REQUIRE(cl->position() == 0);
  *cl->item() = Msg{1, 0, 42};
  const pid_t child = hft::test::fork_child([&cl] {
    cl.reset();  // the child's copy goes out of scope
    return 0;
  });
  REQUIRE(hft::test::wait_child(child) == 0);
  CHECK(poll_for(c, 20ms) == 0);  // the parent (alive) still holds its Claim
  CHECK(q.skipped() == 0);
  CHECK(c.position() == 0);
  cl->publish();
  Msg got{};
  CHECK(poll_for(c, 20ms, &got) == 1);
  CHECK(got.seq == 42);
  CHECK(round_trips(p, c, 4) == 4);
}

// Finding: a claimer killed between its owner CAS and its give-back leaves its (dead) word on a
// free slot; the header says "the next claimer replaces it". But stalled() starts the stall
// clock on any non-zero word without reading tail, and judges a dead word an OwnerDead claim:
// the next claimer, alive and only a few milliseconds between its tail CAS and its owner CAS,
// is skipped after one check interval, not claim_timeout (10 s here), and the skip is blamed
// on a process that claimed nothing. ("A live producer that was claim_timeout late" is the
// only live one the header lets be skipped.)
TEST_CASE("IpcMpscQueue review2: a dead claimer's stale word gets a live claimer skipped long before claim_timeout",
          "[ipc][mpsc][review]") {
  ShmName name("rv2_stale_dead_word");
  auto q = Queue::create(name, 2, kTag);
  const pid_t dead = hft::test::fork_child([] { return 0; });
  REQUIRE(hft::test::wait_child(dead) == 0);  // reaped: its pid names no process now
  const std::uint64_t dead_word = hft::ipc::detail::pack_owner({.pid = dead, .reserved = 0, .start_time = 1});
  auto p = q.producer();
  {
    auto c = q.consumer(1ms);
    // The doomed claimer took position 0, loaded the owner word and seq 0, and was preempted:
    // skipped.
    put(control(q).tail, 1);
    const std::uint64_t cur = get(slot(q, 0).owner);
    (void)poll_for(c, 20ms);
    REQUIRE(c.last_skip().reason == SkipReason::NoOwner);
    REQUIRE(round_trips(p, c, 3) == 3);  // positions 1, 2 (slot 0: free for 4) and 3
    // It resumes: its CAS from what it loaded to itself succeeds on the free slot (dc61d04:
    // 0 -> it); it is killed before it re-reads seq and gives the word back.
    (void)cas(slot(q, 0).owner, cur, dead_word);
  }
  auto c = q.consumer(10s);  // a generous claim_timeout
  REQUIRE(c.position() == 4);
  // A live producer claims position 4 (tail CAS) and is preempted a few ms before its owner CAS.
  put(control(q).tail, 5);
  (void)poll_for(c, 30ms);
  CHECK(c.position() == 4);  // 30 ms is far below claim_timeout: not skipped
  CHECK(c.last_skip().reason == SkipReason::None);
  CHECK(q.skipped() == 1);
  // It resumes: records itself over the word, which must still say "free for lap 2" (the
  // late claimer of lap 0 could not take it), copies and publishes.
  const std::uint64_t w = get(slot(q, 0).owner);
  REQUIRE(hft::ipc::detail::mpsc_free_for(2, w));
  REQUIRE(get(slot(q, 0).seq) == 4);
  REQUIRE(cas(slot(q, 0).owner, w, me()));
  const Msg m{1, 0, 42};
  std::memcpy(slot(q, 0).storage, &m, sizeof m);
  put(slot(q, 0).seq, 5);
  Msg got{};
  CHECK(poll_for(c, 20ms, &got) == 1);
  CHECK(got.seq == 42);
}
