#include "hft/journal/journal_reader.hpp"

#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "../support/catch.hpp"
#include "../support/scale.hpp"
#include "hft/core/cpu.hpp"
#include "hft/journal/journal.hpp"
#include "journal_support.hpp"

using hft::Journal;
using hft::JournalReader;
using hft::JournalRecord;
using hft::test::payload_for;
using hft::test::TempDir;

namespace {
constexpr std::size_t kSeg = 1 << 14;  // small, so that tailers cross many segments

// Tails `dir` until `n` records arrived or `timeout` passed; checks order and content.
struct TailResult {
  std::uint64_t count = 0;
  bool in_order = true;
  bool payloads_ok = true;
};
TailResult tail(const std::string& dir, std::uint64_t n, std::chrono::seconds timeout = std::chrono::seconds(60)) {
  TailResult res;
  JournalReader r(dir);
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (res.count < n && std::chrono::steady_clock::now() < until) {
    const std::size_t got = r.poll([&](const JournalRecord& rec) {
      res.in_order = res.in_order && rec.sequence == res.count + 1;
      res.payloads_ok = res.payloads_ok && hft::test::payload_matches(rec);
      ++res.count;
    });
    if (got == 0) std::this_thread::yield();  // two cores: never starve the writer
  }
  return res;
}
}  // namespace

TEST_CASE("JournalReader on a missing or empty directory waits for the first segment", "[journal]") {
  TempDir t;
  JournalReader r(t.sub("later"));
  REQUIRE(r.poll([](const JournalRecord&) {}) == 0);
  REQUIRE(r.segment_path().empty());
  Journal j(t.sub("later"), {.segment_size = kSeg});
  (void)j.append(payload_for(1));
  REQUIRE(r.poll([](const JournalRecord&) {}) == 1);
}

TEST_CASE("JournalReader::poll delivers at most max records", "[journal]") {
  TempDir t;
  Journal j(t.path(), {.segment_size = kSeg});
  for (std::uint64_t s = 1; s <= 10; ++s) (void)j.append(payload_for(s));
  JournalReader r(t.path());
  REQUIRE(r.poll([](const JournalRecord&) {}, 3) == 3);
  REQUIRE(r.next_sequence() == 4);
  REQUIRE(r.poll([](const JournalRecord&) {}, 0) == 0);
  REQUIRE(r.poll([](const JournalRecord&) {}) == 7);
  REQUIRE(r.poll([](const JournalRecord&) {}) == 0);
}

TEST_CASE("JournalReader: readers tail an in-process writer live, every record once and in order",
          "[journal][stress]") {
  TempDir t;
  const std::uint64_t n = 200'000 / hft::test::stress_divisor;
  TailResult results[2];
  std::atomic<bool> ready{false};
  {
    Journal j(t.path(), {.segment_size = kSeg});
    std::thread readers[2];
    for (int i = 0; i < 2; ++i)
      readers[i] = std::thread([&, i] {
        while (!ready.load(std::memory_order_acquire)) std::this_thread::yield();
        results[i] = tail(t.path(), n);
      });
    ready.store(true, std::memory_order_release);
    for (std::uint64_t s = 1; s <= n; ++s) {
      const auto p = payload_for(s);
      REQUIRE(j.append(p) == s);
      if ((s & 255) == 0) std::this_thread::yield();
    }
    for (auto& r : readers) r.join();
  }
  for (const auto& r : results) {
    REQUIRE(r.count == n);
    REQUIRE(r.in_order);
    REQUIRE(r.payloads_ok);
  }
}

TEST_CASE("JournalReader: a writer in another process is tailed live, no record partial", "[journal][process]") {
  TempDir t;
  const std::uint64_t n = 100'000 / hft::test::stress_divisor;
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    int rc = 0;
    try {
      Journal j(t.path(), {.segment_size = kSeg});
      for (std::uint64_t s = 1; s <= n; ++s) {
        const auto p = payload_for(s);
        (void)j.append(p);
        if ((s & 1023) == 0) std::this_thread::yield();
      }
    } catch (...) {
      rc = 3;
    }
    ::_exit(rc);
  }
  const auto res = tail(t.path(), n);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  REQUIRE(res.count == n);
  REQUIRE(res.in_order);
  REQUIRE(res.payloads_ok);
}

TEST_CASE("Journal survives kill -9 at random points: always exactly a committed prefix", "[journal][process]") {
  TempDir t;
  // The child publishes the last sequence append() returned; a record committed after the
  // last publication may also be there, never more.
  auto* shared = static_cast<std::atomic<std::uint64_t>*>(
      ::mmap(nullptr, sizeof(std::atomic<std::uint64_t>), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  REQUIRE(shared != MAP_FAILED);
  new (shared) std::atomic<std::uint64_t>(0);
  static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
  std::mt19937 rng(7);
  const int cycles = 100;
  const auto budget = std::chrono::steady_clock::now() + std::chrono::seconds(240);
  std::uint64_t kept = 0;
  int done = 0;
  int cut_in_roll = 0;
  for (; done < cycles && std::chrono::steady_clock::now() < budget; ++done) {
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      try {
        Journal j(t.path(), {.segment_size = 4096});  // tiny segments: many kills land in a roll
        for (;;) {
          const std::uint64_t s = j.next_sequence();
          shared->store(j.append(payload_for(s)), std::memory_order_release);
        }
      } catch (...) {
        ::_exit(3);
      }
    }
    // Let it recover and append at least one record (a sanitizer build under load may
    // take longer than the kill window just to start), then for a random 0-7 ms more.
    const auto started = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (shared->load(std::memory_order_acquire) <= kept && std::chrono::steady_clock::now() < started)
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 7000));
    ::kill(child, SIGKILL);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFSIGNALED(status));
    const std::uint64_t published = shared->load(std::memory_order_acquire);
    const auto rb = hft::test::read_all(t.path());
    INFO("cycle " << done << ": published " << published << ", journal holds " << rb.count);
    REQUIRE(rb.in_order);
    REQUIRE(rb.payloads_ok);
    REQUIRE(rb.count >= published);
    REQUIRE(rb.count <= published + 1);
    REQUIRE(rb.count > kept);  // nothing recovered earlier was lost, and this cycle appended
    {
      Journal j(t.path(), {.segment_size = 4096});
      REQUIRE(j.recovery().next_sequence == rb.count + 1);
      REQUIRE(j.recovery().dropped_records == 0);  // a process crash tears nothing
      cut_in_roll += j.recovery().removed_segments != 0;
    }
    kept = rb.count;
    shared->store(kept, std::memory_order_relaxed);
  }
  ::munmap(shared, sizeof(std::atomic<std::uint64_t>));
  INFO("kill cycles: " << done << ", recoveries that removed a half-rolled segment: " << cut_in_roll);
  REQUIRE(done >= (hft::test::stress_divisor > 1 ? 20 : cycles));
  REQUIRE(kept > 0);
}
