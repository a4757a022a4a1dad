// Adversarial review of the issue-34 journal change (f38c753, 3c6e88d): each case names the
// documented claim it broke; all but the one tagged [coverage] failed before the fixes of
// ca4bc46. The [coverage] case runs the flusher, the preparer and flush() concurrently, which
// the fault suite's deterministic runs do not.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "../support/catch.hpp"
#include "crash_check.hpp"
#include "fault_io.hpp"
#include "hft/journal/journal.hpp"
#include "hft/journal/journal_reader.hpp"
#include "journal_support.hpp"

using hft::Durability;
using hft::Journal;
using hft::JournalConfig;
using hft::JournalError;
using hft::JournalIo;
using hft::JournalReader;
using hft::JournalRecord;
using hft::test::payload_for;
using hft::test::read_all;
using hft::test::SimIo;
using hft::test::TempDir;

namespace {

constexpr std::size_t kSeg = 8192;
constexpr std::size_t kMax = 300;

using Scratch = hft::test::ScratchDir;

// A reopened power-loss state must read back records 1..k with k >= durable, and go on.
std::string check_state(const SimIo::DirState& st, const std::string& dir, std::uint64_t durable) {
  return hft::test::check_crash_state(st, dir, durable, UINT64_MAX, kSeg, kMax).error;
}

// SimIo plus Linux's behaviour after a failed writeback ("fsyncgate"): the pages a failed
// msync covered are marked clean, so a later msync of them (through any descriptor, after the
// error was reported once) returns 0 and writes nothing, until something dirties them again.
class WritebackLossIo : public SimIo {
 public:
  using SimIo::SimIo;
  std::atomic<bool> fail_next_msync{false};

  void* mmap(void* addr, size_t len, int prot, int flags, int fd, off_t off) noexcept override {
    void* p = SimIo::mmap(addr, len, prot, flags, fd, off);
    struct stat st {};
    if (p != MAP_FAILED && ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
      std::lock_guard lk(m_);
      maps_.push_back({static_cast<std::byte*>(p), len, st.st_ino});
    }
    return p;
  }
  int munmap(void* addr, size_t len) noexcept override {
    {
      std::lock_guard lk(m_);
      std::erase_if(maps_, [&](const M& m) { return m.base == addr; });
    }
    return SimIo::munmap(addr, len);
  }
  int msync(void* addr, size_t len, int flags) noexcept override {
    auto* a = static_cast<std::byte*>(addr);
    M m{};
    {
      std::lock_guard lk(m_);
      const M* found = nullptr;
      for (const M& x : maps_)
        if (a >= x.base && a + len <= x.base + x.len) found = &x;
      if (found == nullptr) return SimIo::msync(addr, len, flags);
      m = *found;
      const std::size_t from = static_cast<std::size_t>(a - m.base);
      if (fail_next_msync.exchange(false)) {
        for (std::size_t p = from / kPage; p * kPage < from + len; ++p) poisoned_.insert({m.ino, p});
        errno = EIO;
        return -1;
      }
    }
    // Sync only the runs of pages that are not poisoned (clean in the kernel's eyes).
    const std::size_t from = static_cast<std::size_t>(a - m.base);
    std::size_t p = from / kPage;
    const std::size_t end = from + len;
    while (p * kPage < end) {
      while (p * kPage < end && is_poisoned(m.ino, p)) ++p;
      std::size_t q = p;
      while (q * kPage < end && !is_poisoned(m.ino, q)) ++q;
      if (q > p) {
        const std::size_t s = std::max(from, p * kPage);
        const std::size_t e = std::min(end, q * kPage);
        if (SimIo::msync(m.base + s, e - s, flags) != 0) return -1;
      }
      p = q;
    }
    return 0;
  }
  /// A write fault dirties a page again (and only that): MADV_POPULATE_WRITE over a range.
  int madvise(void* addr, size_t len, int advice) noexcept override {
    const int rc = SimIo::madvise(addr, len, advice);
#ifdef MADV_POPULATE_WRITE
    if (rc == 0 && advice == MADV_POPULATE_WRITE) {
      auto* a = static_cast<std::byte*>(addr);
      std::lock_guard lk(m_);
      for (const M& x : maps_)
        if (a >= x.base && a + len <= x.base + x.len) {
          const std::size_t from = static_cast<std::size_t>(a - x.base);
          std::erase_if(poisoned_, [&](const auto& k) {
            return k.first == x.ino && k.second >= from / kPage && k.second * kPage < from + len;
          });
        }
    }
#endif
    return rc;
  }
  std::size_t poisoned_pages() {
    std::lock_guard lk(m_);
    return poisoned_.size();
  }

 private:
  struct M {
    std::byte* base;
    std::size_t len;
    ino_t ino;
  };
  bool is_poisoned(ino_t ino, std::size_t p) {
    std::lock_guard lk(m_);
    return poisoned_.count({ino, p}) != 0;
  }
  std::mutex m_;
  std::vector<M> maps_;
  std::set<std::pair<ino_t, std::size_t>> poisoned_;
};

// Records which directories were fsynced (by canonical path).
class DirSyncLog : public JournalIo {
 public:
  int open(const char* path, int flags, mode_t mode) noexcept override {
    const int fd = JournalIo::open(path, flags, mode);
    if (fd >= 0 && (flags & O_DIRECTORY) != 0) {
      std::lock_guard lk(m_);
      std::error_code ec;
      dirs_[fd] = std::filesystem::weakly_canonical(path, ec).string();
    }
    return fd;
  }
  int close(int fd) noexcept override {
    {
      std::lock_guard lk(m_);
      dirs_.erase(fd);
    }
    return JournalIo::close(fd);
  }
  int fsync(int fd) noexcept override {
    const int rc = JournalIo::fsync(fd);
    std::lock_guard lk(m_);
    if (rc == 0 && dirs_.count(fd) != 0) synced_.insert(dirs_[fd]);
    return rc;
  }
  bool synced(const std::string& p) {
    std::lock_guard lk(m_);
    std::error_code ec;
    return synced_.count(std::filesystem::weakly_canonical(p, ec).string()) != 0;
  }
  std::string all() {
    std::lock_guard lk(m_);
    std::string s;
    for (const auto& d : synced_) s += d + " ";
    return s;
  }

 private:
  std::mutex m_;
  std::map<int, std::string> dirs_;
  std::set<std::string> synced_;
};

}  // namespace

TEST_CASE("Journal review: durable_sequence() after opening under batch/every covers only what a power loss keeps",
          "[journal][review]") {
  // Recovery step 7: "Under batch/every, everything recovery keeps ... is synced before
  // anything new: durable_sequence() starts at the last record kept." Recovery syncs only the
  // last segment (and the one before when it rewrote its marker), and never the directory.
  // A journal whose files are not known durable (written under none, copied in, restored)
  // and opened under every reports every record durable at once.
  for (const bool sync_dir_by_hand : {false, true}) {
    DYNAMIC_SECTION((sync_dir_by_hand ? "segment data" : "directory entries")) {
      Scratch t;
      const std::string dir = t.sub("j");
      SimIo io(dir);
      {
        Journal j(dir, {.segment_size = kSeg, .durability = Durability::none, .prepare_next = false, .io = &io});
        for (std::uint64_t s = 1; s <= 120; ++s) (void)j.append(payload_for(s, kMax));
        REQUIRE(j.stats().rolls >= 2);
      }
      if (sync_dir_by_hand) {  // take the directory out of the picture: only the files' data remains
        const int dfd = io.open(dir.c_str(), O_RDONLY | O_DIRECTORY, 0);
        REQUIRE(io.fsync(dfd) == 0);
        (void)io.close(dfd);
      }
      Journal j(dir, {.segment_size = kSeg, .durability = Durability::every, .prepare_next = false, .io = &io});
      const std::uint64_t durable = j.durable_sequence();
      REQUIRE(durable == 120);
      const std::string what = check_state(io.durable_only(), t.sub("state"), durable);
      INFO(what);
      REQUIRE(what.empty());
    }
  }
}

TEST_CASE("Journal review: reopening after a failed sync does not declare durable what the failed writeback lost",
          "[journal][review]") {
  // journal.hpp: "A failed sync is final ... because Linux may mark the pages whose
  // writeback failed clean, so a retry that returns 0 would prove nothing", and failed()
  // says "reopen it to recover". The reopen's recovery msync is exactly that retry: it returns
  // 0 for the clean pages and durable_sequence() then covers records that never reached disk.
  Scratch t;
  const std::string dir = t.sub("j");
  WritebackLossIo io(dir);
  const JournalConfig cfg{.segment_size = std::size_t{64} * 1024,
                          .durability = Durability::batch,
                          .batch_interval = std::chrono::hours(1),
                          .prepare_next = false,
                          .io = &io};
  std::uint64_t before_failure = 0;
  {
    Journal j(dir, cfg);
    for (std::uint64_t s = 1; s <= 100; ++s) (void)j.append(payload_for(s, kMax));
    REQUIRE(j.stats().rolls == 0);
    io.fail_next_msync = true;
    REQUIRE_THROWS_AS(j.flush(), JournalError);
    REQUIRE(j.failed());
    before_failure = j.durable_sequence();
    REQUIRE(before_failure == 0);
  }
  REQUIRE(io.poisoned_pages() >= 4);
  // Only a write fault (MADV_POPULATE_WRITE through the seam, which the model watches) makes
  // a poisoned page dirty again; recovery must make one on every page it declares durable.
  Journal j(dir, cfg);  // "reopen it to recover"
  INFO("durable_sequence() " << before_failure << " before the failed sync, " << j.durable_sequence()
                             << " after the reopen");
  const std::string what = check_state(io.durable_only(), t.sub("state"), j.durable_sequence());
  INFO(what);
  REQUIRE(what.empty());
}

TEST_CASE("Journal review: every directory entry the journal creates is synced under batch/every",
          "[journal][review]") {
  // journal.hpp: "A new directory's own entry must survive a power loss too, or every record
  // in it goes with it, however durable_sequence() was." create_directories makes a/b/j; only
  // b (j's entry) is synced, not a (b's entry) nor the base (a's entry).
  TempDir t;
  DirSyncLog log;
  {
    Journal j(t.sub("a/b/j"),
              {.segment_size = kSeg, .durability = Durability::every, .prepare_next = false, .io = &log});
    REQUIRE(j.append(payload_for(1)) == 1);
    REQUIRE(j.durable_sequence() == 1);
  }
  INFO("directories fsynced: " << log.all());
  CHECK(log.synced(t.sub("a/b/j")));
  CHECK(log.synced(t.sub("a/b")));  // the entry "j"
  CHECK(log.synced(t.sub("a")));    // the entry "b"
  CHECK(log.synced(t.path()));      // the entry "a"
}

TEST_CASE("Journal review: the directory lock goes with the writer, not with a forked child", "[journal][review]") {
  // docs/journal.md, recovery step 0: "The lock goes with the writer's descriptor, so a killed
  // writer releases it." flock belongs to the open file description, which fork() shares:
  // a child forked (without exec) while the journal is open keeps the lock after the writer
  // closed it, and the writer cannot reopen its own journal.
  TempDir t;
  const std::string dir = t.sub("j");
  int go[2];
  REQUIRE(::pipe(go) == 0);
  pid_t pid = -1;
  {
    Journal a(dir, {.segment_size = kSeg});
    REQUIRE(a.append(payload_for(1)) == 1);
    pid = ::fork();
    if (pid == 0) {  // a helper process (a logger, a snapshotter) that knows nothing of the journal
      ::close(go[1]);
      char c;
      (void)::read(go[0], &c, 1);
      ::_exit(0);
    }
    ::close(go[0]);
  }
  std::string error;
  try {
    Journal b(dir, {.segment_size = kSeg});
    REQUIRE(b.recovery().next_sequence == 2);
  } catch (const JournalError& e) {
    error = e.what();
  }
  ::close(go[1]);
  int status = 0;
  (void)::waitpid(pid, &status, 0);
  INFO(error);
  REQUIRE(error.empty());
}

TEST_CASE("Journal review: a claim never committed is discarded on reopen under none, whatever its payload holds",
          "[journal][review]") {
  // journal.hpp: "A claim that is never committed is discarded"; recovery: "Under none ...
  // No crash of a process can leave [whole records behind a bad one]". A claim whose payload
  // carries a record image (a replicator or archiver journaling another journal's frames)
  // and is abandoned, or cut short by kill -9, leaves exactly that, and under none the
  // journal then refuses to open at all.
  TempDir t;
  const std::string dir = t.sub("j");
  {
    Journal j(dir, {.segment_size = kSeg});
    for (std::uint64_t s = 1; s <= 5; ++s) REQUIRE(j.append(payload_for(s)) == s);
    // The frame being forwarded: records 7 and 8 of an upstream journal numbered like this one.
    auto span = j.claim(400);
    std::size_t off = 0;
    for (std::uint64_t seq = 7; seq <= 8; ++seq) {
      const auto p = payload_for(seq);
      hft::detail::RecordHeader h{};
      h.commit = hft::detail::kCommitted | static_cast<std::uint32_t>(p.size());
      h.sequence = seq;
      h.timestamp_ns = 1;
      h.crc = hft::detail::record_crc(static_cast<std::uint32_t>(p.size()), seq, 1, p.data());
      if (off + hft::detail::record_size(p.size()) > span.size()) break;
      std::memcpy(span.data() + off, &h, sizeof h);
      std::memcpy(span.data() + off + sizeof h, p.data(), p.size());
      off += hft::detail::record_size(p.size());
    }
    // The upstream connection drops: the claim is abandoned, the process stops cleanly.
  }
  std::string error;
  std::uint64_t next = 0;
  try {
    Journal j(dir, {.segment_size = kSeg});
    next = j.recovery().next_sequence;
  } catch (const JournalError& e) {
    error = e.what();
  }
  INFO(error);
  REQUIRE(error.empty());
  REQUIRE(next == 6);
  REQUIRE(read_all(dir).count == 5);
}

TEST_CASE("Journal review: after a roll fails to install the spare, the preparer makes the next one",
          "[journal][review]") {
  // journal.hpp: "with prepare_next (the default) a background thread has the next file
  // preallocated and pre-faulted". A roll that took the spare and failed to install it
  // (rename EIO, a failed header msync or directory fsync) discards it without waking the
  // preparer, whose wait predicate is now true: no spare is made until some later roll
  // succeeds, so that roll runs unprepared (~25 ms per 64 MiB on the writer's thread).
  Scratch t;
  const std::string dir = t.sub("j");
  SimIo io(dir);
  Journal j(dir, {.segment_size = kSeg, .durability = Durability::none, .prepare_next = true, .io = &io});
  for (int i = 0; i < 2000 && !j.next_segment_ready(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  REQUIRE(j.next_segment_ready());
  io.fail_at(1, EIO, {"rename"});
  std::uint64_t s = 1;
  while (j.try_append(payload_for(s, kMax))) ++s;
  REQUIRE(io.failed_call() == "rename");
  REQUIRE(j.stats().rolls == 0);
  bool ready = false;
  for (int i = 0; i < 2000 && !ready; ++i) {
    ready = j.next_segment_ready();
    if (!ready) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  REQUIRE(j.try_append(payload_for(s, kMax)));
  INFO("spare ready within 2 s after the failed roll: " << ready << "; rolls_unprepared "
                                                        << j.stats().rolls_unprepared);
  REQUIRE(ready);
  REQUIRE(j.stats().rolls_unprepared == 0);
}

TEST_CASE("Journal review: batch with a live flusher, a preparer and a concurrent flush() never over-reports",
          "[journal][review][coverage]") {
  // Coverage: the fault suite's power-loss runs are single-threaded (flusher every hour,
  // prepare_next off). Here the flusher runs every 50 us, the preparer makes the spares, and a
  // second thread calls flush() while the writer rolls through many segments; at the end, with
  // the power cut before the destructor's sync, the durable-only state keeps every record up
  // to the highest durable_sequence() any thread observed.
  Scratch t;
  const std::string dir = t.sub("j");
  SimIo io(dir);
  std::atomic<std::uint64_t> seen{0};
  std::atomic<bool> stop{false};
  std::atomic<bool> over{false};
  {
    Journal j(dir, {.segment_size = kSeg,
                    .durability = Durability::batch,
                    .batch_interval = std::chrono::microseconds(50),
                    .batch_records = 7,
                    .prepare_next = true,
                    .io = &io});
    std::thread flusher2([&] {
      while (!stop.load()) {
        try {
          j.flush();
        } catch (const JournalError&) {
        }
        const auto d = j.durable_sequence();
        if (d > seen.load()) seen.store(d);
        if (d > j.last_sequence()) over.store(true);
      }
    });
    for (std::uint64_t s = 1; s <= 1500; ++s) {
      if (s % 13 == 0) {
        auto span = j.claim(kMax + 100);
        std::memset(span.data(), 0xFF, span.size());
        const auto p = payload_for(s, kMax);
        std::memcpy(span.data(), p.data(), p.size());
        REQUIRE(j.commit(p.size()) == s);
      } else {
        REQUIRE(j.append(payload_for(s, kMax)) == s);
      }
    }
    stop = true;
    flusher2.join();
    const auto d = j.durable_sequence();
    if (d > seen.load()) seen.store(d);
    REQUIRE_FALSE(over.load());
    REQUIRE(j.stats().rolls > 20);
    REQUIRE_FALSE(j.failed());
    const std::string what = check_state(io.durable_only(), t.sub("state"), seen.load());
    INFO(what);
    REQUIRE(what.empty());
  }
  REQUIRE(read_all(dir, 1, kMax).count == 1500);
}
