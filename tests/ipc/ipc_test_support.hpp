// Shared by the tests of hft/ipc: unique region names, removed on every exit path, and a
// forked child whose exit status the parent checks.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <span>
#include <string>

#include "hft/ipc/broadcast_ring.hpp"
#include "hft/ipc/shared_region.hpp"

namespace hft::test {

/// A region name unique to this process and call, removed (if it exists) at scope exit.
class ShmName {
 public:
  explicit ShmName(const char* what) : name_(unique(what)) { (void)hft::ipc::SharedRegion::remove(name_); }
  ShmName(const ShmName&) = delete;
  ShmName& operator=(const ShmName&) = delete;
  ~ShmName() { (void)hft::ipc::SharedRegion::remove(name_); }
  [[nodiscard]] const std::string& str() const noexcept { return name_; }
  operator std::string_view() const noexcept { return name_; }  // NOLINT(google-explicit-constructor)

 private:
  static std::string unique(const char* what) {
    static std::atomic<int> n{0};
    std::string s = "hft_test_";
    s += what;
    s += '_';
    s += std::to_string(::getpid());
    s += '_';
    s += std::to_string(n.fetch_add(1));
    return s;
  }
  std::string name_;
};

/// Heap memory of exactly one ring's area, so ASan sees any read past it.
/// (BroadcastTransmitter / BroadcastReceiver over a caller's area.)
struct HeapArea {
  std::size_t size;
  std::byte* p;
  explicit HeapArea(std::uint64_t capacity)
      : size(hft::ipc::detail::BroadcastLayout::channel_bytes(capacity)),
        p(new (std::align_val_t{64}) std::byte[size]()) {}
  ~HeapArea() { ::operator delete[](p, std::align_val_t{64}); }
  HeapArea(const HeapArea&) = delete;
  HeapArea& operator=(const HeapArea&) = delete;
  std::span<std::byte> span() const { return {p, size}; }
};

/// Runs `f` in a forked child, which exits with f()'s value (an exception: 99). Returns
/// the child's pid.
template <class F>
pid_t fork_child(F&& f) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    int rc = 99;
    try {
      rc = f();
    } catch (...) {
    }
    ::_exit(rc);
  }
  return pid;
}

/// The exit status of `pid` (-signal when killed by a signal).
inline int wait_child(pid_t pid) {
  int st = 0;
  if (::waitpid(pid, &st, 0) != pid) return -1000;
  if (WIFSIGNALED(st)) return -WTERMSIG(st);
  return WEXITSTATUS(st);
}

}  // namespace hft::test
