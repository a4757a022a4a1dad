// hft/journal/journal_io.hpp: JournalIo, the one seam through which the journal makes every
// system call on its files, so tests can fail the n-th call or watch what reaches the disk.
//
// What: a class whose virtual members forward to POSIX: open, close, fstat, posix_fallocate,
//   ftruncate, mmap, munmap, msync, fdatasync, fsync, rename, unlink, flock, access, madvise. Journal and
//   JournalReader take a `JournalIo*` in their config; null means JournalIo::posix(), a
//   stateless instance. A test derives from it and overrides what it wants to fail or record
//   (tests/journal/fault_io.hpp: EIO/ENOSPC/EINTR at the n-th call; a power-loss simulator
//   that keeps what each sync made durable).
// When to use: fault injection and crash-state enumeration in tests; a port to a platform
//   whose calls differ. When not: anything on the append path: it makes no system call (the
//   seam is crossed only by open, roll, flush and recovery), which is why a virtual call per
//   system call costs nothing measurable (a call is ~1 ns, the cheapest msync ~1 us).
// Thread-safety: posix() is stateless and safe from any thread. The journal calls its JournalIo
//   from the writer's thread, the flusher, the preparer and readers' threads at once, so a
//   derived class that keeps state must guard it.
// Progress: that of the system call.
// Memory ordering: none of its own; a system call orders nothing the journal relies on (the
//   commit word's release/acquire pair does, see journal_format.hpp).
// Complexity: one indirect call per system call.
// Errors: each member returns what its POSIX call returns and sets errno as it would;
//   fallocate returns the error number (0 on success) as posix_fallocate does.
// Compared with: LevelDB's and RocksDB's Env/FileSystem (a virtual interface over every file
//   operation, with fault-injection implementations in their tests); SQLite's VFS. Ours covers
//   only the calls one journal makes, and the files are mapped, so the simulator reads data
//   from the mapping at each sync rather than seeing write() calls.
#pragma once

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

namespace hft {

/// The system calls of Journal and JournalReader, as virtual functions: the default is plain
/// POSIX; tests override them to inject faults or simulate a power loss.
class JournalIo {
 public:
  JournalIo() = default;
  JournalIo(const JournalIo&) = delete;
  JournalIo& operator=(const JournalIo&) = delete;
  virtual ~JournalIo() = default;

  /// The instance a null `io` in a config stands for: plain POSIX, no state.
  [[nodiscard]] static JournalIo& posix() noexcept {
    static JournalIo io;
    return io;
  }

  ///@{
  /// As the POSIX function of the same name: same arguments and result (-1 and errno on
  /// failure unless said otherwise). A subclass overrides it to inject a fault.
  virtual int open(const char* path, int flags, mode_t mode) noexcept { return ::open(path, flags, mode); }
  virtual int close(int fd) noexcept { return ::close(fd); }
  virtual int fstat(int fd, struct stat* st) noexcept { return ::fstat(fd, st); }
  /// As posix_fallocate: returns 0 or an error number (errno is not set).
  virtual int fallocate(int fd, off_t offset, off_t len) noexcept { return ::posix_fallocate(fd, offset, len); }
  virtual int ftruncate(int fd, off_t len) noexcept { return ::ftruncate(fd, len); }
  virtual void* mmap(void* addr, size_t len, int prot, int flags, int fd, off_t offset) noexcept {
    return ::mmap(addr, len, prot, flags, fd, offset);
  }
  virtual int munmap(void* addr, size_t len) noexcept { return ::munmap(addr, len); }
  virtual int msync(void* addr, size_t len, int flags) noexcept { return ::msync(addr, len, flags); }
  virtual int fdatasync(int fd) noexcept { return ::fdatasync(fd); }
  virtual int fsync(int fd) noexcept { return ::fsync(fd); }
  virtual int rename(const char* from, const char* to) noexcept { return std::rename(from, to); }
  virtual int unlink(const char* path) noexcept { return ::unlink(path); }
  virtual int flock(int fd, int op) noexcept { return ::flock(fd, op); }
  virtual int access(const char* path, int mode) noexcept { return ::access(path, mode); }
  ///@}
  /// MADV_POPULATE_WRITE write-faults a range, which marks each page dirty: the journal
  /// pre-faults with it, and recovery re-dirties what it is about to sync with it.
  virtual int madvise(void* addr, size_t len, int advice) noexcept { return ::madvise(addr, len, advice); }
};

namespace detail {
/// The config's `io`, or POSIX.
[[nodiscard]] inline JournalIo& io_or_posix(JournalIo* io) noexcept { return io != nullptr ? *io : JournalIo::posix(); }
}  // namespace detail

}  // namespace hft
