// hft/ipc/process_identity.hpp: ProcessIdentity, a process named so that a reused pid is
// never mistaken for it.
//
// What: a (pid, start time) pair. The start time is field 22 of /proc/<pid>/stat (clock
//   ticks since boot), so a later process that gets the same pid has a different identity.
//   alive() is true while that very process exists and is not a zombie: a process killed
//   and not yet reaped will never publish again, so for a peer it is dead.
// When to use: recording in shared memory who created a region or holds a role of a
//   channel, and asking later whether it still lives (hft/ipc/shared_region.hpp and the
//   channels). When not: across machines or pid namespaces (a pid names a process only in
//   its namespace), or when the peer can be asked directly (a socket's close says it).
// Thread-safety: any thread; plain values. self() caches this process's identity per
//   thread, keyed on getpid(), so a fork()ed child never reports its parent.
// Progress: alive() and the first self() read one /proc file (a system call; blocking in
//   the kernel's sense, bounded). Never on a hot path: channels call alive() only after a
//   bounded wait on a peer.
// Memory ordering: none (a value type). A channel that stores one in shared memory
//   publishes it with its own release store.
// Complexity: O(1); no allocation (a stack buffer of 1 KiB holds the stat line).
// Time namespaces: /proc shows a start time in the reader's time namespace (boot time plus
//   its offset); every value read here is moved back to the initial namespace's clock
//   (/proc/self/timens_offsets), so processes in different time namespaces (containers,
//   CRIU restores) agree on each other's identity.
// Compared with: kill(pid, 0) alone, which Boost.Interprocess's robust emulation and many
//   hand-written daemons use, says yes for a reused pid and for a zombie. iceoryx asks its
//   RouDi daemon, which watches heartbeats; we need no daemon.
// Errors: none thrown. A /proc that cannot be read makes self() return pid with
//   start_time 0 and alive() fall back to kill(pid, 0).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string_view>

namespace hft::ipc {

/// A process: its pid and its start time, so that a later process with the same pid differs.
struct ProcessIdentity {
  std::int32_t pid = 0;           ///< the process id (in this pid namespace)
  std::uint32_t reserved = 0;     ///< keeps the layout fixed where it is stored in shared memory
  std::uint64_t start_time = 0;   ///< field 22 of `/proc/PID/stat`, clock ticks since boot; 0: unknown

  /// This process (read once per thread and process, then cached: a fork()ed child reads
  /// its own).
  [[nodiscard]] static ProcessIdentity self() noexcept {
    thread_local ProcessIdentity me;
    const auto pid = static_cast<std::int32_t>(::getpid());
    if (me.pid != pid) me = of(pid);
    return me;
  }

  /// The process that has `pid` now, or {pid, start_time 0} when it does not exist (or
  /// /proc cannot be read).
  [[nodiscard]] static ProcessIdentity of(std::int32_t pid) noexcept {
    ProcessIdentity id;
    id.pid = pid;
    char state = 0;
    (void)read_stat(pid, state, id.start_time);
    return id;
  }

  /// True while this very process exists and has not exited (a zombie is dead). A pid of
  /// 0 or below names no process: false.
  [[nodiscard]] bool alive() const noexcept {
    if (pid <= 0) return false;
    char state = 0;
    std::uint64_t start = 0;
    if (!read_stat(pid, state, start)) {
      // No /proc entry: the process is gone, or /proc is not mounted (then ask the kernel).
      if (errno == ENOENT || errno == ESRCH) return false;
      return ::kill(pid, 0) == 0 || errno == EPERM;
    }
    if (start_time != 0 && start != start_time) return false;  // another process got the pid
    // The stat line is the main thread's: a zombie there with other threads still running is
    // a live process whose main thread exited.
    if (state == 'Z' || state == 'X') return other_thread_running(pid);
    return true;
  }

  friend bool operator==(const ProcessIdentity&, const ProcessIdentity&) = default;

 private:
  // Whether a thread of `pid` other than the main one is not a zombie (/proc/<pid>/task).
  static bool other_thread_running(std::int32_t pid) noexcept {
    char path[48] = "/proc/";
    auto r = std::to_chars(path + 6, path + 32, pid);
    std::strcat(r.ptr, "/task");  // path was zero-filled past the digits
    const int dir = ::open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) return false;
    alignas(8) char buf[2048];
    bool running = false;
    for (long n; !running && (n = ::syscall(SYS_getdents64, dir, buf, sizeof buf)) > 0;) {
      for (long off = 0; off < n && !running;) {
        const auto* e = reinterpret_cast<const linux_dirent64*>(buf + off);
        off += e->d_reclen;
        std::int32_t tid = 0;
        const std::string_view nm(e->d_name);
        if (std::from_chars(nm.data(), nm.data() + nm.size(), tid).ec != std::errc{} || tid == pid) continue;
        char state = 0;
        std::uint64_t start = 0;
        running = read_stat(tid, state, start) && state != 'Z' && state != 'X';
      }
    }
    ::close(dir);
    return running;
  }
  struct linux_dirent64 {  // getdents64's record (no libc wrapper in glibc 2.36's headers)
    std::uint64_t d_ino;
    std::int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[1];
  };

  // Field 3 (state) and field 22 (starttime) of /proc/<pid>/stat. The command name (field
  // 2) is in parentheses and may hold spaces and ')', so fields are counted after the last ')'.
  static bool read_stat(std::int32_t pid, char& state, std::uint64_t& start) noexcept {
    char path[48] = "/proc/";
    const auto r = std::to_chars(path + 6, path + 32, pid);
    std::strcat(r.ptr, "/stat");  // path was zero-filled past "/proc/": r.ptr starts an empty string
    const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    char buf[1024] = {};
    const ssize_t n = ::read(fd, buf, sizeof buf - 1);
    const int saved = errno;
    ::close(fd);
    errno = saved;
    if (n <= 0) {
      if (n == 0) errno = ESRCH;  // the process went away between open and read
      return false;
    }
    const std::string_view line(buf, static_cast<std::size_t>(n));
    const std::size_t close = line.rfind(')');
    if (close == std::string_view::npos || close + 2 >= line.size()) {
      errno = EINVAL;
      return false;
    }
    std::string_view rest = line.substr(close + 2);  // "S ppid pgrp ..." : field 3 onwards
    state = rest[0];
    for (int field = 3; field < 22; ++field) {
      const std::size_t sp = rest.find(' ');
      if (sp == std::string_view::npos) {
        errno = EINVAL;
        return false;
      }
      rest.remove_prefix(sp + 1);
    }
    std::uint64_t v = 0;
    const auto p = std::from_chars(rest.data(), rest.data() + rest.size(), v);
    if (p.ec != std::errc{}) {
      errno = EINVAL;
      return false;
    }
    // The kernel shows start times in the reader's time namespace (boot time plus its
    // offset): back to the initial namespace's clock, so that every process, in whatever
    // time namespace, records and compares the same value for the same process.
    const std::int64_t canonical = static_cast<std::int64_t>(v) - boottime_offset_ticks();
    start = canonical > 0 ? static_cast<std::uint64_t>(canonical) : 0;  // 0: unknown
    return true;
  }

  // This process's time namespace boottime offset in clock ticks (0 without time namespaces:
  // no /proc/self/timens_offsets). Read each time: liveness checks are rare, and unshare()
  // and fork() change what it is for a process.
  static std::int64_t boottime_offset_ticks() noexcept {
    const int fd = ::open("/proc/self/timens_offsets", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    char buf[256] = {};
    const ssize_t n = ::read(fd, buf, sizeof buf - 1);
    ::close(fd);
    if (n <= 0) return 0;
    std::string_view text(buf, static_cast<std::size_t>(n));
    const std::size_t at = text.find("boottime");
    if (at == std::string_view::npos) return 0;
    text.remove_prefix(at + 8);
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    std::int64_t secs = 0, nanos = 0;
    auto r = std::from_chars(text.data(), text.data() + text.size(), secs);
    if (r.ec != std::errc{}) return 0;
    text.remove_prefix(static_cast<std::size_t>(r.ptr - text.data()));
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    r = std::from_chars(text.data(), text.data() + text.size(), nanos);
    if (r.ec != std::errc{}) nanos = 0;
    static const std::int64_t tck = [] {
      const long t = ::sysconf(_SC_CLK_TCK);
      return t > 0 ? static_cast<std::int64_t>(t) : std::int64_t{100};
    }();
    return secs * tck + nanos * tck / 1'000'000'000;
  }
};
static_assert(sizeof(ProcessIdentity) == 16, "stored in shared memory: its layout is part of the region format");

/// Thrown by a blocking operation of a channel that waits on a peer process found dead.
class PeerDead : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {

// A channel role's or claim's owner in one word, so that taking it is one CAS: pid in the
// low 22 bits (Linux's PID_MAX_LIMIT is 2^22) and the start time (clock ticks since boot,
// 100 Hz: 2^42 of them is 1300 years) above. 0 is "nobody" (no process has pid 0).
inline constexpr unsigned kOwnerPidBits = 22;
inline constexpr std::uint64_t kOwnerPidMask = (std::uint64_t{1} << kOwnerPidBits) - 1;

constexpr std::uint64_t pack_owner(const ProcessIdentity& id) noexcept {
  const std::uint64_t start = id.start_time >> (64 - kOwnerPidBits) == 0 ? id.start_time : 0;  // 0: "unknown"
  return (start << kOwnerPidBits) | (static_cast<std::uint64_t>(static_cast<std::uint32_t>(id.pid)) & kOwnerPidMask);
}
constexpr ProcessIdentity unpack_owner(std::uint64_t word) noexcept {
  ProcessIdentity id;
  id.pid = static_cast<std::int32_t>(word & kOwnerPidMask);
  id.start_time = word >> kOwnerPidBits;
  return id;
}

// Not ProcessIdentity::self(): its cache survives fork(), and a forked child must not
// record its parent as the owner of a role or a claim.
inline ProcessIdentity current_process() noexcept {
  return ProcessIdentity::of(static_cast<std::int32_t>(::getpid()));
}

}  // namespace detail

}  // namespace hft::ipc
