// hft/core/thread.hpp: CPU pinning and thread names (Linux).
//
// What: pin_current_thread / pin_thread bind a thread to one CPU; current_thread_affinity
//   reads the set back; set_current_thread_name / current_thread_name (shown by top -H,
//   gdb, perf); available_cpus lists the CPUs this process may use.
// When to use: latency-critical threads on a dedicated machine (one busy-spinning thread
//   per core), benchmarks. When not: on an oversubscribed machine, where pinning two
//   busy threads to one CPU makes them take turns by the scheduler quantum.
// Errors: an invalid CPU (negative, beyond CPU_SETSIZE, or not in this process's
//   allowed set) throws std::invalid_argument naming the CPU and the allowed ones; a
//   failing system call throws std::system_error. Never a silent no-op.
// Thread-safety: any thread; pin_thread/current_thread_* act on the given/calling
//   thread only. Progress: blocking system calls (not for hot paths).
#pragma once

#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <string_view>
#include <system_error>
#include <stdexcept>
#include <thread>
#include <vector>

namespace hft {

/// The CPUs this process may run on, ascending: the affinity mask of its main thread
/// (sched_getaffinity(0) would give the calling thread's, which may already be pinned).
[[nodiscard]] inline std::vector<int> available_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(::getpid(), sizeof set, &set) != 0) {
    throw std::system_error(errno, std::generic_category(), "hft::available_cpus: sched_getaffinity");
  }
  std::vector<int> cpus;
  for (int c = 0; c < CPU_SETSIZE; ++c) {
    if (CPU_ISSET(static_cast<std::size_t>(c), &set)) cpus.push_back(c);
  }
  return cpus;
}

namespace detail {
inline std::string cpu_list_text(const std::vector<int>& cpus) {
  std::string s;
  for (int c : cpus) {
    if (!s.empty()) s += ',';
    s += std::to_string(c);
  }
  return s;
}

[[noreturn]] inline void throw_bad_cpu(int cpu) {
  throw std::invalid_argument("hft::pin_current_thread: cannot pin to CPU " + std::to_string(cpu) +
                              ": this process may use CPUs " + cpu_list_text(available_cpus()));
}

inline void pin_native(pthread_t t, int cpu) {
  if (cpu < 0 || cpu >= CPU_SETSIZE) throw_bad_cpu(cpu);
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(static_cast<std::size_t>(cpu), &set);
  // The kernel knows the process's cpuset (cgroups, taskset); it answers EINVAL when the
  // CPU is offline or outside it, which we report as the same clear error.
  if (const int rc = ::pthread_setaffinity_np(t, sizeof set, &set); rc != 0) {
    if (rc == EINVAL) throw_bad_cpu(cpu);
    throw std::system_error(rc, std::generic_category(),
                            "hft::pin_current_thread: pthread_setaffinity_np(CPU " + std::to_string(cpu) + ")");
  }
}
}  // namespace detail

/// Binds the calling thread to `cpu`.
inline void pin_current_thread(int cpu) { detail::pin_native(::pthread_self(), cpu); }

/// Binds a running std::thread to `cpu`. Precondition: t.joinable().
inline void pin_thread(std::thread& t, int cpu) {
  if (!t.joinable()) throw std::invalid_argument("hft::pin_thread: thread is not running");
  detail::pin_native(t.native_handle(), cpu);
}

/// The CPUs the calling thread may run on, ascending.
[[nodiscard]] inline std::vector<int> current_thread_affinity() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (const int rc = ::pthread_getaffinity_np(::pthread_self(), sizeof set, &set); rc != 0) {
    throw std::system_error(rc, std::generic_category(), "hft::current_thread_affinity: pthread_getaffinity_np");
  }
  std::vector<int> cpus;
  for (int c = 0; c < CPU_SETSIZE; ++c) {
    if (CPU_ISSET(static_cast<std::size_t>(c), &set)) cpus.push_back(c);
  }
  return cpus;
}

/// Names the calling thread. Linux allows 15 bytes; a longer name throws
/// std::invalid_argument rather than being truncated silently.
inline void set_current_thread_name(std::string_view name) {
  if (name.size() > 15) {
    throw std::invalid_argument("hft::set_current_thread_name: thread name '" + std::string(name) +
                                "' is longer than 15 bytes");
  }
  const std::string n(name);
  if (const int rc = ::pthread_setname_np(::pthread_self(), n.c_str()); rc != 0) {
    throw std::system_error(rc, std::generic_category(), "hft::set_current_thread_name: pthread_setname_np");
  }
}

/// The calling thread's name as the OS knows it (pthread_getname_np; at most 15 characters).
[[nodiscard]] inline std::string current_thread_name() {
  char buf[16] = {};
  if (const int rc = ::pthread_getname_np(::pthread_self(), buf, sizeof buf); rc != 0) {
    throw std::system_error(rc, std::generic_category(), "pthread_getname_np");
  }
  return buf;
}

}  // namespace hft
