// hft/journal/journal_format.hpp: the on-disk format the Journal writes and JournalReader
// reads, the mapped-segment handle both use, and the journal's error types.
//
// What: a journal is a directory of fixed-size segment files, `<first-seq>.journal` (20
//   decimal digits, so a plain sort orders them). Each file is preallocated to its size
//   and holds:
//     offset 0: SegmentHeader (64 bytes): magic "HFTJRNL1", format version, header size,
//               segment size, the first sequence, creation time, CRC32C of those fields;
//     offset 64: records, each 8-byte aligned:
//       u32 commit   0 = nothing here yet; kCommitted | payload length = a record;
//                    kEndOfSegment = the writer moved on to the next file
//       u32 crc      CRC32C over (length as u32, sequence, timestamp, payload)
//       u64 sequence consecutive across segments, starting at the journal's first
//       u64 timestamp_ns  wall-clock (CLOCK_REALTIME) nanoseconds
//       payload, padded with zeros to 8 bytes
//   Little-endian, as the machines that run this are; the files are not meant to move
//   between architectures.
// Commit protocol: the writer fills sequence, timestamp, crc and payload with plain
//   stores, then publishes the record with one release store of the commit word; a reader
//   acquire-loads the commit word and reads the rest only when it is non-zero. The word is
//   a naturally aligned 32-bit std::atomic_ref, lock-free (static_assert below), so the
//   store is a single instruction on the shared page: a reader in another process that
//   maps the same file sees either 0 or the whole record (x86-TSO and the kernel's shared
//   page cache make the release/acquire pair hold across processes, as it does across
//   threads). Before a record is committed, the commit word after it is already zero
//   (files start zeroed; recovery zeroes a torn tail; a commit clears the next word whenever
//   any claim in the segment, committed short or abandoned, reached it), so a reader never
//   runs ahead and never reads a byte no committed record owns.
// Thread-safety: the types here are values or single-owner handles; see Journal and
//   JournalReader for who may call what.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cerrno>
#include <cinttypes>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "hft/core/crc32c.hpp"
#include "hft/journal/journal_io.hpp"

namespace hft {

/// A journal operation failed: a system call (the message names it and the path), or a
/// request the journal cannot serve (a record larger than max_payload()).
struct JournalError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Damage the journal will not repair by itself: a record in the middle of a segment that
/// fails its CRC or breaks the sequence, or a bad segment header. Names the file and the
/// byte offset; nothing after it is delivered.
struct JournalCorrupt : JournalError {
  /// Damage in `segment_path` at byte offset `at`, described by `what`.
  JournalCorrupt(std::string segment_path, std::uint64_t at, const std::string& what)
      : JournalError("hft::Journal: corrupt journal: " + segment_path + " at offset " + std::to_string(at) + ": " +
                     what),
        segment(std::move(segment_path)),
        offset(at) {}
  std::string segment;   ///< the damaged segment file's path
  std::uint64_t offset;  ///< byte offset of the damage in that file
};

/// One record as a reader delivers it. `payload` points into the mapped segment and is
/// valid only during the handler call.
struct JournalRecord {
  std::uint64_t sequence;              ///< the record's sequence number (consecutive from the first)
  std::uint64_t timestamp_ns;          ///< the timestamp the writer committed it with, in ns
  std::span<const std::byte> payload;  ///< the bytes appended
};

namespace detail {

inline constexpr char kJournalMagic[8] = {'H', 'F', 'T', 'J', 'R', 'N', 'L', '1'};
inline constexpr std::uint32_t kJournalVersion = 1;
inline constexpr std::size_t kSegmentHeaderSize = 64;
inline constexpr std::size_t kRecordHeaderSize = 24;
inline constexpr std::uint32_t kCommitted = 0x8000'0000u;
inline constexpr std::uint32_t kEndOfSegment = 0xFFFF'FFFFu;
inline constexpr std::size_t kMinSegmentSize = 4096;
inline constexpr std::size_t kMaxSegmentSize = std::size_t{1} << 30;  // lengths stay far below kEndOfSegment
static_assert(std::atomic_ref<std::uint32_t>::is_always_lock_free,
              "the commit word must be a lock-free 32-bit atomic: the cross-process protocol relies on it");

struct SegmentHeader {
  char magic[8];
  std::uint32_t version;
  std::uint32_t header_size;
  std::uint64_t segment_size;
  std::uint64_t first_sequence;
  std::uint64_t created_ns;
  std::uint32_t crc;  // over the bytes before it
  std::uint32_t reserved[5];
};
static_assert(sizeof(SegmentHeader) == kSegmentHeaderSize);

struct RecordHeader {
  std::uint32_t commit;
  std::uint32_t crc;
  std::uint64_t sequence;
  std::uint64_t timestamp_ns;
};
static_assert(sizeof(RecordHeader) == kRecordHeaderSize && alignof(RecordHeader) == 8);

[[nodiscard]] constexpr std::size_t record_size(std::size_t payload_len) noexcept {
  return (kRecordHeaderSize + payload_len + 7) & ~std::size_t{7};
}

/// The largest payload a segment of `segment_size` bytes holds.
[[nodiscard]] constexpr std::size_t max_payload_for(std::size_t segment_size) noexcept {
  return segment_size - kSegmentHeaderSize - kRecordHeaderSize;
}

[[nodiscard]] inline std::uint32_t record_crc(std::uint32_t len, std::uint64_t seq, std::uint64_t ts,
                                              const void* payload) noexcept {
  std::uint64_t fields[2] = {seq, ts};
  std::uint32_t c = crc32c_extend(0, &len, sizeof len);
  c = crc32c_extend(c, fields, sizeof fields);
  return crc32c_extend(c, payload, len);
}

[[nodiscard]] inline std::uint32_t segment_header_crc(const SegmentHeader& h) noexcept {
  return crc32c(&h, offsetof(SegmentHeader, crc));
}

[[noreturn]] inline void throw_error(const char* call, const std::string& path, int e) {
  std::string what = "hft::Journal: ";
  what += call;
  what += "(";
  what += path;
  what += ") failed: ";
  what += std::generic_category().message(e);  // strerror is MT-unsafe
  throw JournalError(what);
}

[[noreturn]] inline void throw_errno(const char* call, const std::string& path) { throw_error(call, path, errno); }

/// Calls `f` again while it fails with EINTR: a signal that interrupts an open or a sync is
/// no failure of the file (the fault sweep injects EINTR at every call to hold us to this).
/// Not for close(), which Linux never restarts: the descriptor is gone either way.
template <class F>
[[nodiscard]] auto retry_eintr(F f) noexcept {
  for (;;) {
    auto r = f();
    if (!(r == -1 && errno == EINTR)) return r;
  }
}

[[nodiscard]] inline std::string segment_name(std::uint64_t first_seq) {
  char buf[40];
  (void)std::snprintf(buf, sizeof buf, "%020" PRIu64 ".journal", first_seq);  // 28 chars at most
  return buf;
}

/// `dir` + "/" + `name`, without doubling a trailing '/'. POSIX calls rather than
/// std::filesystem here and below: <filesystem> alone cost every includer of the journal
/// ~0.15 s of compile time for three directory operations.
[[nodiscard]] inline std::string path_join(const std::string& dir, std::string_view name) {
  std::string p = dir;
  if (!p.empty() && p.back() != '/') p += '/';
  p += name;
  return p;
}

/// Calls `fn(name)` for every entry of `dir` but "." and "..". Returns 0, or the errno of
/// opendir() or readdir() (ENOENT: no such directory). `fn` may throw; the stream is closed.
template <class Fn>
[[nodiscard]] int for_each_dir_entry(const std::string& dir, Fn&& fn) {
  struct Closer {
    DIR* d;
    ~Closer() {
      if (d != nullptr) (void)::closedir(d);
    }
  } dir_stream{::opendir(dir.c_str())};
  if (dir_stream.d == nullptr) return errno;
  for (;;) {
    errno = 0;
    const dirent* e = ::readdir(dir_stream.d);
    if (e == nullptr) return errno;
    const std::string_view name(e->d_name);
    if (name != "." && name != "..") fn(name);
  }
}

/// The segments in `dir` as (first sequence, path), oldest first. Ignores other files,
/// including 20-digit names above UINT64_MAX (no sequence can have them).
[[nodiscard]] inline std::vector<std::pair<std::uint64_t, std::string>> list_segments(const std::string& dir) {
  std::vector<std::pair<std::uint64_t, std::string>> out;
  const int err = for_each_dir_entry(dir, [&](std::string_view name) {
    if (name.size() != 28 || name.compare(20, 8, ".journal") != 0) return;
    if (!std::all_of(name.begin(), name.begin() + 20, [](char c) { return c >= '0' && c <= '9'; })) return;
    std::uint64_t first = 0;
    const auto [end, ec] = std::from_chars(name.data(), name.data() + 20, first);
    if (ec != std::errc{} || end != name.data() + 20) return;  // out of range: not ours
    out.emplace_back(first, path_join(dir, name));
  });
  if (err != 0 && err != ENOENT)
    throw JournalError("hft::Journal: cannot list " + dir + ": " + std::generic_category().message(err));
  std::sort(out.begin(), out.end());
  return out;
}

/// Runs posix_fallocate through `io` with SIGXFSZ blocked in this thread. Under RLIMIT_FSIZE
/// the kernel fails a call that would pass the limit with EFBIG and also sends SIGXFSZ to the
/// calling thread, whose default action kills the process: a journal must report a full
/// disk or a size limit, not die of it. Blocked, the signal stays pending for this thread
/// only, and is taken back before the mask is restored (unless the caller had it blocked
/// already: then it is the caller's to handle).
[[nodiscard]] inline int fallocate_no_sigxfsz(JournalIo& io, int fd, off_t len) noexcept {
  sigset_t xfsz;
  sigset_t old;
  sigemptyset(&xfsz);
  sigaddset(&xfsz, SIGXFSZ);
  const bool masked = ::pthread_sigmask(SIG_BLOCK, &xfsz, &old) == 0;
  int e = 0;
  do {
    e = io.fallocate(fd, 0, len);
  } while (e == EINTR);
  if (masked && e == EFBIG && sigismember(&old, SIGXFSZ) == 0) {
    sigset_t pending;
    sigemptyset(&pending);
    if (::sigpending(&pending) == 0 && sigismember(&pending, SIGXFSZ) == 1) {
      const timespec zero{};
      (void)::sigtimedwait(&xfsz, nullptr, &zero);
    }
  }
  if (masked) (void)::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return e;
}

/// A segment file mapped MAP_SHARED: writable for the writer, read-only for readers.
/// Move-only; unmaps and closes on destruction. Every system call goes through its JournalIo.
class MappedSegment {
 public:
  MappedSegment() = default;
  MappedSegment(const MappedSegment&) = delete;
  MappedSegment& operator=(const MappedSegment&) = delete;
  MappedSegment(MappedSegment&& o) noexcept { *this = std::move(o); }
  MappedSegment& operator=(MappedSegment&& o) noexcept {
    if (this != &o) {
      reset();
      base_ = std::exchange(o.base_, nullptr);
      size_ = std::exchange(o.size_, 0);
      fd_ = std::exchange(o.fd_, -1);
      first_seq_ = o.first_seq_;
      path_ = std::move(o.path_);
      io_ = o.io_;
    }
    return *this;
  }
  ~MappedSegment() { reset(); }

  /// Maps an existing segment and validates its header. Throws JournalCorrupt for a bad
  /// header, JournalError for a system-call failure.
  static MappedSegment open(JournalIo& io, const std::string& path, std::uint64_t expected_first, bool writable) {
    MappedSegment s;
    s.io_ = &io;
    s.path_ = path;
    s.fd_ = retry_eintr([&] { return io.open(path.c_str(), (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC, 0); });
    if (s.fd_ < 0) throw_errno("open", path);
    struct stat st {};
    if (io.fstat(s.fd_, &st) != 0) throw_errno("fstat", path);
    const auto size = static_cast<std::size_t>(st.st_size);
    if (size < kMinSegmentSize || size > kMaxSegmentSize || size % 8 != 0)
      throw JournalCorrupt(path, 0, "file size " + std::to_string(size) + " is not a segment size");
    s.map(size, writable);
    SegmentHeader h{};
    std::memcpy(&h, s.base_, sizeof h);
    if (std::memcmp(h.magic, kJournalMagic, 8) != 0) throw JournalCorrupt(path, 0, "bad magic");
    if (h.crc != segment_header_crc(h)) throw JournalCorrupt(path, 0, "segment header CRC mismatch");
    if (h.version != kJournalVersion) throw JournalCorrupt(path, 0, "format version " + std::to_string(h.version));
    if (h.segment_size != size || h.header_size != kSegmentHeaderSize)
      throw JournalCorrupt(path, 0, "header sizes disagree with the file");
    if (h.first_sequence != expected_first)
      throw JournalCorrupt(path, 0, "header first sequence " + std::to_string(h.first_sequence) +
                                        " disagrees with the file name");
    s.first_seq_ = expected_first;
    return s;
  }

  /// Creates the file `tmp_path` (its name must end in ".journal.tmp", which recovery
  /// removes), preallocated, mapped, and every page write-faulted: the slow part of a roll
  /// (tens of ms for 64 MiB), which a background thread can do ahead. `sync` also makes
  /// the allocation durable. On failure the file is removed and JournalError names the call
  /// (posix_fallocate: ENOSPC for a full disk, EFBIG past RLIMIT_FSIZE).
  static MappedSegment prepare(JournalIo& io, const std::string& tmp_path, std::size_t size, bool sync) {
    MappedSegment s;
    s.io_ = &io;
    s.path_ = tmp_path;
    s.fd_ = retry_eintr([&] { return io.open(tmp_path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644); });
    if (s.fd_ < 0) throw_errno("open", tmp_path);
    // posix_fallocate reserves the blocks now, so the append path never meets ENOSPC or
    // a file-size change (SIGBUS on a mapped hole the file system cannot fill).
    if (const int e = fallocate_no_sigxfsz(io, s.fd_, static_cast<off_t>(size)); e != 0) {
      s.discard();
      throw_error("posix_fallocate", tmp_path, e);
    }
    // The allocation's metadata now, before any page is dirty: this fdatasync writes no data.
    if (sync && retry_eintr([&] { return io.fdatasync(s.fd_); }) != 0) {
      const int e = errno;
      s.discard();
      throw_error("fdatasync", tmp_path, e);
    }
    try {
      s.map(size, true);
    } catch (...) {
      s.discard();
      throw;
    }
    s.prefault();
    return s;
  }

  /// Writes the header of a prepare()d file and renames it to `dir/<first_seq>.journal`, so
  /// a reader that finds the name finds a complete header. `sync`: the header page is synced
  /// before the rename, so no power loss leaves the name with an empty header; the caller
  /// syncs the directory. Microseconds. On failure the file keeps whatever name it had.
  void install(const std::string& dir, std::uint64_t first_seq, std::uint64_t now_ns, bool sync) {
    SegmentHeader h{};
    std::memcpy(h.magic, kJournalMagic, 8);
    h.version = kJournalVersion;
    h.header_size = kSegmentHeaderSize;
    h.segment_size = size_;
    h.first_sequence = first_seq;
    h.created_ns = now_ns;
    h.crc = segment_header_crc(h);
    std::memcpy(base_, &h, sizeof h);
    // Only the header page: the zeroed pages the pre-fault dirtied need not reach the disk
    // before the records written over them (their writeback is the kernel's business).
    if (sync && !sync_range(0, kSegmentHeaderSize)) throw_errno("msync", path_);
    const std::string final_path = dir + "/" + segment_name(first_seq);
    if (io_->rename(path_.c_str(), final_path.c_str()) != 0) throw_errno("rename", path_);
    path_ = final_path;
    first_seq_ = first_seq;
  }

  /// fsync of the directory itself: its entries (created, renamed, removed files) survive a
  /// power loss from here on.
  static void sync_directory(JournalIo& io, const std::string& dir) {
    const int dfd = retry_eintr([&] { return io.open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0); });
    if (dfd < 0) throw_errno("open", dir);
    const int rc = retry_eintr([&] { return io.fsync(dfd); });
    const int e = errno;
    (void)io.close(dfd);
    if (rc != 0) throw_error("fsync", dir, e);
  }

  /// Write-faults every page of [from, to) (to the end by default): the append path then
  /// takes no page fault, and every page in the range is dirty, so the next sync writes it
  /// whatever the kernel thought of it before (MADV_POPULATE_WRITE, Linux 5.14; else a store
  /// to each page that leaves its word unchanged).
  void prefault(std::size_t from = 0, std::size_t to = ~std::size_t{0}) noexcept {
    const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    const std::size_t start = from & ~(page - 1);
    const std::size_t end = std::min(to, size_);
    if (end <= start) return;
#ifdef MADV_POPULATE_WRITE
    if (io_->madvise(base_ + start, end - start, MADV_POPULATE_WRITE) == 0) return;
#endif
    for (std::size_t off = start; off < end; off += page) {
      std::atomic_ref<std::uint32_t> w(*reinterpret_cast<std::uint32_t*>(base_ + off));
      w.fetch_add(0, std::memory_order_relaxed);  // a write that changes nothing
    }
  }

  /// msync(MS_SYNC) of [from, to), widened to pages. Returns false (errno set) on failure.
  [[nodiscard]] bool sync_range(std::size_t from, std::size_t to) const noexcept {
    if (to <= from) return true;
    const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    const std::size_t start = from & ~(page - 1);
    return retry_eintr([&] { return io_->msync(base_ + start, std::min(size_, to) - start, MS_SYNC); }) == 0;
  }

  [[nodiscard]] std::byte* base() const noexcept { return base_; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] std::uint64_t first_sequence() const noexcept { return first_seq_; }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  [[nodiscard]] bool is_open() const noexcept { return base_ != nullptr; }

  [[nodiscard]] std::atomic_ref<std::uint32_t> commit_word(std::size_t off) const noexcept {
    return std::atomic_ref<std::uint32_t>(*reinterpret_cast<std::uint32_t*>(base_ + off));
  }
  [[nodiscard]] RecordHeader* record(std::size_t off) const noexcept {
    return reinterpret_cast<RecordHeader*>(base_ + off);
  }

  void reset() noexcept {
    if (base_ != nullptr) (void)io_->munmap(base_, size_);
    if (fd_ >= 0) (void)io_->close(fd_);
    base_ = nullptr;
    size_ = 0;
    fd_ = -1;
  }

  /// Unmaps, closes and removes the file (a spare nobody will use).
  void discard() noexcept {
    reset();
    if (!path_.empty()) (void)io_->unlink(path_.c_str());
  }

 private:
  void map(std::size_t size, bool writable) {
    void* p = io_->mmap(nullptr, size, writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd_, 0);
    if (p == MAP_FAILED) throw_errno("mmap", path_);
    base_ = static_cast<std::byte*>(p);
    size_ = size;
  }

  std::byte* base_ = nullptr;
  std::size_t size_ = 0;
  int fd_ = -1;
  std::uint64_t first_seq_ = 0;
  std::string path_;
  JournalIo* io_ = &JournalIo::posix();
};

/// What validating the record at `off` found.
enum class RecordCheck { empty, end_of_segment, ok, bad_length, bad_crc, bad_sequence };

/// Checks the record at `off` of `seg` against the expected sequence. `commit` is the
/// value the caller acquire-loaded from the commit word.
[[nodiscard]] inline RecordCheck check_record(const MappedSegment& seg, std::size_t off, std::uint32_t commit,
                                              std::uint64_t expected_seq, bool verify_crc) noexcept {
  if (commit == 0) return RecordCheck::empty;
  if (commit == kEndOfSegment) return RecordCheck::end_of_segment;
  if ((commit & kCommitted) == 0) return RecordCheck::bad_length;
  const std::uint32_t len = commit & ~kCommitted;
  if (len > seg.size() || off + record_size(len) > seg.size()) return RecordCheck::bad_length;
  const RecordHeader* h = seg.record(off);
  if (verify_crc && h->crc != record_crc(len, h->sequence, h->timestamp_ns, seg.base() + off + kRecordHeaderSize))
    return RecordCheck::bad_crc;
  if (h->sequence != expected_seq) return RecordCheck::bad_sequence;
  return RecordCheck::ok;
}

[[nodiscard]] inline const char* describe(RecordCheck c) noexcept {
  switch (c) {
    case RecordCheck::empty: return "uncommitted record (zero commit word)";
    case RecordCheck::bad_length: return "record length runs past the segment";
    case RecordCheck::bad_crc: return "record CRC mismatch";
    case RecordCheck::bad_sequence: return "record sequence out of order";
    default: return "ok";
  }
}

}  // namespace detail
}  // namespace hft
