// The journal under faults: an I/O error at the n-th system call for every n, the states a
// power loss can leave at every system call, disk full and file-size limits, a second writer,
// and the defects those methods found (issue 34). tests/journal/fault_io.hpp has the model.
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "../support/catch.hpp"
#include "../support/scale.hpp"
#include "crash_check.hpp"
#include "fault_io.hpp"
#include "hft/journal/journal.hpp"
#include "hft/journal/journal_reader.hpp"
#include "journal_support.hpp"

using hft::Durability;
using hft::Journal;
using hft::JournalConfig;
using hft::JournalError;
using hft::JournalReader;
using hft::JournalRecord;
using hft::test::payload_for;
using hft::test::read_all;
using hft::test::SimIo;
using hft::test::TempDir;

namespace {

constexpr std::size_t kSeg = 8192;  // two pages: records cross page boundaries, rolls are frequent
constexpr std::size_t kMax = 300;   // payload_for(seq, kMax): up to 300 bytes

using hft::test::ScratchDir;

// How many reopened states had whole records behind a lost page (cut by point-in-time recovery).
std::uint64_t g_holes_cut = 0;

std::string check_state(const SimIo::DirState& st, const std::string& dir, std::uint64_t durable,
                        std::uint64_t committed) {
  const auto r = hft::test::check_crash_state(st, dir, durable, committed, kSeg, kMax);
  if (r.holes_cut) ++g_holes_cut;
  return r.error;
}

// The scripted workload of the sweeps: appends of varied sizes; a claim scribbled over and
// committed short, and one abandoned (defect 1's pattern); flushes; rolls (kSeg is two
// pages); a reopen half way; a reader tailing along. Every step tolerates JournalError (the
// injected fault's documented outcome) and records anything else.
struct Run {
  std::uint64_t committed = 0;  // the highest sequence known committed
  std::uint64_t durable = 0;    // the highest durable_sequence() observed
  std::vector<std::string> errors;
  std::vector<std::string> journal_errors;
};

constexpr int kRecords = 120;

void workload(const std::string& dir, JournalConfig cfg, Run& run, std::unique_ptr<Journal>& live,
              int flush_every = 5) {
  auto open = [&] {
    try {
      live = std::make_unique<Journal>(dir, cfg);
    } catch (const JournalError& e) {
      run.journal_errors.emplace_back(e.what());
    }
  };
  auto observe = [&] {
    if (!live) return;
    run.committed = std::max(run.committed, live->last_sequence());
    run.durable = std::max(run.durable, live->durable_sequence());
  };
  auto reader_check = [&] {
    try {
      hft::JournalReader r(dir, {.start_sequence = 1, .io = cfg.io});
      std::uint64_t next = 1;
      while (r.poll([&](const JournalRecord& rec) {
        if (rec.sequence != next || !hft::test::payload_matches(rec, kMax))
          run.errors.push_back("the reader delivered a wrong record at " + std::to_string(next));
        ++next;
      }) != 0) {
      }
      // Caught up means caught up: a reader that stops early stops silently.
      if (live && next - 1 < live->last_sequence())
        run.errors.push_back("the reader stopped at " + std::to_string(next - 1) + " of " +
                             std::to_string(live->last_sequence()) + " committed records");
    } catch (const JournalError& e) {
      run.journal_errors.emplace_back(e.what());
    }
  };
  open();
  for (int i = 0; i < kRecords; ++i) {
    if (!live) open();
    if (!live) continue;
    try {
      const std::uint64_t seq = live->next_sequence();
      const auto p = payload_for(seq, kMax);
      if (i % 7 == 3) {
        auto span = live->claim(p.size() + 200);
        std::memset(span.data(), 0xFF, span.size());
        std::memcpy(span.data(), p.data(), p.size());
        (void)live->commit(p.size());
      } else if (i % 11 == 5) {
        auto span = live->claim(250);
        std::memset(span.data(), 0x5A, span.size());  // abandoned: the append below replaces it
        (void)live->append(p);
      } else {
        (void)live->append(p);
      }
    } catch (const JournalError& e) {
      run.journal_errors.emplace_back(e.what());
    }
    observe();
    if (live && i % flush_every == flush_every - 1 && cfg.durability == Durability::batch) {
      try {
        live->flush();
      } catch (const JournalError& e) {
        run.journal_errors.emplace_back(e.what());
      }
      observe();
    }
    if (i % 13 == 12) reader_check();
    if (i == kRecords / 2) {
      live.reset();  // a clean stop and a reopen
      open();
      observe();
    }
  }
  observe();
}

std::string first_errors(const std::vector<std::string>& v) {
  std::string out;
  for (std::size_t i = 0; i < v.size() && i < 5; ++i) out += v[i] + "\n";
  return out + std::to_string(v.size()) + " in all";
}

JournalConfig config(Durability d, SimIo* io) {
  return {.segment_size = kSeg,
          .durability = d,
          .batch_interval = std::chrono::hours(1),  // flushes are the workload's: deterministic
          .prepare_next = false,                    // every call on this thread: deterministic
          .io = io};
}

}  // namespace

TEST_CASE("Journal faults: an abandoned or short-committed larger claim leaves no bytes a reader trips on",
          "[journal][faults]") {
  // Defect 1 of issue 34: only a claim longer than its own commit cleared the next word.
  TempDir t;
  for (const bool abandon : {false, true}) {
    for (const int scribble : {0xFF, 0x5A, 0x80}) {
      const std::string dir = t.sub(std::string(abandon ? "abandon" : "short") + std::to_string(scribble));
      Journal j(dir, {.segment_size = kSeg});
      auto big = j.claim(256);
      std::memset(big.data(), scribble, big.size());
      if (!abandon) {
        const auto p = payload_for(1, 8);
        std::memcpy(big.data(), p.data(), p.size());
        REQUIRE(j.commit(p.size()) == 1);
      }
      const std::uint64_t first = abandon ? 1 : 2;
      for (std::uint64_t s = first; s < first + 3; ++s) REQUIRE(j.append(payload_for(s, 8)) == s);
      const auto rb = read_all(dir, 1, 8);
      REQUIRE(rb.count == first + 2);
      REQUIRE(rb.payloads_ok);
      REQUIRE(rb.in_order);
    }
  }
}

TEST_CASE("Journal faults: under batch and every, a power loss after a roll keeps every durable record readable",
          "[journal][faults]") {
  // Defect 2 of issue 34: the old segment's end marker was never synced, so after a power
  // loss a reader from 1 stopped at the end of the first segment and called itself caught up.
  for (const Durability d : {Durability::batch, Durability::every}) {
    ScratchDir t;
    const std::string dir = t.sub("j");
    SimIo io(dir);
    std::uint64_t durable = 0;
    {
      Journal j(dir, config(d, &io));
      for (std::uint64_t s = 1; s <= 200; ++s) {
        (void)j.append(payload_for(s, kMax));
        if (s % 10 == 0 && d == Durability::batch) j.flush();
      }
      REQUIRE(j.stats().rolls >= 3);
      durable = j.durable_sequence();
      REQUIRE(durable == 200);
      // The power goes before the destructor's own sync.
      const std::string what = check_state(io.durable_only(), t.sub("state"), durable, 200);
      INFO(what);
      REQUIRE(what.empty());
    }
  }
}

TEST_CASE("Journal faults: a failed msync during a roll is never reported durable", "[journal][faults]") {
  // Defect 3 of issue 34: the roll's msync failed, the next flush synced only the new
  // segment and published durable_sequence() past every record of the old one.
  ScratchDir t;
  const std::string dir = t.sub("j");
  SimIo io(dir);
  Journal j(dir, config(Durability::batch, &io));
  io.fail_at(1, EIO, {"msync"});  // the first msync from here on: under batch, the roll's
  std::uint64_t s = 1;
  for (; j.stats().rolls == 0 && s < 1000; ++s)
    if (!j.try_append(payload_for(s, kMax))) break;
  REQUIRE(io.failed_call() == "msync");
  // Whatever the journal made of it, what it declares durable must survive a power loss.
  try {
    j.flush();
  } catch (const JournalError&) {
  }
  {
    const std::string what = check_state(io.durable_only(), t.sub("state"), j.durable_sequence(), s);
    INFO(what);
    REQUIRE(what.empty());
  }
  // And it says so: the append that rolled failed, and the failure is sticky.
  REQUIRE(j.failed());
  REQUIRE(j.stats().sync_failures >= 1);
  REQUIRE(j.stats().rolls == 0);  // the roll stopped before it moved the writer
  const std::uint64_t durable = j.durable_sequence();
  REQUIRE(durable == 0);  // nothing was flushed before the roll
  REQUIRE_THROWS_WITH(j.flush(), Catch::Matchers::Contains("msync") && Catch::Matchers::Contains("Input/output error"));
  REQUIRE_FALSE(j.try_append(payload_for(s, kMax)));
  REQUIRE_THROWS_AS(j.append(payload_for(s, kMax)), JournalError);
  REQUIRE(j.durable_sequence() == durable);
  REQUIRE(j.last_sequence() == s - 1);  // every append before the failed one was committed
}

TEST_CASE("Journal faults: a failed sync under every throws from that append and fails the journal",
          "[journal][faults]") {
  ScratchDir t;
  const std::string dir = t.sub("j");
  SimIo io(dir);
  {
    Journal j(dir, config(Durability::every, &io));
    REQUIRE(j.append(payload_for(1, kMax)) == 1);
    io.fail_at(1, EIO, {"msync"});
    REQUIRE_THROWS_AS(j.append(payload_for(2, kMax)), JournalError);
    REQUIRE(j.failed());
    REQUIRE(j.last_sequence() == 2);  // committed: a reader in this boot sees it
    REQUIRE(j.durable_sequence() == 1);
    REQUIRE_FALSE(j.try_append(payload_for(3, kMax)));
    REQUIRE(j.stats().append_failures == 1);
  }
  // Reopening recovers from what the files hold (the page cache had record 2) and goes on.
  Journal j(dir, config(Durability::every, nullptr));
  REQUIRE_FALSE(j.failed());
  REQUIRE(j.recovery().next_sequence == 3);
  REQUIRE(j.durable_sequence() == 2);
  REQUIRE(j.append(payload_for(3, kMax)) == 3);
}

TEST_CASE("Journal faults: an I/O error at the n-th system call, for every n, never lies about durability",
          "[journal][faults]") {
  // For each policy and errno, a fault-free run counts the calls; then the workload runs once
  // per call number with that call failed. At every point: only JournalError escapes; the
  // live files hold exactly every committed record (nothing is lost without a power loss);
  // what the durable-only state keeps covers the highest durable_sequence() observed; the
  // reader never stops short (checked inside the workload).
  for (const Durability d : {Durability::batch, Durability::every}) {
    for (const int err : {EIO, ENOSPC}) {
      std::uint64_t total = 0;
      {
        ScratchDir t;
        SimIo io(t.sub("j"));
        Run run;
        std::unique_ptr<Journal> live;
        workload(t.sub("j"), config(d, &io), run, live);
        live.reset();
        REQUIRE(run.errors.empty());
        REQUIRE(run.journal_errors.empty());
        total = io.calls();
      }
      REQUIRE(total > 100);
      for (std::uint64_t n = 1; n <= total; ++n) {
        ScratchDir t;
        const std::string dir = t.sub("j");
        SimIo io(dir);
        io.fail_at(n, err);
        Run run;
        std::unique_ptr<Journal> live;
        try {
          workload(dir, config(d, &io), run, live);
        } catch (const std::exception& e) {
          run.errors.push_back(std::string("escaped the workload: ") + e.what());
        }
        const std::string failed = io.failed_call();
        live.reset();
        INFO("policy " << static_cast<int>(d) << ", " << (err == EIO ? "EIO" : "ENOSPC") << " at call " << n << " of "
                       << total << " (" << failed << ")");
        INFO(first_errors(run.errors));
        REQUIRE(run.errors.empty());
        // No power loss: the files hold every committed record, and they open cleanly.
        const auto rb = read_all(dir, 1, kMax);
        REQUIRE(rb.in_order);
        REQUIRE(rb.payloads_ok);
        REQUIRE(rb.count == run.committed);
        // A power loss now: what was declared durable is there.
        const std::string what = check_state(io.durable_only(), t.sub("state"), run.durable, run.committed);
        INFO(what);
        REQUIRE(what.empty());
      }
    }
  }
}

TEST_CASE("Journal faults: EINTR at any open, fallocate, flock or sync is retried and changes nothing",
          "[journal][faults]") {
  const std::set<std::string> restartable = {"open", "fallocate", "flock", "fsync", "fdatasync", "msync"};
  for (const Durability d : {Durability::none, Durability::batch, Durability::every}) {
    std::uint64_t total = 0;
    std::uint64_t committed = 0;
    {
      ScratchDir t;
      SimIo io(t.sub("j"));
      io.fail_at(0, 0, restartable);
      Run run;
      std::unique_ptr<Journal> live;
      workload(t.sub("j"), config(d, &io), run, live);
      total = io.calls();
      committed = run.committed;
    }
    for (std::uint64_t n = 1; n <= total; ++n) {
      ScratchDir t;
      const std::string dir = t.sub("j");
      SimIo io(dir);
      io.fail_at(n, EINTR, restartable);
      Run run;
      std::unique_ptr<Journal> live;
      workload(dir, config(d, &io), run, live);
      live.reset();
      INFO("policy " << static_cast<int>(d) << ", EINTR at call " << n << " (" << io.failed_call() << ")");
      INFO(first_errors(run.journal_errors));
      REQUIRE(run.journal_errors.empty());
      REQUIRE(run.errors.empty());
      REQUIRE(run.committed == committed);
      REQUIRE(read_all(dir, 1, kMax).count == committed);
    }
  }
}

TEST_CASE("Journal faults: every state a power loss can leave, at every system call, opens to a durable prefix",
          "[journal][faults][power]") {
  // At each call the journal makes (the moment before it), SimIo writes out the states a power
  // loss there could leave: each directory prefix since the last directory fsync, each dirty
  // page kept or lost (every subset when there are at most 8, else random ones), torn pages.
  // Each must open, read back exactly records 1..k with k >= the durable_sequence() observed,
  // and continue at k + 1.
  const std::uint64_t seed = std::random_device{}();
  INFO("seed " << seed);
  struct Variant {
    Durability d;
    int flush_every;
  };
  // batch flushing every 25 records leaves up to 3 pages dirty between syncs: holes (a later
  // page kept, an earlier one lost) that recovery must cut, not refuse.
  for (const Variant v :
       {Variant{Durability::batch, 5}, Variant{Durability::batch, 25}, Variant{Durability::every, 1}}) {
    const Durability d = v.d;
    ScratchDir t;
    const std::string dir = t.sub("j");
    SimIo io(dir);
    std::mt19937_64 rng(seed);
    Run run;
    std::unique_ptr<Journal> live;
    std::uint64_t states = 0;
    std::uint64_t points = 0;
    g_holes_cut = 0;
    std::vector<std::string> failures;
    io.on_call = [&](const char* call) {
      if (live) run.durable = std::max(run.durable, live->durable_sequence());
      if (live) run.committed = std::max(run.committed, live->last_sequence());
      ++points;
      io.enumerate(
          [&](const SimIo::DirState& st, const std::string& desc) {
            ++states;
            if (failures.size() >= 5) return;
            const std::string what = check_state(st, t.sub("state"), run.durable, run.committed);
            if (!what.empty()) {
              std::string f = what;
              f += " [before call ";
              f += std::to_string(points);
              f += " (";
              f += call;
              f += "), ";
              f += desc;
              f += "]";
              failures.push_back(std::move(f));
            }
          },
          rng, 6, 16);
    };
    workload(dir, config(d, &io), run, live, v.flush_every);
    io.on_call = nullptr;
    live.reset();
    INFO("policy " << static_cast<int>(d) << ", flush every " << v.flush_every << ": " << points << " crash points, "
                   << states << " states, " << g_holes_cut << " with whole records cut behind a lost page");
    INFO(first_errors(failures));
    REQUIRE(failures.empty());
    REQUIRE(run.errors.empty());
    REQUIRE(points > 100);
    REQUIRE(states > points);
    if (v.flush_every > 5) REQUIRE(g_holes_cut > 0);
  }
}

TEST_CASE(
    "Journal faults: a second writer on one directory is refused, in this process or another, and readers are not",
    "[journal][faults]") {
  TempDir t;
  const std::string dir = t.sub("j");
  {
    Journal a(dir, {.segment_size = kSeg});
    REQUIRE(a.append(payload_for(1)) == 1);
    REQUIRE_THROWS_WITH(Journal(dir, {.segment_size = kSeg}),
                        Catch::Matchers::Contains("already open for writing by another Journal"));
    const pid_t pid = ::fork();
    if (pid == 0) {
      try {
        Journal b(dir, {.segment_size = kSeg});
        ::_exit(1);  // opened: the lock did not hold across processes
      } catch (const JournalError&) {
        ::_exit(0);
      } catch (...) {
        ::_exit(2);
      }
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    REQUIRE(read_all(dir).count == 1);       // a reader takes no lock
    REQUIRE(a.append(payload_for(2)) == 2);  // and the refused writers changed nothing
  }
  Journal again(dir, {.segment_size = kSeg});  // the lock goes with the writer
  REQUIRE(again.recovery().next_sequence == 3);
}

TEST_CASE("Journal faults: a 20-digit .journal name above UINT64_MAX is not a segment and is ignored",
          "[journal][faults]") {
  TempDir t;
  const std::string dir = t.sub("j");
  {
    Journal j(dir, {.segment_size = kSeg});
    (void)j.append(payload_for(1));
  }
  { std::ofstream(dir + "/99999999999999999999.journal") << "stray"; }
  { std::ofstream(dir + "/18446744073709551616.journal") << "stray"; }  // UINT64_MAX + 1
  REQUIRE(hft::test::segment_count(dir) == 1);
  Journal j(dir, {.segment_size = kSeg});
  REQUIRE(j.recovery().next_sequence == 2);
  REQUIRE(read_all(dir).count == 1);
}

namespace {
// Runs `body` in a child process and returns its wait status: RLIMIT_FSIZE and SIGXFSZ are
// process-wide, so the test process keeps its own.
template <class F>
int in_child(F body) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    int rc = 99;
    try {
      rc = body();
    } catch (...) {
      rc = 98;
    }
    ::_exit(rc);
  }
  int status = 0;
  (void)::waitpid(pid, &status, 0);
  return status;
}

bool set_fsize_limit(rlim_t bytes) {
  rlimit r{};
  if (::getrlimit(RLIMIT_FSIZE, &r) != 0) return false;
  r.rlim_cur = bytes;
  return ::setrlimit(RLIMIT_FSIZE, &r) == 0;
}
}  // namespace

TEST_CASE("Journal faults: RLIMIT_FSIZE is an error at open or a failed roll, never SIGXFSZ", "[journal][faults]") {
  TempDir t;
  constexpr std::size_t kBig = std::size_t{64} * 1024;
  SECTION("a segment size above the limit is refused when the journal opens") {
    const int status = in_child([&] {
      if (!set_fsize_limit(kBig / 2)) return 10;
      try {
        Journal j(t.sub("open"), {.segment_size = kBig});
        return 1;
      } catch (const JournalError& e) {
        return std::string(e.what()).find("RLIMIT_FSIZE") != std::string::npos ? 0 : 2;
      }
    });
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
  }
  for (const bool prepare : {false, true}) {
    DYNAMIC_SECTION("a limit lowered after open fails the roll (prepare_next " << prepare << ")") {
      const int status = in_child([&] {
        Journal j(t.sub(prepare ? "p" : "np"), {.segment_size = kBig, .prepare_next = prepare});
        // With a preparer, the spare it made before the limit carries the first roll.
        while (prepare && !j.next_segment_ready()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        const std::uint64_t rolls = prepare ? 1 : 0;
        if (!set_fsize_limit(kBig / 2)) return 10;
        std::uint64_t s = 1;
        while (j.try_append(payload_for(s))) ++s;  // until a roll cannot create its file
        if (j.stats().rolls != rolls || j.stats().append_failures != 1) return 3;
        try {
          (void)j.append(payload_for(s));
          return 4;
        } catch (const JournalError& e) {
          if (std::string(e.what()).find("File too large") == std::string::npos) return 5;
        }
        if (j.last_sequence() != s - 1 || read_all(j.directory()).count != s - 1) return 6;
        // The limit lifted, the next append rolls and the journal goes on.
        if (!set_fsize_limit(RLIM_INFINITY)) return 11;
        if (!j.try_append(payload_for(s)) || j.stats().rolls != rolls + 1) return 7;
        return 0;
      });
      INFO("wait status " << status);
      REQUIRE_FALSE(WIFSIGNALED(status));  // SIGXFSZ's default action would kill it
      REQUIRE(WIFEXITED(status));
      REQUIRE(WEXITSTATUS(status) == 0);
    }
  }
}

TEST_CASE("Journal faults: a full disk fails the roll loudly, loses nothing durable, and the journal resumes",
          "[journal][faults]") {
  ScratchDir t;
  const std::string dir = t.sub("j");
  SimIo io(dir);
  JournalConfig cfg = config(Durability::batch, &io);
  cfg.prepare_next = true;  // the preparer meets the full disk first, then the writer's own roll
  Journal j(dir, cfg);
  while (!j.next_segment_ready()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  (void)j.append(payload_for(1, kMax));
  // From now on the disk is full: no file can be allocated.
  io.fail_from(1, ENOSPC, {"fallocate"});
  std::uint64_t s = 2;
  std::string error;
  for (; s < 10'000; ++s) {
    try {
      (void)j.append(payload_for(s, kMax));
      if (s % 5 == 0) j.flush();
    } catch (const JournalError& e) {
      error = e.what();
      break;
    }
  }
  INFO(error);
  REQUIRE(error.find("No space left on device") != std::string::npos);
  REQUIRE(j.stats().rolls == 1);  // the spare made before the disk filled was used
  REQUIRE_FALSE(j.failed());      // a full disk is not a failed sync: nothing durable is in doubt
  j.flush();
  REQUIRE(j.durable_sequence() == s - 1);
  REQUIRE_FALSE(j.try_append(payload_for(s, kMax)));
  // The preparer meets the full disk too (on its own thread: wait for it, no time asserted).
  for (int i = 0; i < 10'000 && j.stats().prepare_failures == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  REQUIRE(j.stats().prepare_failures >= 1);
  {
    const std::string what = check_state(io.durable_only(), t.sub("state"), j.durable_sequence(), s - 1);
    INFO(what);
    REQUIRE(what.empty());
  }
  io.fail_at(0, 0);  // space returns
  REQUIRE(j.try_append(payload_for(s, kMax)));
  REQUIRE(j.stats().rolls == 2);
  j.flush();
  REQUIRE(read_all(dir, 1, kMax).count == s);
}

TEST_CASE(
    "Journal faults: the segment before the last without its end marker is resealed, or refused if records are "
    "missing",
    "[journal][faults]") {
  TempDir t;
  auto make = [&](const std::string& name) {
    std::string dir = t.sub(name);
    Journal j(dir, {.segment_size = kSeg});
    for (std::uint64_t s = 1; s <= 100; ++s) (void)j.append(payload_for(s, kMax));
    REQUIRE(j.stats().rolls >= 2);
    return dir;
  };
  // Where segment 1's marker is: after its last record.
  auto marker_of_first = [&](const std::string& dir, std::uint64_t& last_seq_in_first) {
    const auto segs = hft::detail::list_segments(dir);
    JournalReader r(dir);
    std::size_t marker = 0;
    last_seq_in_first = 0;
    while (r.poll(
               [&](const JournalRecord& rec) {
                 if (r.segment_path() == segs[0].second) {
                   last_seq_in_first = rec.sequence;
                   marker = r.offset() + hft::detail::record_size(rec.payload.size());
                 }
               },
               1) != 0) {
    }
    return std::make_pair(segs[0].second, marker);
  };
  SECTION("the records run up to the next segment: the marker is written and readers go on") {
    const std::string dir = make("reseal");
    std::uint64_t last = 0;
    const auto [path, marker] = marker_of_first(dir, last);
    // Leave only the first two segments: the second becomes the last one.
    const auto segs = hft::detail::list_segments(dir);
    for (std::size_t i = 2; i < segs.size(); ++i) std::filesystem::remove(segs[i].second);
    hft::test::write_at(path, marker, std::string(4, '\0'));  // a power loss under none took the marker
    REQUIRE(read_all(dir, 1, kMax).count == last);            // a reader stops there: caught up, it thinks
    Journal j(dir, {.segment_size = kSeg});
    REQUIRE(j.recovery().resealed_segment == path);
    REQUIRE(read_all(dir, 1, kMax).count == j.last_sequence());
    REQUIRE(j.last_sequence() > last);
  }
  SECTION("a record is missing between the two files: JournalCorrupt names them") {
    const std::string dir = make("gap");
    std::uint64_t last = 0;
    const auto [path, marker] = marker_of_first(dir, last);
    const auto segs = hft::detail::list_segments(dir);
    for (std::size_t i = 2; i < segs.size(); ++i) std::filesystem::remove(segs[i].second);
    hft::test::write_at(path, marker, std::string(4, '\0'));
    // And the last record of the first segment is gone too.
    JournalReader r(dir, {.start_sequence = last});
    std::size_t last_off = 0;
    (void)r.poll([&](const JournalRecord&) { last_off = r.offset(); }, 1);
    hft::test::write_at(path, last_off, std::string(4, '\0'));
    REQUIRE_THROWS_WITH(
        Journal(dir, {.segment_size = kSeg}),
        Catch::Matchers::Contains("records " + std::to_string(last) + ".." + std::to_string(last) + " are missing"));
  }
}

TEST_CASE("Journal faults: an end marker in the last segment (its next file lost) is cut, and the sequence goes on",
          "[journal][faults]") {
  TempDir t;
  const std::string dir = t.sub("j");
  {
    Journal j(dir, {.segment_size = kSeg});
    for (std::uint64_t s = 1; s <= 5; ++s) (void)j.append(payload_for(s));
  }
  const auto segs = hft::detail::list_segments(dir);
  REQUIRE(segs.size() == 1);
  std::size_t end = 0;
  {
    JournalReader r(dir);
    while (r.poll([&](const JournalRecord& rec) { end = r.offset() + hft::detail::record_size(rec.payload.size()); }) !=
           0) {
    }
  }
  hft::test::write_at(segs[0].second, end, std::string(4, '\xFF'));  // a marker, and no next file
  Journal j(dir, {.segment_size = kSeg});
  REQUIRE(j.recovery().next_sequence == 6);
  REQUIRE(j.recovery().truncated_offset == end);
  REQUIRE(j.recovery().dropped_records == 0);
  REQUIRE(j.append(payload_for(6)) == 6);
  REQUIRE(read_all(dir).count == 6);
  REQUIRE(hft::test::segment_count(dir) == 1);
}

TEST_CASE(
    "Journal faults: whole records behind a lost commit word are cut, and behind a damaged record cut under "
    "batch/every and refused under none",
    "[journal][faults]") {
  // A zero commit word ends the data under any policy: behind it stand only bytes of a claim
  // never committed (whatever they hold), or, after a power loss, later pages that survived
  // an earlier one. A non-zero record that fails its CRC with whole records behind it is
  // damage to what was published: no crash of a process leaves that, so under none it is
  // refused; under batch/every a torn or lost page can, and none of those was durable.
  TempDir t;
  for (const bool zero_word : {true, false}) {
    for (const Durability d : {Durability::none, Durability::batch, Durability::every}) {
      const std::string dir = t.sub("j" + std::to_string(zero_word) + std::to_string(static_cast<int>(d)));
      {
        Journal j(dir, {.segment_size = kSeg, .durability = d});
        for (std::uint64_t s = 1; s <= 20; ++s) (void)j.append(payload_for(s, kMax));
      }
      std::size_t at = 0;
      std::size_t len = 0;
      {
        JournalReader r(dir, {.start_sequence = 10});
        (void)r.poll(
            [&](const JournalRecord& rec) {
              at = r.offset();
              len = rec.payload.size();
            },
            1);
      }
      const std::string seg = hft::detail::list_segments(dir).front().second;
      if (zero_word) {
        hft::test::write_at(seg, at, std::string(4, '\0'));  // record 10's commit word lost
      } else {
        REQUIRE(len > 0);
        hft::test::flip_byte(seg, at + 24 + len / 2);  // record 10's payload damaged
      }
      INFO("zero word " << zero_word << ", policy " << static_cast<int>(d));
      if (!zero_word && d == Durability::none) {
        REQUIRE_THROWS_AS(Journal(dir, {.segment_size = kSeg, .durability = d}), hft::JournalCorrupt);
        continue;
      }
      Journal j(dir, {.segment_size = kSeg, .durability = d});
      REQUIRE(j.recovery().next_sequence == 10);
      REQUIRE(j.recovery().dropped_whole_records == 10);
      REQUIRE(j.recovery().truncated_offset == at);
      REQUIRE(read_all(dir, 1, kMax).count == 9);
      REQUIRE(j.append(payload_for(10, kMax)) == 10);
    }
  }
}

namespace {
// Reads from sequence 1 until caught up or JournalCorrupt: how many records were delivered,
// and the error's message ("" if none was thrown).
struct ReadToDamage {
  std::uint64_t delivered = 0;
  std::string error;
};
ReadToDamage read_to_damage(const std::string& dir) {
  ReadToDamage out;
  try {
    JournalReader r(dir);
    while (r.poll([&](const JournalRecord&) { ++out.delivered; }) != 0) {
    }
  } catch (const hft::JournalCorrupt& e) {
    out.error = e.what();
  }
  return out;
}
}  // namespace

TEST_CASE(
    "Journal faults: a corrupt record in an older segment opens (open checks the last two) and stops a reader "
    "loudly",
    "[journal][faults]") {
  TempDir t;
  const std::string dir = t.sub("j");
  {
    Journal j(dir, {.segment_size = kSeg});
    for (std::uint64_t s = 1; s <= 150; ++s) (void)j.append(payload_for(s, kMax));
    REQUIRE(j.stats().rolls >= 3);
  }
  // Flip a payload byte of record 5, in the first of four or more segments.
  std::size_t at = 0;
  {
    JournalReader r(dir, {.start_sequence = 5});
    (void)r.poll([&](const JournalRecord& rec) { at = r.offset() + 24 + rec.payload.size() / 2; }, 1);
  }
  const auto first = hft::detail::list_segments(dir).front().second;
  hft::test::flip_byte(first, at);
  Journal j(dir, {.segment_size = kSeg});
  REQUIRE(j.recovery().next_sequence == 151);
  const auto read = read_to_damage(dir);
  REQUIRE_THAT(read.error, Catch::Matchers::Contains("record CRC mismatch") && Catch::Matchers::Contains(first));
  REQUIRE(read.delivered == 4);  // nothing at or after the damage is delivered
}

TEST_CASE("Journal faults: an end marker in a segment's first slot is damage: refused, and never a reader that spins",
          "[journal][faults]") {
  // Found by the journal_recovery fuzz target: bytes of 0xFF over the start of the last
  // segment read as an end marker before its first record, with whole records behind it.
  // Recovery refuses that (under none), and a reader that followed the marker opened the
  // same file again, forever. The old recovery took it for a seal, and the next append's
  // roll renamed a new file over the same name: the segment and its records were gone.
  TempDir t;
  const std::string dir = t.sub("j");
  {
    Journal j(dir, {.segment_size = kSeg});
    for (std::uint64_t s = 1; s <= 100; ++s) (void)j.append(payload_for(s, kMax));
    REQUIRE(j.stats().rolls >= 2);
  }
  for (const bool last : {true, false}) {
    INFO((last ? "the last segment" : "the segment before it"));
    const auto segs = hft::detail::list_segments(dir);
    const std::uint64_t first = segs[segs.size() - (last ? 1 : 2)].first;
    const std::string path = segs[segs.size() - (last ? 1 : 2)].second;
    const std::string saved = [&] {
      std::ifstream in(path, std::ios::binary);
      return std::string(std::istreambuf_iterator<char>(in), {});
    }();
    hft::test::write_at(path, 64, std::string(4, '\xFF'));  // the first record's commit word
    REQUIRE_THROWS_AS(Journal(dir, {.segment_size = kSeg}), hft::JournalCorrupt);
    const auto read = read_to_damage(dir);
    REQUIRE_THAT(read.error, Catch::Matchers::Contains("end of segment before its first record") &&
                                 Catch::Matchers::Contains(path));
    REQUIRE(read.delivered == first - 1);  // everything before the damage, nothing at or after it
    hft::test::write_at(path, 0, saved);   // undamaged again for the next round
  }
}
