// hft/journal/journal.hpp: Journal, an append-only, memory-mapped, crash-recoverable log of
// variable-length records (the writer side; JournalReader tails it).
//
// What: records go into fixed-size, preallocated and pre-faulted segment files
//   (`DIR/<first-seq>.journal`, format in journal_format.hpp). An append claims space in
//   the mapped segment, the payload is written in place, and one release store of the
//   record's 32-bit commit word publishes it to every reader, in this process or another.
//   When a record does not fit, the writer creates the next segment and then marks the old
//   one ended. Opening a journal recovers it: the last segment is scanned, a torn tail is
//   cut off (and reported), and the sequence continues after the last whole record; the
//   segment before it is checked for its end marker. A zero commit word ends the data, and
//   whatever stands behind it (a claim never committed, or pages a power loss kept past a
//   lost one) is cut and counted. Whole records behind a published record that fails its
//   check are damage under none (JournalCorrupt: no crash of a process leaves them); under
//   batch/every a power loss can (pages reach the disk in any order), so they are cut and
//   counted too, none of them having been durable. docs/journal.md, "Faults".
// When to use: event sourcing (journal every input, rebuild state by replay, as LMAX
//   does), an audit trail on the hot path, handing records to another process.
// When not: a record per many-megabyte blob (the segment bounds a record); several
//   processes appending to one journal (one writer, enforced by a lock on the directory;
//   give each writer its own journal);
//   portable files across architectures (little-endian, native layout).
// Thread-safety: one writer thread calls claim/commit/append/try_append (and the
//   destructor). The reason is the commit protocol: records are placed by a plain cursor,
//   and a second writer would need an atomic claim plus out-of-order commits that readers
//   must skip over, the cost this design exists to avoid (use a queue in front of the
//   journal to merge producers). flush(), durable_sequence(), last_sequence() and stats()
//   may be called from any thread. Readers are JournalReader objects, any number.
// Progress: append/commit under Durability::none are wait-free, except a segment roll,
//   once per segment: with prepare_next (the default) a background thread has the next
//   file preallocated and pre-faulted (and unmaps the old one), and the roll renames it; without a ready
//   spare the roll creates it (~25 ms per 64 MiB). Under every, each commit blocks in
//   msync. Under batch, commit never blocks on I/O; the flusher thread (or flush()) does,
//   and a roll waits for a flush in progress.
// Memory ordering: commit() release-stores the commit word (pairs with JournalReader's
//   acquire load of it), then release-stores committed_end and last_sequence (pair with
//   flush()'s acquire loads, so a flush covers every byte of the records it declares
//   durable). The flush release-stores durable_sequence (pairs with durable_sequence()'s
//   acquire load: a thread that sees sequence s durable may act on it, e.g. send a reply).
// Durability:
//   none   a committed record survives a crash of this process (the page cache has it);
//          not a power loss or kernel crash. durable_sequence() == last_sequence().
//   batch  group commit: a flusher thread msyncs the committed range every batch_interval,
//          or sooner after batch_records appends; durable_sequence() trails by about that.
//   every  msync after each commit; durable_sequence() == last_sequence() on return.
//   Opening under batch/every makes everything recovery keeps durable first: every segment
//   file and the directory are synced, and the last segment's pages are write-faulted
//   before their sync, so a page whose writeback failed in an earlier life is written again
//   (this writes the last segment's records once per open).
//   A sync that fails (EIO, ENOSPC) is final for this object: failed() turns true,
//   durable_sequence() never moves again, and flush/claim/append throw (try_append is
//   false), because Linux may mark the pages whose writeback failed clean, so a retry that
//   returns 0 would prove nothing. A roll syncs the old segment's records and its end
//   marker before the new segment takes a record, so no power loss leaves a durable record
//   where a reader cannot reach it.
// Complexity: append O(payload) (copy + CRC32C, ~0.1 ns/byte with SSE4.2); no allocation
//   and no system call on the append path after construction, except a roll and `every`'s
//   msync. Recovery O(last segment size). Memory: one mapping of segment_size.
// Compared with: Chronicle Queue (Java) is the model: memory-mapped, append-only, tailed
//   live by other processes; it spends a 4-byte header word the same way. Ours is header-
//   only C++, checks a CRC32C per record (Chronicle has none by default) and refuses to skip
//   a corrupt middle record. LMAX journals by a consumer on the input ring; this is the
//   store such a consumer writes to. Aeron Archive records streams over its log buffers;
//   it is a service, this a library.
// Errors: a failed system call or a record larger than max_payload() throws JournalError
//   from append/claim (try_append returns false instead); a roll that fails before it moves
//   the writer (a full disk, RLIMIT_FSIZE: never SIGXFSZ) changes nothing, and the next claim
//   tries again; a damaged segment found on open throws JournalCorrupt naming the file and
//   offset; a second Journal on the same directory, in any process, throws JournalError.
//   Every system call goes through JournalConfig::io (journal_io.hpp), where the tests
//   inject an error at each call and enumerate what a power loss at each call can leave.
// Lifecycle: not copyable or movable (the flusher and preparer threads hold `this`). The
//   destructor stops both, removes an unused spare segment and, under batch/every, syncs
//   what is committed. A claim that is never
//   committed is discarded.
#pragma once

#include <pthread.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "hft/core/assert.hpp"
#include "hft/core/cache.hpp"
#include "hft/core/clock.hpp"
#include "hft/journal/journal_format.hpp"
#include "hft/journal/journal_io.hpp"

namespace hft {

namespace detail {
// The directory locks of the live Journals in this process. flock belongs to the open file
// description, which fork() shares with the child: a child forked without exec (a snapshot,
// a helper) would hold the writer's lock for as long as it lives, and a restarted writer
// would be refused. A pthread_atfork child handler closes the child's copies, so the lock
// stays with the writer's own descriptor.
class JournalLocks {
 public:
  static void add(int* fd) {
    JournalLocks& r = get();
    std::call_once(r.once_, [] { (void)::pthread_atfork(&prepare, &parent, &child); });
    std::lock_guard lk(r.mutex_);
    r.fds_.push_back(fd);  // allocates: once per Journal, at open
  }
  static void remove(int* fd) noexcept {
    JournalLocks& r = get();
    std::lock_guard lk(r.mutex_);
    std::erase(r.fds_, fd);
  }

 private:
  static JournalLocks& get() noexcept {
    static JournalLocks r;
    return r;
  }
  // Held across fork, so the child finds the list whole; the child's only thread releases it.
  static void prepare() noexcept { get().mutex_.lock(); }
  static void parent() noexcept { get().mutex_.unlock(); }
  static void child() noexcept {
    JournalLocks& r = get();
    for (int* fd : r.fds_) {
      (void)::close(*fd);  // not through JournalIo: a test's io may hold a lock the fork copied
      *fd = -1;
    }
    r.mutex_.unlock();
  }
  std::mutex mutex_;
  std::vector<int*> fds_;
  std::once_flag once_;
};
}  // namespace detail

/// When committed records reach the disk: none (the OS decides; a process crash loses nothing,
/// a power loss may), batch (a flusher thread msyncs every batch_interval) or every (each
/// commit msyncs).
enum class Durability { none, batch, every };

/// Settings of a Journal: segment size, durability, the first sequence, preparation of the next
/// segment, and the system-call layer.
struct JournalConfig {
  std::size_t segment_size = std::size_t{64} << 20;  ///< bytes per segment file, a multiple of 4096
  Durability durability = Durability::none;          ///< when commits reach the disk
  std::chrono::microseconds batch_interval{1000};    ///< batch: the flusher's period
  std::uint64_t batch_records = 0;                   ///< batch: also flush after this many appends (0: time only)
  std::uint64_t first_sequence = 1;                  ///< the sequence of a new journal's first record
  /// A background thread prepares (preallocates and pre-faults) the next segment ahead, so
  /// a roll costs a rename (~20 us) instead of the whole creation (~25 ms for 64 MiB) on
  /// the writer's thread. Costs one thread, asleep but for that work, and one segment of disk.
  bool prepare_next = true;
  /// Every system call on the journal's files goes through this (null: JournalIo::posix()).
  /// Tests put a fault injector or a power-loss simulator here; it must outlive the Journal.
  JournalIo* io = nullptr;
};

/// What opening the journal found and did.
struct JournalRecovery {
  std::uint64_t segments = 0;            ///< segment files present after recovery
  std::uint64_t records = 0;             ///< whole records in the last segment
  std::uint64_t next_sequence = 0;       ///< the sequence the next append gets
  std::uint64_t dropped_records = 0;     ///< torn or failed-CRC records cut from the tail
  /// Of those, whole records (CRC and sequence good) that stood behind the damage: behind a
  /// zero commit word (a claim never committed may hold record images; a power loss may keep
  /// a later page and lose an earlier one), or, under batch/every, behind a record that fails
  /// its check. None of them was durable (docs/journal.md, "Faults"). Under none a failing
  /// published record with whole records behind it throws JournalCorrupt instead.
  std::uint64_t dropped_whole_records = 0;
  std::uint64_t dropped_bytes = 0;       ///< bytes cleared from the tail
  std::uint64_t removed_segments = 0;    ///< empty last segments (and temporary files) removed
  std::string truncated_segment{};       ///< the file that was cut, empty if none
  std::string resealed_segment{};        ///< the segment before the last, if its end marker was missing and written
  std::uint64_t truncated_offset = 0;    ///< where it was cut
};

/// Counters of a Journal since it was opened, returned by value from stats().
struct JournalStats {
  std::uint64_t appended = 0;          ///< records committed by this object
  std::uint64_t payload_bytes = 0;     ///< their payload bytes
  std::uint64_t segments_created = 0;  ///< segment files this object created
  std::uint64_t syncs = 0;             ///< msync calls that advanced durable_sequence()
  std::uint64_t sync_failures = 0;     ///< syncs that failed: the first one makes failed() true
  std::uint64_t append_failures = 0;   ///< try_append calls that returned false
  std::uint64_t rolls = 0;             ///< segments this object moved on to
  std::uint64_t rolls_unprepared = 0;  ///< of those, created on the writer's thread (no spare ready)
  std::uint64_t prepare_failures = 0;  ///< the preparer's failed attempts (it retries after 1 s)
};

/// An append-only, memory-mapped journal of sequenced, CRC-checked records in segment files:
/// writers append and commit, JournalReader replays, recovery cuts a torn tail.
class Journal {
 public:
  /// Opens (creating the directory and first segment if needed) and recovers the journal
  /// in `dir`. Throws std::invalid_argument for a bad config, JournalError for an I/O
  /// failure, JournalCorrupt for damage that recovery must not repair.
  explicit Journal(std::string dir, const JournalConfig& cfg = {})
      : dir_(std::move(dir)), cfg_(cfg), io_(detail::io_or_posix(cfg.io)), tsc_(std::chrono::milliseconds(2)) {
    if (cfg_.segment_size < detail::kMinSegmentSize || cfg_.segment_size > detail::kMaxSegmentSize ||
        cfg_.segment_size % 4096 != 0)
      throw std::invalid_argument("hft::Journal: segment_size must be a multiple of 4096 in [4096, 2^30], got " +
                                  std::to_string(cfg_.segment_size));
    if (cfg_.first_sequence == 0) throw std::invalid_argument("hft::Journal: first_sequence must be >= 1, got 0");
    if (cfg_.durability == Durability::batch && cfg_.batch_interval.count() <= 0)
      throw std::invalid_argument("hft::Journal: batch_interval must be > 0, got " +
                                  std::to_string(cfg_.batch_interval.count()) + "us");
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    wall_base_ns_ = static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
    tick_base_ = TscClock::ticks();
    // posix_fallocate past RLIMIT_FSIZE fails with EFBIG (journal_format.hpp keeps SIGXFSZ
    // from killing us): a segment size above the limit could never be created, so say so now.
    rlimit fsize{};
    if (::getrlimit(RLIMIT_FSIZE, &fsize) == 0 && fsize.rlim_cur != RLIM_INFINITY &&
        cfg_.segment_size > fsize.rlim_cur)
      throw JournalError("hft::Journal: segment_size " + std::to_string(cfg_.segment_size) +
                         " exceeds this process's RLIMIT_FSIZE (" + std::to_string(fsize.rlim_cur) + " bytes)");
    make_directories();
    lock_directory();
    recover();
    if (cfg_.durability == Durability::batch) flusher_ = std::thread([this] { flusher_loop(); });
    if (cfg_.prepare_next) preparer_ = std::thread([this] { preparer_loop(); });
  }

  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  ~Journal() {
    {
      std::lock_guard lk(mutex_);
      stop_ = true;
    }
    cv_.notify_one();
    prep_cv_.notify_one();
    if (flusher_.joinable()) flusher_.join();
    if (preparer_.joinable()) preparer_.join();
    if (spare_.is_open()) {
      ::unlink(spare_.path().c_str());  // an unused spare; recovery would remove it too
      spare_.reset();
    }
    // A claim never committed leaves its bytes behind the last record: clear them, so a clean
    // close leaves nothing for recovery to cut (a crash leaves them, and recovery cuts them).
    if (seg_.is_open() && dirty_end_ > pos_ && !sealed_)
      std::memset(seg_.base() + pos_ + 4, 0, dirty_end_ - pos_ - 4);  // the commit word is 0 already
    if (cfg_.durability != Durability::none) {
      std::lock_guard lk(mutex_);
      (void)sync_locked();
    }
    // dir_fd_ (and with it the lock) closes after the members that use it.
  }

  /// Writer thread. Reserves room for a payload of up to `max_len` bytes and returns it,
  /// to be filled in place and published by commit(). Rolls to a new segment if needed.
  /// A second claim before commit replaces the first. Throws JournalError if `max_len`
  /// exceeds max_payload(), if the roll fails (nothing changes: the next claim tries again),
  /// or if the journal has failed() (a sync failed: nothing more can be made durable).
  [[nodiscard]] std::span<std::byte> claim(std::size_t max_len) {
    if (failed_.load(std::memory_order_relaxed)) throw_failed();
    if (max_len > max_payload())
      throw JournalError("hft::Journal: record of " + std::to_string(max_len) + " bytes exceeds max_payload() " +
                         std::to_string(max_payload()));
    if (sealed_ || pos_ + detail::record_size(max_len) > seg_.size()) roll();
    // The caller may write anywhere in the claim and commit less, or abandon it: every byte
    // up to here may now hold something no record owns, until a record's commit covers it.
    dirty_end_ = std::max(dirty_end_, pos_ + detail::record_size(max_len));
    claim_len_ = max_len;
    claimed_ = true;
    return {seg_.base() + pos_ + detail::kRecordHeaderSize, max_len};
  }

  /// Writer thread, after claim(). Publishes the first `len` (<= the claim) bytes as the
  /// next record, stamped now; returns its sequence. Release: a reader that sees the
  /// record sees its payload. Under `every`, returns once it is on disk (throws
  /// JournalError, the record committed but not durable, if msync fails).
  std::uint64_t commit(std::size_t len) { return commit(len, now_ns()); }
  /// Writer thread. As commit(len), with the caller's timestamp.
  std::uint64_t commit(std::size_t len, std::uint64_t timestamp_ns) {
    HFT_ASSERT(claimed_, "Journal::commit: no claim to commit");
    HFT_ASSERT(len <= claim_len_, "Journal::commit: len exceeds the claim");
    claimed_ = false;
    const std::uint64_t seq = next_seq_;
    detail::RecordHeader* h = seg_.record(pos_);
    const auto len32 = static_cast<std::uint32_t>(len);
    h->sequence = seq;
    h->timestamp_ns = timestamp_ns;
    h->crc = detail::record_crc(len32, seq, timestamp_ns, seg_.base() + pos_ + detail::kRecordHeaderSize);
    const std::size_t next = pos_ + detail::record_size(len);
    // The next record's commit word must read 0 until that record is committed. This claim or
    // an earlier one (committed shorter, or abandoned) may have written it: dirty_end_ is the
    // furthest byte any claim in this segment exposed. Ordered before the release below.
    if (next < dirty_end_) seg_.commit_word(next).store(0, std::memory_order_relaxed);
    // Publishes the record: pairs with JournalReader's acquire load of this word.
    seg_.commit_word(pos_).store(detail::kCommitted | len32, std::memory_order_release);
    pos_ = next;
    ++next_seq_;
    bump(stats_appended_);
    stats_bytes_.store(stats_bytes_.load(std::memory_order_relaxed) + len, std::memory_order_relaxed);
    // End before sequence: flush() loads sequence then end (acquire both), so the end it
    // sees covers every record up to the sequence it declares durable.
    committed_end_.store(pos_, std::memory_order_release);
    last_seq_.store(seq, std::memory_order_release);  // pairs with flush()/last_sequence()
    if (cfg_.durability == Durability::every) {
      flush();
    } else if (cfg_.durability == Durability::batch && cfg_.batch_records != 0 &&
               seq - last_kick_ >= cfg_.batch_records) {
      last_kick_ = seq;
      kick_.store(true, std::memory_order_relaxed);  // a hint; the timed wait bounds a lost wakeup
      cv_.notify_one();
    }
    return seq;
  }

  /// Writer thread. claim + copy + commit. Returns the sequence; throws as claim/commit.
  std::uint64_t append(std::span<const std::byte> payload) {
    auto dst = claim(payload.size());
    if (!payload.empty()) std::memcpy(dst.data(), payload.data(), payload.size());
    return commit(payload.size());
  }
  /// Writer thread. As append(span), from raw bytes.
  std::uint64_t append(const void* data, std::size_t n) {
    return append(std::span<const std::byte>(static_cast<const std::byte*>(data), n));
  }
  /// Writer thread. As append, but returns false (and counts it in stats()) instead of
  /// throwing: a record larger than max_payload(), a roll that failed (disk full), an
  /// `every` sync that failed (then the record is committed but not durable), or a journal
  /// that has failed().
  [[nodiscard]] bool try_append(std::span<const std::byte> payload) noexcept {
    try {
      (void)append(payload);
      return true;
    } catch (...) {
      claimed_ = false;
      bump(stats_append_failures_);
      return false;
    }
  }

  /// Any thread. Makes every record committed so far durable (msync), then publishes
  /// durable_sequence() (release). Throws JournalError if this msync or an earlier one
  /// failed (see failed()).
  void flush() {
    std::lock_guard lk(mutex_);
    if (!sync_locked()) throw JournalError(failure_);
  }

  /// Any thread. True once a sync has failed (stats().sync_failures > 0). From then on
  /// durable_sequence() never moves, flush() throws, and claim/append throw (try_append
  /// returns false): Linux may drop or mark clean the pages whose writeback failed, so a
  /// later msync that returns 0 would prove nothing about them (PostgreSQL's "fsyncgate").
  /// Reopening the journal recovers from what the files hold. Never true under none.
  [[nodiscard]] bool failed() const noexcept { return failed_.load(std::memory_order_acquire); }

  /// Any thread (acquire; pairs with the flush's release store). Every record up to this
  /// sequence is durable under the configured policy; 0 (first_sequence - 1) for none yet.
  [[nodiscard]] std::uint64_t durable_sequence() const noexcept {
    if (cfg_.durability == Durability::none) return last_sequence();
    return durable_seq_.load(std::memory_order_acquire);
  }
  /// Any thread (acquire; pairs with commit's release). The last committed sequence.
  [[nodiscard]] std::uint64_t last_sequence() const noexcept { return last_seq_.load(std::memory_order_acquire); }
  /// Writer thread. The sequence the next commit gets.
  [[nodiscard]] std::uint64_t next_sequence() const noexcept { return next_seq_; }
  /// The largest payload one record can hold (segment_size - 88).
  [[nodiscard]] std::size_t max_payload() const noexcept { return detail::max_payload_for(cfg_.segment_size); }
  /// What opening the journal found and repaired.
  [[nodiscard]] const JournalRecovery& recovery() const noexcept { return recovery_; }
  /// The configuration it was opened with.
  [[nodiscard]] const JournalConfig& config() const noexcept { return cfg_; }
  /// The journal's directory.
  [[nodiscard]] const std::string& directory() const noexcept { return dir_; }

  /// Any thread. Relaxed loads: statistics, not synchronisation.
  [[nodiscard]] JournalStats stats() const noexcept {
    JournalStats s;
    s.appended = stats_appended_.load(std::memory_order_relaxed);
    s.payload_bytes = stats_bytes_.load(std::memory_order_relaxed);
    s.segments_created = stats_segments_.load(std::memory_order_relaxed);
    s.syncs = stats_syncs_.load(std::memory_order_relaxed);
    s.sync_failures = stats_sync_failures_.load(std::memory_order_relaxed);
    s.append_failures = stats_append_failures_.load(std::memory_order_relaxed);
    s.rolls = stats_rolls_.load(std::memory_order_relaxed);
    s.rolls_unprepared = stats_rolls_unprepared_.load(std::memory_order_relaxed);
    s.prepare_failures = stats_prepare_failures_.load(std::memory_order_relaxed);
    return s;
  }

  /// Any thread. True when the next roll will find a prepared segment (prepare_next).
  [[nodiscard]] bool next_segment_ready() const {
    std::lock_guard lk(mutex_);
    return spare_.is_open();
  }

  /// Wall-clock nanoseconds from the TSC, anchored to CLOCK_REALTIME at open (a few ns
  /// instead of clock_gettime's ~20-50 ns).
  [[nodiscard]] std::uint64_t now_ns() const noexcept {
    return wall_base_ns_ + tsc_.delta_to_ns(TscClock::ticks() - tick_base_);
  }

 private:
  // One writer stores each counter; a load+store pair is a plain add, where fetch_add
  // would be a locked instruction on the append path.
  static void bump(std::atomic<std::uint64_t>& c) noexcept {
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }

  [[nodiscard]] bool durable_policy() const noexcept { return cfg_.durability != Durability::none; }

  // The directory's descriptor, which holds the lock: closes itself through the journal's
  // JournalIo, and in a forked child (detail::JournalLocks).
  struct Fd {
    JournalIo* io = nullptr;
    int fd = -1;
    bool registered = false;
    Fd() = default;
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() {
      if (registered) detail::JournalLocks::remove(&fd);
      if (fd >= 0) (void)io->close(fd);
    }
  };

  // Creates the directory and any missing parent. Under batch/every one level at a time,
  // each new entry synced in its parent: a directory whose own entry a power loss can take
  // takes every record in it, however durable_sequence() was.
  void make_directories() {
    // The prefixes of dir_ ("a", "a/b", ...), without empty and "." components.
    const bool absolute = !dir_.empty() && dir_[0] == '/';
    std::vector<std::string> prefixes;
    std::string p = absolute ? "/" : "";
    std::size_t i = 0;
    while (i < dir_.size()) {
      const std::size_t end = std::min(dir_.find('/', i), dir_.size());
      const std::string_view part(dir_.data() + i, end - i);
      i = end + 1;
      if (part.empty() || part == ".") continue;
      if (!p.empty() && p.back() != '/') p += '/';
      p += part;
      prefixes.push_back(p);
    }
    std::size_t first_missing = prefixes.size();
    struct stat st{};
    while (first_missing > 0 && ::stat(prefixes[first_missing - 1].c_str(), &st) != 0) --first_missing;
    for (std::size_t k = first_missing; k < prefixes.size(); ++k) {
      const std::string& d = prefixes[k];
      if (::mkdir(d.c_str(), 0777) != 0 && errno != EEXIST) {
        const int e = errno;
        throw JournalError("hft::Journal: cannot create " + d + ": " + std::generic_category().message(e));
      }
      if (!durable_policy()) continue;
      const std::size_t slash = d.find_last_of('/');
      detail::MappedSegment::sync_directory(io_, slash == std::string::npos ? std::string(".")
                                                 : slash == 0               ? std::string("/")
                                                                            : d.substr(0, slash));
    }
  }

  // One writer per directory, enforced: an advisory lock on the directory itself (flock, so
  // it goes with the descriptor: a killed writer releases it, and a second Journal in the same
  // process conflicts like one in another). Readers take no lock. The descriptor also serves
  // the directory fsyncs.
  void lock_directory() {
    dir_fd_.io = &io_;
    dir_fd_.fd = detail::retry_eintr([&] { return io_.open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0); });
    if (dir_fd_.fd < 0) detail::throw_errno("open", dir_);
    detail::JournalLocks::add(&dir_fd_.fd);
    dir_fd_.registered = true;
    if (detail::retry_eintr([&] { return io_.flock(dir_fd_.fd, LOCK_EX | LOCK_NB); }) != 0) {
      if (errno == EWOULDBLOCK)
        throw JournalError("hft::Journal: " + dir_ +
                           " is already open for writing by another Journal (this process or another): one writer "
                           "per journal");
      detail::throw_errno("flock", dir_);
    }
  }

  void sync_dir() {
    if (detail::retry_eintr([&] { return io_.fsync(dir_fd_.fd); }) != 0) detail::throw_errno("fsync", dir_);
  }

  void recover() {
    auto segs = detail::list_segments(dir_);
    constexpr std::string_view kTmp = ".journal.tmp";
    (void)detail::for_each_dir_entry(dir_, [&](std::string_view name) {
      if (name.size() > kTmp.size() && name.substr(name.size() - kTmp.size()) == kTmp) {
        (void)io_.unlink(detail::path_join(dir_, name).c_str());  // a crash during a roll left it
        ++recovery_.removed_segments;
      }
    });
    // What recovery keeps becomes durable (under batch/every) before anything new: the pages
    // it declares durable, and the pages it cleared (so a cut tail cannot come back).
    std::size_t sync_prev_to = 0;
    detail::MappedSegment prev;
    if (!segs.empty()) {
      auto [first, path] = segs.back();
      seg_ = detail::MappedSegment::open(io_, path, first, true);
      if (!scan_tail(true) && segs.size() > 1) {
        // An empty last segment. If the one before is sealed (its end marker leads readers
        // here), keep it. If not, the writer died between creating it and sealing the one
        // before: remove it and continue in the earlier one, so readers there are not left
        // waiting at its end.
        auto last = std::move(seg_);
        const auto& [prev_first, prev_path] = segs[segs.size() - 2];
        seg_ = detail::MappedSegment::open(io_, prev_path, prev_first, true);
        const JournalRecovery before = recovery_;
        if (scan_tail(false) && sealed_ && next_seq_ == first) {
          // The marker may be in the page cache only (a roll whose marker sync failed).
          sync_prev_to = pos_ + 4;
          prev = std::move(seg_);
          recovery_ = before;
          recovery_.records = 0;
          seg_ = std::move(last);
          sealed_ = false;
          pos_ = detail::kSegmentHeaderSize;
          next_seq_ = first;
        } else {
          last.reset();
          if (io_.unlink(path.c_str()) != 0) detail::throw_errno("unlink", path);
          ++recovery_.removed_segments;
          segs.pop_back();
        }
      }
    }
    if (segs.size() >= 2 && !prev.is_open()) {
      // The last segment holds records: the one before must lead readers to it.
      const auto& [prev_first, prev_path] = segs[segs.size() - 2];
      prev = detail::MappedSegment::open(io_, prev_path, prev_first, true);
      sync_prev_to = check_seal(prev, seg_.first_sequence());
    }
    if (segs.empty()) {
      seg_ = detail::MappedSegment::prepare(io_, dir_ + "/" + detail::segment_name(cfg_.first_sequence) + ".tmp",
                                            cfg_.segment_size, durable_policy());
      seg_.install(dir_, cfg_.first_sequence, now_ns(), durable_policy());
      if (durable_policy()) sync_dir();
      bump(stats_segments_);
      segs.emplace_back(cfg_.first_sequence, seg_.path());
      pos_ = detail::kSegmentHeaderSize;
      next_seq_ = cfg_.first_sequence;
    } else {
      // Under batch/every from the start: recovery is about to declare every kept record
      // durable, and a page whose writeback failed in an earlier life may be clean in the
      // kernel's eyes; a write fault makes it dirty, so the sync below really writes it.
      seg_.prefault(durable_policy() ? 0 : pos_);
    }
    recovery_.segments = segs.size();
    recovery_.next_sequence = next_seq_;
    committed_end_.store(pos_, std::memory_order_relaxed);
    dirty_end_ = pos_;  // recovery left nothing but zeros after pos_
    synced_end_ = durable_policy() ? detail::kSegmentHeaderSize : pos_;
    last_seq_.store(next_seq_ - 1, std::memory_order_relaxed);
    if (durable_policy()) {
      const std::size_t cleared_end =
          recovery_.truncated_segment.empty() ? 0 : recovery_.truncated_offset + recovery_.dropped_bytes;
      if (prev.is_open() && sync_prev_to != 0) {
        prev.prefault(sync_prev_to - 4, sync_prev_to);  // the marker's page, as above
        if (!prev.sync_range(0, sync_prev_to)) detail::throw_errno("msync", prev.path());
      }
      if (!seg_.sync_range(0, std::max(pos_, cleared_end))) detail::throw_errno("msync", seg_.path());
      // The segments before: a journal written under none (or copied in) was never synced,
      // and its files, their allocation and its directory entries must be durable before
      // durable_sequence() covers them. A file already synced costs a call that writes nothing.
      for (const auto& entry : segs) {
        const std::string& path = entry.second;
        if (path == seg_.path() || (sync_prev_to != 0 && path == prev.path())) continue;
        const int fd = detail::retry_eintr([&] { return io_.open(path.c_str(), O_RDONLY | O_CLOEXEC, 0); });
        if (fd < 0) detail::throw_errno("open", path);
        const int rc = detail::retry_eintr([&] { return io_.fdatasync(fd); });
        const int e = errno;
        (void)io_.close(fd);
        if (rc != 0) detail::throw_error("fdatasync", path, e);
      }
      sync_dir();
      synced_end_ = pos_;
    }
    durable_seq_.store(next_seq_ - 1, std::memory_order_relaxed);
  }

  // The segment before the last: walks its records by their lengths (no CRC: readers check
  // those) to its end marker. A missing marker (a power loss under none, or an older writer
  // that did not sync it) leaves readers waiting at that segment's end forever, so: if its
  // records run exactly up to the next segment's first sequence, the marker is written (and
  // counted in recovery().resealed_segment); if not, records are missing between the two
  // files and that is JournalCorrupt, never a reader that stops silently. Returns the end of
  // what to sync (0: nothing changed).
  std::size_t check_seal(const detail::MappedSegment& s, std::uint64_t next_first) {
    std::size_t pos = detail::kSegmentHeaderSize;
    std::uint64_t seq = s.first_sequence();
    while (pos + 4 <= s.size()) {
      const std::uint32_t c = s.commit_word(pos).load(std::memory_order_acquire);
      const auto check = detail::check_record(s, pos, c, seq, false);
      if (check == detail::RecordCheck::end_of_segment) {
        // A writer never seals a segment before its first record: a reader would follow
        // that marker back into the same file.
        if (seq == s.first_sequence()) throw JournalCorrupt(s.path(), pos, "end of segment before its first record");
        return 0;
      }
      if (check != detail::RecordCheck::ok) break;
      pos += detail::record_size(c & ~detail::kCommitted);
      ++seq;
    }
    if (seq != next_first)
      throw JournalCorrupt(s.path(), pos,
                           "the segment ends at sequence " + std::to_string(seq - 1) +
                               " without an end marker, and the next one starts at " + std::to_string(next_first) +
                               (seq < next_first ? ": records " + std::to_string(seq) + ".." +
                                                       std::to_string(next_first - 1) + " are missing"
                                                 : ": the two files overlap"));
    if (pos + 4 > s.size()) return 0;  // full to the last byte: readers move on without a marker
    // Release, as the writer's marker: pairs with a live reader's acquire load. Whatever
    // follows it is never read.
    s.commit_word(pos).store(detail::kEndOfSegment, std::memory_order_release);
    recovery_.resealed_segment = s.path();
    return pos + 4;
  }

  // Scans seg_ from its first record; sets pos_/next_seq_ after the last whole record,
  // cuts a torn tail, and returns whether the segment holds any record (or an end marker).
  // In the last segment (`last`) an end marker is a tail too: the writer stores one only after
  // the next file has its name, so a marker with no next file is damage or a next file a
  // power loss took (under none), and the sequence goes on here.
  bool scan_tail(bool last) {
    std::size_t pos = detail::kSegmentHeaderSize;
    std::uint64_t seq = seg_.first_sequence();
    std::uint64_t count = 0;
    sealed_ = false;
    while (pos + 4 <= seg_.size()) {
      const std::uint32_t c = seg_.commit_word(pos).load(std::memory_order_acquire);
      const auto check = detail::check_record(seg_, pos, c, seq, true);
      if (check == detail::RecordCheck::empty) {
        // A zero commit word ends the data only if nothing follows it. A crash between the
        // payload and its commit word leaves payload bytes behind it (a torn tail: cleared);
        // damage can leave whole later records behind it (refused), which an append here
        // would otherwise bring back to life after the new record.
        if (nonzero_after(pos)) cut_tail(pos, seq, check);
        break;
      }
      if (check == detail::RecordCheck::end_of_segment && !last) {
        sealed_ = true;
        break;
      }
      if (check != detail::RecordCheck::ok) {
        cut_tail(pos, seq, check);
        break;
      }
      pos += detail::record_size(c & ~detail::kCommitted);
      ++seq;
      ++count;
    }
    pos_ = pos;
    next_seq_ = seq;
    recovery_.records = count;
    return count > 0 || sealed_;
  }

  // Whether any byte of seg_ from `pos` on is non-zero: O(rest of the segment), once per open.
  [[nodiscard]] bool nonzero_after(std::size_t pos) const noexcept {
    for (std::size_t off = pos; off < seg_.size(); ++off)
      if (seg_.base()[off] != std::byte{0}) return true;
    return false;
  }

  // The record at `pos` is bad. If any whole record with a later sequence follows it, the
  // damage is in the middle of the segment. Under none no crash can leave that (the page
  // cache keeps every store), so it is refused (JournalCorrupt). Under batch/every a power
  // loss can: the pages after the last sync are written back in any order, so a later page
  // may reach the disk and an earlier one not; none of those records was durable (the sync
  // that would have made them so never returned), and the sequence resumes at the first
  // missing one, as RocksDB's point-in-time WAL recovery does. Otherwise it is a torn tail.
  // Either way the tail is zeroed up to the last non-zero byte, and counted. The search
  // tries every 8-byte offset, because a damaged length cannot say where the next record
  // starts; a false match needs a plausible sequence and a CRC32C hit on garbage.
  void cut_tail(std::size_t pos, std::uint64_t seq, detail::RecordCheck why) {
    const std::uint64_t max_records = seg_.size() / detail::kRecordHeaderSize;
    std::uint64_t whole = 0;
    for (std::size_t off = pos + 8; off + detail::kRecordHeaderSize <= seg_.size(); off += 8) {
      const std::uint32_t w = seg_.commit_word(off).load(std::memory_order_relaxed);
      if (!(w & detail::kCommitted) || w == detail::kEndOfSegment) continue;
      const std::uint64_t s = seg_.record(off)->sequence;
      if (s <= seq || s > seq + max_records) continue;
      if (detail::check_record(seg_, off, w, s, true) != detail::RecordCheck::ok) continue;
      // Behind a zero commit word stand only bytes the writer exposed in a claim it never
      // committed, whatever they hold (a relay may journal record images): a tail under any
      // policy. A non-zero word that fails is damage to what was published: refused under none.
      if (!durable_policy() && why != detail::RecordCheck::empty)
        throw JournalCorrupt(seg_.path(), pos,
                             std::string(detail::describe(why)) + " (sequence " + std::to_string(seq) +
                                 "), followed by whole records (sequence " + std::to_string(s) + " at offset " +
                                 std::to_string(off) + ")");
      ++whole;
      off += detail::record_size(w & ~detail::kCommitted) - 8;
    }
    std::size_t last_nonzero = pos;
    for (std::size_t off = pos; off < seg_.size(); ++off)
      if (seg_.base()[off] != std::byte{0}) last_nonzero = off + 1;
    // Count what looked like records: walk plausible lengths until a zero or impossible word.
    std::uint64_t dropped = 0;
    for (std::size_t off = pos; off + 4 <= seg_.size();) {
      const std::uint32_t w = seg_.commit_word(off).load(std::memory_order_relaxed);
      if (w == 0 || !(w & detail::kCommitted) || w == detail::kEndOfSegment) break;
      ++dropped;
      const std::size_t sz = detail::record_size(w & ~detail::kCommitted);
      if (off + sz > seg_.size()) break;
      off += sz;
    }
    std::memset(seg_.base() + pos, 0, last_nonzero - pos);
    // Bytes behind a zero commit word are an unpublished claim (a process killed between
    // its copy and its commit), not a record: cleared, counted in bytes only. So is an end
    // marker with no next segment.
    const bool no_record = why == detail::RecordCheck::empty || why == detail::RecordCheck::end_of_segment;
    recovery_.dropped_records = std::max(no_record ? dropped : std::max<std::uint64_t>(dropped, 1), whole);
    recovery_.dropped_whole_records = whole;
    recovery_.dropped_bytes = last_nonzero - pos;
    recovery_.truncated_segment = seg_.path();
    recovery_.truncated_offset = pos;
  }

  // Moves the writer to the next segment. Under batch/every, in the order a power loss
  // needs: (1) the current segment's records are synced; (2) the next file is installed (the
  // one the preparer made ahead, else one made now; header synced, renamed, directory
  // synced); (3) the end marker is stored, after the new name exists, so a reader that sees
  // it finds the file; (4) the marker is synced. Only then can a record land in the new
  // segment, so no power loss leaves a durable record behind a missing marker. A failure in
  // (1) or (4) is a sync failure (failed()); in (2) the writer stays where it was and the
  // next claim tries again (a full disk, a file-size limit).
  void roll() {
    const bool sync = durable_policy();
    if (sync) {
      std::lock_guard lk(mutex_);
      if (!sync_locked()) throw JournalError(failure_);
    }
    detail::MappedSegment next;
    {
      std::lock_guard lk(mutex_);
      next = std::move(spare_);
    }
    if (!next.is_open()) {
      next = detail::MappedSegment::prepare(io_, dir_ + "/roll.journal.tmp", cfg_.segment_size, sync);
      bump(stats_rolls_unprepared_);
    }
    try {
      next.install(dir_, next_seq_, now_ns(), sync);
      if (sync) sync_dir();
    } catch (...) {
      next.discard();  // named or not, it holds no record; recovery would remove it too
      prep_cv_.notify_one();  // the spare is gone: make the next one
      throw;
    }
    bump(stats_segments_);
    bump(stats_rolls_);
    std::lock_guard lk(mutex_);
    const std::size_t marker = pos_;
    // The end marker: pairs with the reader's acquire load of the commit word.
    if (!sealed_ && marker + 4 <= seg_.size())
      seg_.commit_word(marker).store(detail::kEndOfSegment, std::memory_order_release);
    const bool marker_synced = !sync || marker + 4 > seg_.size() || seg_.sync_range(marker, marker + 4);
    const int marker_errno = errno;
    const std::string old_path = seg_.path();
    // Unmapping 64 MiB of populated pages takes milliseconds: with a preparer, it does that.
    if (cfg_.prepare_next) {
      retired_ = std::move(seg_);
    }
    seg_ = std::move(next);
    sealed_ = false;
    pos_ = detail::kSegmentHeaderSize;
    dirty_end_ = pos_;
    synced_end_ = pos_;
    committed_end_.store(pos_, std::memory_order_release);
    prep_cv_.notify_one();  // make the next spare
    if (!marker_synced) {
      fail_locked("msync", old_path, marker_errno);
      throw JournalError(failure_);
    }
  }

  // The preparer thread: keeps one prepared segment ready for the next roll.
  void preparer_loop() {
    std::unique_lock lk(mutex_);
    for (;;) {
      prep_cv_.wait(lk, [this] { return stop_ || !spare_.is_open() || retired_.is_open(); });
      if (stop_) return;
      detail::MappedSegment old = std::move(retired_);
      const bool make_spare = !spare_.is_open();
      lk.unlock();
      old.reset();
      if (!make_spare) {
        lk.lock();
        continue;
      }
      detail::MappedSegment s;
      try {
        // A fresh name each time: the writer renames the previous spare outside the lock,
        // so reusing its name (O_TRUNC) could truncate the file it is about to write.
        const std::string name = dir_ + "/spare-" + std::to_string(++spares_made_) + ".journal.tmp";
        s = detail::MappedSegment::prepare(io_, name, cfg_.segment_size, durable_policy());
      } catch (...) {
        // Disk full or similar: the writer's roll will try again itself and report the
        // error; retry here later rather than spin.
        bump(stats_prepare_failures_);
        lk.lock();
        prep_cv_.wait_for(lk, std::chrono::seconds(1), [this] { return stop_; });
        continue;
      }
      lk.lock();
      spare_ = std::move(s);
    }
  }

  // Caller holds mutex_. Records the first sync failure; from here on nothing more becomes
  // durable (see failed()).
  void fail_locked(const char* call, const std::string& path, int e) noexcept {
    bump(stats_sync_failures_);
    if (failed_.load(std::memory_order_relaxed)) return;
    try {
      failure_ = "hft::Journal: ";
      failure_ += call;
      failure_ += "(" + path + ") failed: " + std::generic_category().message(e) + "; durable_sequence() stays at " +
                  std::to_string(durable_seq_.load(std::memory_order_relaxed)) +
                  " and the journal takes no more records (reopen it to recover)";
    } catch (...) {
      failure_.clear();  // out of memory for the message: the flag below still holds
    }
    failed_.store(true, std::memory_order_release);  // pairs with failed()'s acquire
  }

  [[noreturn]] void throw_failed() const {
    std::lock_guard lk(mutex_);
    throw JournalError(failure_);
  }

  // Caller holds mutex_. msyncs the committed, unsynced range of the current segment and
  // advances durable_sequence(). False if this msync or an earlier one failed.
  bool sync_locked() noexcept {
    if (failed_.load(std::memory_order_relaxed)) return false;
    const std::uint64_t seq = last_seq_.load(std::memory_order_acquire);  // pairs with commit's release
    const std::size_t end = committed_end_.load(std::memory_order_acquire);
    if (seq == durable_seq_.load(std::memory_order_relaxed)) return true;
    if (!seg_.sync_range(synced_end_, end)) {
      fail_locked("msync", seg_.path(), errno);
      return false;
    }
    synced_end_ = end;
    bump(stats_syncs_);
    durable_seq_.store(seq, std::memory_order_release);  // pairs with durable_sequence()
    return true;
  }

  void flusher_loop() {
    std::unique_lock lk(mutex_);
    while (!stop_) {
      cv_.wait_for(lk, cfg_.batch_interval, [this] { return stop_ || kick_.load(std::memory_order_relaxed); });
      kick_.store(false, std::memory_order_relaxed);
      (void)sync_locked();  // a failure is recorded in failed(); durable_sequence() stays behind
    }
  }

  std::string dir_;
  JournalConfig cfg_;
  JournalIo& io_;
  TscClock tsc_;
  std::uint64_t wall_base_ns_ = 0;
  std::uint64_t tick_base_ = 0;
  JournalRecovery recovery_;
  Fd dir_fd_;  // holds the directory lock; declared before the segments, so closed after them

  // Writer thread only (the flusher reads seg_ and synced_end_ under mutex_, which roll()
  // holds while it replaces them).
  detail::MappedSegment seg_;
  std::size_t pos_ = 0;
  std::uint64_t next_seq_ = 1;
  std::size_t claim_len_ = 0;
  std::size_t dirty_end_ = 0;  // the furthest byte of seg_ any claim exposed
  bool claimed_ = false;
  bool sealed_ = false;
  std::uint64_t last_kick_ = 0;
  std::size_t synced_end_ = 0;  // guarded by mutex_

  alignas(cache_line_size) std::atomic<std::uint64_t> last_seq_{0};
  std::atomic<std::size_t> committed_end_{0};
  std::atomic<std::uint64_t> stats_appended_{0};
  std::atomic<std::uint64_t> stats_bytes_{0};
  std::atomic<std::uint64_t> stats_segments_{0};
  std::atomic<std::uint64_t> stats_append_failures_{0};
  alignas(cache_line_size) std::atomic<std::uint64_t> durable_seq_{0};
  std::atomic<std::uint64_t> stats_syncs_{0};  // written under mutex_
  std::atomic<std::uint64_t> stats_sync_failures_{0};
  std::atomic<bool> kick_{false};
  std::atomic<std::uint64_t> stats_rolls_{0};
  std::atomic<std::uint64_t> stats_rolls_unprepared_{0};
  std::atomic<std::uint64_t> stats_prepare_failures_{0};  // the preparer's
  std::atomic<bool> failed_{false};  // set once, under mutex_

  mutable std::mutex mutex_;
  std::condition_variable cv_;       // the flusher's
  std::condition_variable prep_cv_;  // the preparer's
  bool stop_ = false;                // guarded by mutex_
  std::string failure_;              // guarded by mutex_: what failed() is about
  detail::MappedSegment spare_;      // guarded by mutex_: the preparer's finished segment
  detail::MappedSegment retired_;    // guarded by mutex_: the segment left behind, for the preparer to unmap
  std::uint64_t spares_made_ = 0;    // the preparer's own
  std::thread flusher_;
  std::thread preparer_;
};

}  // namespace hft
