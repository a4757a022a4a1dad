// bench_ipc: hft's inter-process channels (IpcSpscQueue, IpcMpscQueue, BroadcastTransmitter/Receiver) next to
// the in-process SpscQueue between two threads (the floor), iceoryx 2.0, Boost.Interprocess
// message_queue, a Unix domain socket pair and a pipe. One process tree: every run forks its
// sides (two processes for a queue, 1 + N for a broadcast), pins them to --cpus, and the sides
// report back through an anonymous MAP_SHARED block. iceoryx needs its RouDi daemon: the
// benchmark starts /usr/bin/iox-roudi itself and stops it on every exit path. See the notes the
// binary prints for how many busy threads share the 2 cores in each case.
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <new>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"
#include "hft/core/cpu.hpp"
#include "hft/ipc/broadcast_ring.hpp"
#include "hft/ipc/ipc_mpsc_queue.hpp"
#include "hft/ipc/ipc_spsc_queue.hpp"
#include "hft/ipc/shared_region.hpp"
#include "hft/queue/spsc_queue.hpp"

#if defined(HFT_HAVE_BOOST_INTERPROCESS)
#include <boost/interprocess/ipc/message_queue.hpp>
#endif

// iceoryx's libraries are not built with TSan: its lock-free queues in shared memory would
// be reported as races the instrumented side cannot see the other half of.
#if defined(__SANITIZE_THREAD__)
#define HFT_BENCH_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define HFT_BENCH_TSAN 1
#endif
#endif

#if defined(HFT_HAVE_ICEORYX) && !defined(HFT_BENCH_TSAN)
#define HFT_BENCH_ICEORYX 1
#include "iceoryx_hoofs/log/logmanager.hpp"
#include "iceoryx_posh/popo/publisher.hpp"
#include "iceoryx_posh/popo/subscriber.hpp"
#include "iceoryx_posh/runtime/posh_runtime.hpp"
#endif

namespace {

using hft::bench::Metrics;
using clk = std::chrono::steady_clock;
constexpr std::size_t kCapacity = 1024;  // every queue's capacity (iceoryx: 256, its maximum)
constexpr std::size_t kWarmRoundTrips = 2000;

// ---- messages --------------------------------------------------------------------------

template <std::size_t N>
struct Msg {
  std::uint64_t seq;
  std::uint64_t pad[N / 8 - 1];
};
template <>
struct Msg<8> {
  std::uint64_t seq;
};
static_assert(sizeof(Msg<8>) == 8 && sizeof(Msg<64>) == 64 && sizeof(Msg<256>) == 256);

std::int64_t mono_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clk::now().time_since_epoch()).count();
}
std::int64_t thread_cpu_ns() noexcept {
  timespec ts{};
  (void)::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

std::string unique_name(const char* what) {
  static int n = 0;
  return "hft_bench_ipc_" + std::string(what) + "_" + std::to_string(::getpid()) + "_" + std::to_string(n++);
}

// A run killed -9 leaves its regions (/dev/shm/hft_bench_ipc_<what>_<pid>_<n>, Boost's queues
// too) and RouDi's log (/tmp/hft_bench_ipc_roudi_<pid>_*) behind: remove those of dead pids.
void remove_stale_files() {
  namespace fs = std::filesystem;
  const std::string prefix = "hft_bench_ipc_";
  for (const char* dir : {"/dev/shm", "/tmp"}) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      const std::string name = entry.path().filename().string();
      if (name.rfind(prefix, 0) != 0) continue;
      const std::size_t at = name.find('_', prefix.size());  // after <what>
      if (at == std::string::npos) continue;
      const long pid = std::strtol(name.c_str() + at + 1, nullptr, 10);
      if (pid <= 0 || pid == ::getpid() || ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM) continue;
      std::error_code rm;
      if (fs::remove(entry.path(), rm)) std::fprintf(stderr, "bench_ipc: removed stale %s\n", entry.path().c_str());
    }
  }
}

// ---- the block every side of a run reports through ---------------------------------------

constexpr int kMaxReaders = 4;

struct Control {
  std::atomic<int> ready{0};  // sides attached and waiting at the start line
  std::atomic<int> stop{0};   // broadcast: the writer is done
  std::atomic<int> abort{0};  // a side failed: the others leave their waits
  std::atomic<int> done{0};   // readers finished
  std::int64_t t0_ns = 0;     // CLOCK_MONOTONIC: comparable across processes
  std::int64_t t1_ns = 0;
  std::uint64_t sum = 0;  // consumer's checksum of sequence numbers
  double cpu_ns = 0;      // broadcast writer: thread CPU time per transmit
  double wall_ns = 0;     // broadcast writer: wall time per transmit
  std::int64_t reader_t1_ns[kMaxReaders] = {};
  std::uint64_t received[kMaxReaders] = {};
  std::uint64_t lost[kMaxReaders] = {};
  char error[512] = {};
};

// Anonymous MAP_SHARED memory: a Control and then `n` per-sample tick slots, shared with every
// forked side (and between threads alike). Allocated before the run, so the measured loops
// write samples without allocating.
class SharedBlock {
 public:
  explicit SharedBlock(std::size_t samples) : bytes_(sizeof(Control) + samples * sizeof(std::uint64_t)) {
    void* p = ::mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::runtime_error("bench_ipc: mmap of the shared block failed");
    base_ = static_cast<std::byte*>(p);
    ctl_ = new (base_) Control();
    std::memset(base_ + sizeof(Control), 0, samples * sizeof(std::uint64_t));  // touch the pages now
  }
  SharedBlock(const SharedBlock&) = delete;
  SharedBlock& operator=(const SharedBlock&) = delete;
  ~SharedBlock() {
    ctl_->~Control();
    (void)::munmap(base_, bytes_);
  }
  Control& ctl() const noexcept { return *ctl_; }
  std::uint64_t* ticks() const noexcept { return reinterpret_cast<std::uint64_t*>(base_ + sizeof(Control)); }

 private:
  std::size_t bytes_;
  std::byte* base_ = nullptr;
  Control* ctl_ = nullptr;
};

void fail(Control& c, const std::string& what) {
  int expected = 0;
  if (c.abort.compare_exchange_strong(expected, 1)) {
    std::snprintf(c.error, sizeof c.error, "%s", what.c_str());
  }
}

// Every side calls this once attached; returns when all `n` are.
void arrive_and_wait(Control& c, int n) {
  c.ready.fetch_add(1);
  while (c.ready.load() < n) {
    if (c.abort.load() != 0) throw std::runtime_error("another side failed");
    std::this_thread::yield();
  }
}

// ---- running the sides: threads of this process, or forked processes ---------------------

enum class Launch { Threads, Processes, CleanExitProcesses };

// Runs each side on its own thread or in its own forked process and waits for all of them
// (a 120 s watchdog kills a hung run). A side that throws fails the run with its message.
// CleanExitProcesses: the child leaves with exit(), so iceoryx's runtime unregisters from RouDi
// (its destructors send the requests); the others _exit().
void launch(Launch how, Control& ctl, const std::vector<std::function<void()>>& sides) {
  if (how == Launch::Threads) {
    std::vector<std::thread> threads;
    for (const auto& side : sides) {
      threads.emplace_back([&ctl, &side] {
        try {
          side();
        } catch (const std::exception& e) {
          fail(ctl, e.what());
        }
      });
    }
    for (auto& t : threads) t.join();
  } else {
    (void)std::fflush(stdout);  // a child that exit()s must not print the parent's buffer again
    (void)std::fflush(stderr);
    std::vector<pid_t> pids;
    for (const auto& side : sides) {
      const pid_t pid = ::fork();
      if (pid < 0) {
        fail(ctl, "fork failed");
        break;
      }
      if (pid == 0) {
        (void)::prctl(PR_SET_PDEATHSIG, SIGKILL);  // a side never outlives a killed benchmark
        int rc = 0;
        try {
          side();
        } catch (const std::exception& e) {
          fail(ctl, e.what());
          rc = 1;
        }
        if (how == Launch::CleanExitProcesses) std::exit(rc);
        ::_exit(rc);
      }
      pids.push_back(pid);
    }
    const auto deadline = clk::now() + std::chrono::seconds(120);
    std::size_t left = pids.size();
    std::vector<bool> reaped(pids.size(), false);
    while (left > 0) {
      for (std::size_t i = 0; i < pids.size(); ++i) {
        if (reaped[i]) continue;
        int st = 0;
        const pid_t r = ::waitpid(pids[i], &st, WNOHANG);
        if (r == pids[i]) {
          reaped[i] = true;
          --left;
          if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fail(ctl, WIFSIGNALED(st) ? "a side was killed by signal " + std::to_string(WTERMSIG(st))
                                      : "a side exited with " + std::to_string(WEXITSTATUS(st)));
          }
        }
      }
      if (left == 0) break;
      const bool late = clk::now() > deadline;
      if (late) fail(ctl, "watchdog: a run took over 120 s");
      if (ctl.abort.load() != 0) {
        // A side spinning on a dead peer never returns: give the others a moment, then kill.
        std::this_thread::sleep_for(std::chrono::milliseconds(late ? 0 : 200));
        for (std::size_t i = 0; i < pids.size(); ++i) {
          if (!reaped[i]) (void)::kill(pids[i], SIGKILL);
        }
        for (std::size_t i = 0; i < pids.size(); ++i) {
          if (!reaped[i]) (void)::waitpid(pids[i], nullptr, 0);
        }
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));  // the parent is not a busy thread
    }
  }
  if (ctl.abort.load() != 0) throw std::runtime_error(std::string("bench_ipc: run failed: ") + ctl.error);
}

// ---- channel pairs -----------------------------------------------------------------------
//
// A pair is two one-way channels of one kind: ch0 from side A to side B, ch1 back. It is made
// in the parent before the fork; a() and b() attach an end in the side's own process (or
// thread). An end's send() and recv() wait: spinning (cpu_relax) for the shared-memory
// channels, in the kernel (blocking calls) for the others.

template <class M>
struct InProcSpscPair {
  static constexpr Launch kLaunch = Launch::Threads;
  hft::SpscQueue<M> q0{kCapacity}, q1{kCapacity};
  struct End {
    hft::SpscQueue<M>* tx;
    hft::SpscQueue<M>* rx;
    void send(const M& m) {
      while (!tx->try_push(m)) hft::cpu_relax();
    }
    void recv(M& m) {
      while (!rx->try_pop(m)) hft::cpu_relax();
    }
  };
  End a() { return {&q0, &q1}; }
  End b() { return {&q1, &q0}; }
};

// One of hft's inter-process queues (IpcSpscQueue, or IpcMpscQueue with one producer per
// direction: what its claim, a CAS on tail and one on the slot's owner word, costs next to
// plain stores). L = Threads: the same queue between two threads of one process (a diagnostic
// row: what the process boundary itself costs, mappings and page tables apart from the code).
template <template <class> class Queue, class M, Launch L = Launch::Processes>
struct IpcQueuePair {
  using Q = Queue<M>;
  static constexpr Launch kLaunch = L;
  static inline const hft::ipc::TypeTag kTag = hft::ipc::type_tag("bench_ipc::Msg/" + std::to_string(sizeof(M)));
  std::string n0 = unique_name("ipcq"), n1 = unique_name("ipcq");
  Q q0 = Q::create(n0, kCapacity, kTag);
  Q q1 = Q::create(n1, kCapacity, kTag);
  IpcQueuePair() = default;
  IpcQueuePair(const IpcQueuePair&) = delete;
  IpcQueuePair& operator=(const IpcQueuePair&) = delete;
  ~IpcQueuePair() {
    (void)Q::remove(n0);
    (void)Q::remove(n1);
  }
  struct End {
    typename Q::Producer tx;
    typename Q::Consumer rx;
    void send(const M& m) {
      while (!tx.try_push(m)) hft::cpu_relax();
    }
    void recv(M& m) {
      while (!rx.try_pop(m)) hft::cpu_relax();
    }
  };
  End a() { return {q0.producer(), q1.consumer()}; }
  End b() { return {q1.producer(), q0.consumer()}; }
};
template <class M, Launch L = Launch::Processes>
using IpcSpscPair = IpcQueuePair<hft::ipc::IpcSpscQueue, M, L>;
template <class M>
using IpcMpscPair = IpcQueuePair<hft::ipc::IpcMpscQueue, M>;

// Exact-size blocking read/write on a file descriptor (a stream socket or a pipe): one
// message per call in the steady state, as a message channel would use it.
void write_all(int fd, const void* p, std::size_t n) {
  const auto* c = static_cast<const char*>(p);
  while (n > 0) {
    const ssize_t k = ::write(fd, c, n);
    if (k < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("write failed: " + std::string(std::strerror(errno)));
    }
    c += k;
    n -= static_cast<std::size_t>(k);
  }
}
void read_all(int fd, void* p, std::size_t n) {
  auto* c = static_cast<char*>(p);
  while (n > 0) {
    const ssize_t k = ::read(fd, c, n);
    if (k <= 0) {
      if (k < 0 && errno == EINTR) continue;
      throw std::runtime_error(k == 0 ? "read: end of file" : "read failed: " + std::string(std::strerror(errno)));
    }
    c += k;
    n -= static_cast<std::size_t>(k);
  }
}

template <class M>
struct FdEnd {
  int tx, rx;
  void send(const M& m) { write_all(tx, &m, sizeof m); }
  void recv(M& m) { read_all(rx, &m, sizeof m); }
};

// Two kernel channels' four descriptors, closed at the end of the run.
struct FourFds {
  int c0[2] = {-1, -1}, c1[2] = {-1, -1};
  FourFds() = default;
  FourFds(const FourFds&) = delete;
  FourFds& operator=(const FourFds&) = delete;
  ~FourFds() {
    for (const int fd : {c0[0], c0[1], c1[0], c1[1]}) {
      if (fd >= 0) ::close(fd);
    }
  }
};

template <class M>
struct UnixSocketPair : FourFds {  // c0, c1: socket pairs; [0] is A's end, [1] B's
  static constexpr Launch kLaunch = Launch::Processes;
  UnixSocketPair() {
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, c0) != 0 || ::socketpair(AF_UNIX, SOCK_STREAM, 0, c1) != 0)
      throw std::runtime_error("socketpair failed");
  }
  FdEnd<M> a() { return {c0[0], c1[0]}; }
  FdEnd<M> b() { return {c1[1], c0[1]}; }
};

template <class M>
struct PipePair : FourFds {  // A writes c0[1], B reads c0[0]; back on c1
  static constexpr Launch kLaunch = Launch::Processes;
  PipePair() {
    if (::pipe(c0) != 0 || ::pipe(c1) != 0) throw std::runtime_error("pipe failed");
  }
  FdEnd<M> a() { return {c0[1], c1[0]}; }
  FdEnd<M> b() { return {c1[1], c0[0]}; }
};

#if defined(HFT_HAVE_BOOST_INTERPROCESS)
namespace bip = boost::interprocess;

// Names this process created, removed at exit on every path (atexit), and at once after a run.
std::vector<std::string>& boost_names() {
  static std::vector<std::string> names;
  static const pid_t owner = ::getpid();
  static const bool registered = [] {
    (void)std::atexit([] {
      if (::getpid() != owner) return;  // a forked side's exit() must not remove the parent's queues
      for (const auto& n : boost_names()) (void)bip::message_queue::remove(n.c_str());
    });
    return true;
  }();
  (void)registered;
  return names;
}

template <class M>
struct BoostMqPair {
  static constexpr Launch kLaunch = Launch::Processes;
  std::string n0 = unique_name("bmq"), n1 = unique_name("bmq");
  std::unique_ptr<bip::message_queue> q0, q1;
  BoostMqPair() {
    boost_names().push_back(n0);
    boost_names().push_back(n1);
    q0 = std::make_unique<bip::message_queue>(bip::create_only, n0.c_str(), kCapacity, sizeof(M));
    q1 = std::make_unique<bip::message_queue>(bip::create_only, n1.c_str(), kCapacity, sizeof(M));
  }
  BoostMqPair(const BoostMqPair&) = delete;
  BoostMqPair& operator=(const BoostMqPair&) = delete;
  ~BoostMqPair() {
    q0.reset();
    q1.reset();
    (void)bip::message_queue::remove(n0.c_str());
    (void)bip::message_queue::remove(n1.c_str());
  }
  struct End {
    bip::message_queue* tx;
    bip::message_queue* rx;
    void send(const M& m) { tx->send(&m, sizeof m, 0); }
    void recv(M& m) {
      bip::message_queue::size_type got = 0;
      unsigned prio = 0;
      rx->receive(&m, sizeof m, got, prio);
      if (got != sizeof m) throw std::runtime_error("boost message_queue: short message");
    }
  };
  End a() { return {q0.get(), q1.get()}; }
  End b() { return {q1.get(), q0.get()}; }
};
#endif

// ---- iceoryx: RouDi, and a pub/sub pair ---------------------------------------------------

#if defined(HFT_BENCH_ICEORYX)
constexpr const char* kRouDi = "/usr/bin/iox-roudi";

// RouDi as a child of this process: started once, stopped (SIGTERM, then SIGKILL after 5 s,
// waitpid) by the destructor, by atexit and by SIGINT/SIGTERM/SIGHUP. Only the process that
// started it stops it (a forked side's exit() leaves it alone).
class RouDi {
 public:
  static RouDi& instance() {
    static RouDi r;
    return r;
  }
  RouDi(const RouDi&) = delete;
  RouDi& operator=(const RouDi&) = delete;

  // Starts RouDi (or finds one already running). False, with why(), when it cannot.
  bool start() {
    if (state_ != State::Off) return state_ != State::Failed;
    state_ = State::Failed;
    if (::access(kRouDi, X_OK) != 0) return failed(std::string(kRouDi) + " not found (install Debian's iceoryx)");
    // A live RouDi holds this lock; a RouDi killed -9 leaves the lock file, its socket /tmp/roudi
    // and /dev/shm/iceoryx_mgmt behind, unlocked: RouDi unlinks those stale files when it starts.
    const int lock = ::open("/tmp/iox-unique-roudi.lock", O_RDONLY | O_CLOEXEC);
    if (lock >= 0) {
      const bool held = ::flock(lock, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
      ::close(lock);
      if (held) {
        // The lock without RouDi's socket is not a RouDi a runtime could register with.
        if (::access("/tmp/roudi", F_OK) != 0)
          return failed("/tmp/iox-unique-roudi.lock is held but RouDi's socket /tmp/roudi is missing");
        state_ = State::Foreign;
        status_ = "iceoryx: a RouDi is already running on this machine (its lock is held): using it, not stopping it";
        return true;
      }
      status_ =
          "iceoryx: stale RouDi files from a killed run (/tmp/iox-unique-roudi.lock, /tmp/roudi, "
          "/dev/shm/iceoryx_mgmt): the RouDi started here purges them. ";
    }
    std::string path = "/tmp/hft_bench_ipc_roudi_" + std::to_string(::getpid()) + "_XXXXXX";
    const int log = ::mkstemp(path.data());
    if (log < 0) return failed("mkstemp for RouDi's log failed");
    log_ = path;
    (void)std::fflush(stdout);
    (void)std::fflush(stderr);
    const pid_t owner_pid = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
      ::close(log);
      return failed("fork failed");
    }
    if (pid == 0) {
      // This process killed -9 (no atexit, no handler) must not leave RouDi running: the kernel
      // sends it SIGTERM when its parent dies, and it then cleans up its shared memory.
      (void)::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != owner_pid) ::_exit(1);
      (void)::dup2(log, 1);
      (void)::dup2(log, 2);
      // Monitoring off: a side that is busy-polling on a shared core may miss heartbeats; the
      // sides unregister cleanly instead (exit()).
      ::execl(kRouDi, kRouDi, "-m", "off", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(log);
    pid_ = pid;
    owner_ = ::getpid();
    install_stop_hooks();
    const auto deadline = clk::now() + std::chrono::seconds(10);
    while (clk::now() < deadline) {
      if (log_text().find("RouDi is ready for clients") != std::string::npos) {
        state_ = State::Ours;
        status_ += "iceoryx: started " + std::string(kRouDi) + " -m off (pid " + std::to_string(pid_) +
                   "); stopped with SIGTERM at exit";
        return true;
      }
      int st = 0;
      if (::waitpid(pid_, &st, WNOHANG) == pid_) {
        pid_ = -1;
        return failed("RouDi exited at start: " + log_text());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    stop();
    return failed("RouDi did not report ready within 10 s: " + log_text());
  }

  // Idempotent; async-signal-safe up to the waitpid loop.
  void stop() noexcept {
    if (pid_ <= 0 || ::getpid() != owner_) return;
    const pid_t pid = pid_;
    pid_ = -1;
    (void)::kill(pid, SIGTERM);
    for (int i = 0; i < 500; ++i) {
      if (::waitpid(pid, nullptr, WNOHANG) == pid) {
        (void)::unlink(log_.c_str());
        return;
      }
      ::usleep(10'000);
    }
    (void)::kill(pid, SIGKILL);
    (void)::waitpid(pid, nullptr, 0);
    (void)::unlink(log_.c_str());
  }

  ~RouDi() { stop(); }
  [[nodiscard]] const std::string& status() const noexcept { return status_; }

 private:
  enum class State { Off, Ours, Foreign, Failed };
  RouDi() = default;

  bool failed(const std::string& why) {
    status_ = "iceoryx rows SKIPPED: RouDi could not start: " + why;
    if (!log_.empty()) (void)::unlink(log_.c_str());
    return false;
  }
  [[nodiscard]] std::string log_text() const {
    std::ifstream f(log_);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
  }
  static void on_signal(int sig) {
    RouDi& r = instance();
    if (r.pid_ > 0 && ::getpid() == r.owner_) (void)::kill(r.pid_, SIGTERM);
    (void)::signal(sig, SIG_DFL);
    (void)::raise(sig);
  }
  void install_stop_hooks() {
    static bool done = false;
    if (done) return;
    done = true;
    (void)std::atexit([] { instance().stop(); });
    for (const int sig : {SIGINT, SIGTERM, SIGHUP}) (void)::signal(sig, &RouDi::on_signal);
  }

  State state_ = State::Off;
  pid_t pid_ = -1;
  pid_t owner_ = -1;
  std::string log_;
  std::string status_;
};

// Runtime names and topics unique to this benchmark process and run.
iox::capro::IdString_t id_string(const std::string& s) { return {iox::cxx::TruncateToCapacity, s.c_str()}; }

// Called once in each forked side, never in the parent (a runtime does not survive fork()).
void init_iceoryx_runtime(const char* role) {
  const std::string name = "hftb_" + std::string(role) + "_" + std::to_string(::getpid());
  // The runtime logs every registration at Debug/Verbose: keep the table readable.
  iox::log::LogManager::GetLogManager().SetDefaultLogLevel(iox::log::LogLevel::kWarn,
                                                           iox::log::LogLevelOutput::kHideLogLevel);
  iox::runtime::PoshRuntime::initRuntime(iox::RuntimeName_t(iox::cxx::TruncateToCapacity, name.c_str()));
}

iox::popo::PublisherOptions lossless_publisher() {
  iox::popo::PublisherOptions o;
  o.subscriberTooSlowPolicy = iox::popo::ConsumerTooSlowPolicy::WAIT_FOR_CONSUMER;
  return o;
}
iox::popo::SubscriberOptions lossless_subscriber() {
  iox::popo::SubscriberOptions o;
  o.queueCapacity = iox::MAX_SUBSCRIBER_QUEUE_CAPACITY;
  o.queueFullPolicy = iox::popo::QueueFullPolicy::BLOCK_PRODUCER;
  return o;
}

template <class Pub, class Sub>
void wait_connected(const Pub* pub, const Sub* sub) {
  const auto deadline = clk::now() + std::chrono::seconds(10);
  while ((pub != nullptr && !pub->hasSubscribers()) ||
         (sub != nullptr && sub->getSubscriptionState() != iox::SubscribeState::SUBSCRIBED)) {
    if (clk::now() > deadline) throw std::runtime_error("iceoryx: publisher and subscriber did not connect in 10 s");
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

// Typed publisher/subscriber, loan + publish and take, busy-polling take().
template <class M>
struct IceoryxPair {
  static constexpr Launch kLaunch = Launch::CleanExitProcesses;
  std::string topic0 = unique_name("ping"), topic1 = unique_name("pong");
  struct End {
    std::unique_ptr<iox::popo::Publisher<M>> pub;
    std::unique_ptr<iox::popo::Subscriber<M>> sub;
    End(const char* role, const std::string& out, const std::string& in) {
      init_iceoryx_runtime(role);
      pub = std::make_unique<iox::popo::Publisher<M>>(
          iox::capro::ServiceDescription{"hft_bench", "ipc", id_string(out)}, lossless_publisher());
      sub = std::make_unique<iox::popo::Subscriber<M>>(
          iox::capro::ServiceDescription{"hft_bench", "ipc", id_string(in)}, lossless_subscriber());
      wait_connected(pub.get(), sub.get());
    }
    void send(const M& m) {
      for (;;) {
        auto loaned = pub->loan();
        if (!loaned.has_error()) {
          *loaned.value() = m;
          loaned.value().publish();
          return;
        }
        hft::cpu_relax();  // every chunk of the pool is in flight: wait for the subscriber
      }
    }
    void recv(M& m) {
      for (;;) {
        auto taken = sub->take();
        if (!taken.has_error()) {
          m = *taken.value();
          return;
        }
        hft::cpu_relax();
      }
    }
  };
  End a() { return End("a", topic0, topic1); }
  End b() { return End("b", topic1, topic0); }
};
#endif

// ---- the measurements --------------------------------------------------------------------

// Ping-pong: A sends i on ch0 and waits for it on ch1; B echoes. Each round trip is timed with
// the TSC after min(kWarmRoundTrips, n / 4) untimed ones; p50/p99/p99.9 over n.
template <class Pair, class M>
Metrics round_trip(const hft::bench::Options& o, std::size_t n) {
  Pair pair;
  SharedBlock blk(n);
  Control& ctl = blk.ctl();
  std::uint64_t* ticks = blk.ticks();
  const std::size_t warm = std::min(kWarmRoundTrips, n / 4);
  const std::vector<std::function<void()>> sides{
      [&] {
        hft::bench::pin_this_thread(o.cpus[0]);
        auto end = pair.a();
        arrive_and_wait(ctl, 2);
        M m{};
        for (std::size_t i = 0; i < warm; ++i) {
          m.seq = i;
          end.send(m);
          end.recv(m);
        }
        for (std::size_t i = 0; i < n; ++i) {
          const std::uint64_t start = hft::bench::TickTimer::now();
          m.seq = i;
          end.send(m);
          end.recv(m);
          ticks[i] = hft::bench::TickTimer::now() - start;
          if (m.seq != i) throw std::logic_error("round trip: wrong item");
        }
      },
      [&] {
        hft::bench::pin_this_thread(o.cpus[1]);
        auto end = pair.b();
        arrive_and_wait(ctl, 2);
        M m{};
        for (std::size_t i = 0; i < warm + n; ++i) {
          end.recv(m);
          end.send(m);
        }
      },
  };
  launch(Pair::kLaunch, ctl, sides);
  return hft::bench::round_trip_metrics(std::vector<std::uint64_t>(ticks, ticks + n));
}

// One way: A sends n messages on ch0 as fast as it can, B takes them; messages per ms from
// A's start to B's last receive (CLOCK_MONOTONIC, the same clock in both processes), after an
// untimed warm-up of min(n / 4, 4 x capacity) messages.
template <class Pair, class M>
Metrics throughput(const hft::bench::Options& o, std::uint64_t n) {
  Pair pair;
  SharedBlock blk(0);
  Control& ctl = blk.ctl();
  // Untimed first: every slot's page is faulted in and every line has moved once in both
  // processes (a forked side maps the region afresh; threads share the parent's pages).
  const std::uint64_t warm = std::min<std::uint64_t>(n / 4, 4 * kCapacity);
  const std::vector<std::function<void()>> sides{
      [&] {
        hft::bench::pin_this_thread(o.cpus[0]);
        auto end = pair.a();
        arrive_and_wait(ctl, 2);
        M m{};
        for (std::uint64_t i = 0; i < warm; ++i) {
          m.seq = i;
          end.send(m);
        }
        arrive_and_wait(ctl, 4);  // the consumer has taken the warm-up messages
        ctl.t0_ns = mono_ns();
        for (std::uint64_t i = warm; i < warm + n; ++i) {
          m.seq = i;
          end.send(m);
        }
      },
      [&] {
        hft::bench::pin_this_thread(o.cpus[1]);
        auto end = pair.b();
        arrive_and_wait(ctl, 2);
        M m{};
        for (std::uint64_t i = 0; i < warm; ++i) end.recv(m);
        arrive_and_wait(ctl, 4);
        std::uint64_t sum = 0;
        for (std::uint64_t i = 0; i < n; ++i) {
          end.recv(m);
          sum += m.seq - warm;
        }
        ctl.t1_ns = mono_ns();
        ctl.sum = sum;
      },
  };
  launch(Pair::kLaunch, ctl, sides);
  if (ctl.sum != n * (n - 1) / 2) throw std::logic_error("throughput: lost or duplicated messages");
  return {{"", static_cast<double>(n) * 1e6 / static_cast<double>(ctl.t1_ns - ctl.t0_ns)}};
}

// ---- broadcast ---------------------------------------------------------------------------

constexpr std::uint64_t kRingBytes = 1u << 20;  // 1 MiB of records

// Untimed transmits before the clock starts: two laps of the ring, so every page is mapped in
// every process and the timed part is the steady state (lapping included), not page faults.
constexpr std::uint64_t warm_transmits(std::size_t size) noexcept { return 2 * kRingBytes / (size + 16); }

struct BroadcastRegion {
  std::string name = unique_name("bcast");
  hft::ipc::SharedRegion region = hft::ipc::SharedRegion::create(name, hft::ipc::broadcast_ring_layout(kRingBytes));
  BroadcastRegion() { region.mark_ready(); }  // a zero-filled ring is an empty ring
  BroadcastRegion(const BroadcastRegion&) = delete;
  BroadcastRegion& operator=(const BroadcastRegion&) = delete;
  ~BroadcastRegion() { (void)hft::ipc::SharedRegion::remove(name); }
  [[nodiscard]] hft::ipc::SharedRegion open() const {
    return hft::ipc::SharedRegion::open(name, hft::ipc::broadcast_ring_layout(kRingBytes));
  }
};

// Polling reader r (when the ring is empty: spins, or with yield_when_idle spins 64x, then
// yields): counts the messages numbered first_counted and up until the writer stops and the
// ring is drained; reports its count and when it finished.
void broadcast_reader(const hft::bench::Options& o, const BroadcastRegion& br, Control& ctl, int r, int sides,
                      bool yield_when_idle, std::uint64_t first_counted) {
  hft::bench::pin_this_thread(o.cpus[1]);
  hft::ipc::BroadcastReceiver rx(br.open());
  arrive_and_wait(ctl, sides);
  std::uint64_t got = 0, lost = 0;
  hft::bench::SpinThenYield idle;  // fan-out: readers share one core, an idle one lets the next run
  for (;;) {
    const auto res = rx.receive_next();
    if (res.status == hft::ipc::ReceiveStatus::Message) {
      std::uint64_t index = 0;  // the writer's message number, the payload's first 8 bytes
      std::memcpy(&index, res.payload.data(), sizeof index);
      if (index >= first_counted) ++got;
    } else if (res.status == hft::ipc::ReceiveStatus::Lapped) {
      lost += res.messages_lost;
    } else if (res.status == hft::ipc::ReceiveStatus::Corrupt) {
      throw std::logic_error("broadcast: Corrupt from an honest writer");
    } else if (ctl.stop.load(std::memory_order_acquire) != 0 && !rx.has_data()) {
      break;
    } else if (yield_when_idle) {
      idle.pause();
    } else {
      hft::cpu_relax();
    }
  }
  ctl.reader_t1_ns[r] = mono_ns();
  ctl.received[r] = got;
  ctl.lost[r] = lost;
}

// The writer's cost per transmit of `Size`-byte messages, back to back, with `readers` busy
// readers attached and reading: CPU time of the writer's thread (what the publish costs it,
// cache misses on lines the readers pulled included) and wall time.
template <std::size_t Size>
Metrics broadcast_transmit(const hft::bench::Options& o, std::uint64_t n, int readers) {
  BroadcastRegion br;
  SharedBlock blk(0);
  Control& ctl = blk.ctl();
  const int sides = 1 + readers;
  std::vector<std::function<void()>> fns;
  fns.emplace_back([&] {
    hft::bench::pin_this_thread(o.cpus[0]);
    hft::ipc::BroadcastTransmitter tx(br.open(), {.notify_waiters = false});  // readers busy-poll
    arrive_and_wait(ctl, sides);
    alignas(8) std::byte payload[Size] = {};
    for (std::uint64_t i = 0; i < warm_transmits(Size); ++i) tx.transmit(1, payload);
    const std::int64_t c0 = thread_cpu_ns();
    const std::int64_t w0 = mono_ns();
    for (std::uint64_t i = 0; i < n; ++i) {
      std::memcpy(payload, &i, sizeof i);
      tx.transmit(1, payload);
    }
    const std::int64_t w1 = mono_ns();
    const std::int64_t c1 = thread_cpu_ns();
    ctl.cpu_ns = static_cast<double>(c1 - c0) / static_cast<double>(n);
    ctl.wall_ns = static_cast<double>(w1 - w0) / static_cast<double>(n);
    ctl.stop.store(1, std::memory_order_release);
  });
  for (int r = 0; r < readers; ++r) fns.emplace_back([&, r] { broadcast_reader(o, br, ctl, r, sides, false, 0); });
  launch(Launch::Processes, ctl, fns);
  return {{"", ctl.cpu_ns}, {"wall", ctl.wall_ns}};
}

// Fan-out: the writer publishes n Size-byte messages back to back to `readers` readers.
// Headline: messages per ms the slowest reader received (from the writer's start to that
// reader's end); "lost %": the messages it missed. hft's ring never waits for a reader (it laps
// them); iceoryx here blocks the publisher on a full subscriber queue (lossless).
template <std::size_t Size>
Metrics broadcast_fanout_hft(const hft::bench::Options& o, std::uint64_t n, int readers) {
  const std::uint64_t warm = warm_transmits(Size);  // counted by nobody
  BroadcastRegion br;
  SharedBlock blk(0);
  Control& ctl = blk.ctl();
  const int sides = 1 + readers;
  std::vector<std::function<void()>> fns;
  fns.emplace_back([&] {
    hft::bench::pin_this_thread(o.cpus[0]);
    hft::ipc::BroadcastTransmitter tx(br.open(), {.notify_waiters = false});
    arrive_and_wait(ctl, sides);
    alignas(8) std::byte payload[Size] = {};
    for (std::uint64_t i = 0; i < warm; ++i) {
      std::memcpy(payload, &i, sizeof i);
      tx.transmit(1, payload);
    }
    ctl.t0_ns = mono_ns();
    for (std::uint64_t i = warm; i < warm + n; ++i) {
      std::memcpy(payload, &i, sizeof i);
      tx.transmit(1, payload);
    }
    ctl.stop.store(1, std::memory_order_release);
  });
  for (int r = 0; r < readers; ++r) {
    fns.emplace_back([&, r] { broadcast_reader(o, br, ctl, r, sides, true, warm); });
  }
  launch(Launch::Processes, ctl, fns);
  double worst = 1e300, lost_pct = 0;
  for (int r = 0; r < readers; ++r) {
    const double rate =
        static_cast<double>(ctl.received[r]) * 1e6 / static_cast<double>(ctl.reader_t1_ns[r] - ctl.t0_ns);
    worst = std::min(worst, rate);
    lost_pct =
        std::max(lost_pct, 100.0 * static_cast<double>(n - std::min(n, ctl.received[r])) / static_cast<double>(n));
  }
  return {{"", worst}, {"lost %", lost_pct}};
}

#if defined(HFT_BENCH_ICEORYX)
template <std::size_t Size>
Metrics broadcast_fanout_iceoryx(const hft::bench::Options& o, std::uint64_t n, int readers) {
  using M = Msg<Size>;
  SharedBlock blk(0);
  Control& ctl = blk.ctl();
  const int sides = 1 + readers;
  const std::string topic = unique_name("fanout");
  std::vector<std::function<void()>> fns;
  fns.emplace_back([&] {
    hft::bench::pin_this_thread(o.cpus[0]);
    init_iceoryx_runtime("w");
    iox::popo::Publisher<M> pub({"hft_bench", "ipc", id_string(topic)}, lossless_publisher());
    // A reader arrives once SUBSCRIBED: RouDi has then added its queue to this publisher.
    arrive_and_wait(ctl, sides);
    ctl.t0_ns = mono_ns();
    for (std::uint64_t i = 0; i < n; ++i) {
      for (;;) {
        auto loaned = pub.loan();
        if (!loaned.has_error()) {
          loaned.value()->seq = i;
          loaned.value().publish();
          break;
        }
        hft::cpu_relax();
      }
    }
    ctl.stop.store(1, std::memory_order_release);
  });
  for (int r = 0; r < readers; ++r) {
    fns.emplace_back([&, r] {
      hft::bench::pin_this_thread(o.cpus[1]);
      init_iceoryx_runtime("r");
      iox::popo::Subscriber<M> sub({"hft_bench", "ipc", id_string(topic)}, lossless_subscriber());
      wait_connected<iox::popo::Publisher<M>>(nullptr, &sub);
      arrive_and_wait(ctl, sides);
      std::uint64_t got = 0;
      hft::bench::SpinThenYield idle;  // as hft's readers: spin 64x, then yield the shared core
      while (got < n) {
        auto taken = sub.take();
        if (taken.has_error()) {
          idle.pause();
          continue;
        }
        if (taken.value()->seq != got) throw std::logic_error("iceoryx fan-out: out of order");
        ++got;
      }
      ctl.reader_t1_ns[r] = mono_ns();
      ctl.received[r] = got;
    });
  }
  launch(Launch::CleanExitProcesses, ctl, fns);
  double worst = 1e300;
  for (int r = 0; r < readers; ++r) {
    worst = std::min(worst,
                     static_cast<double>(ctl.received[r]) * 1e6 / static_cast<double>(ctl.reader_t1_ns[r] - ctl.t0_ns));
  }
  return {{"", worst}, {"lost %", 0.0}};
}
#endif

}  // namespace

int main(int argc, char** argv) {
  return hft::bench::run_suite(argc, argv, "bench_ipc", [&](hft::bench::Suite& suite) {
    const auto& opts = suite.options();
    (void)hft::bench::TickTimer::ns_per_tick();  // calibrate once here: every forked side inherits it
    remove_stale_files();
    const std::size_t rtt_n = opts.quick ? 3'000 : 100'000;
    const std::size_t rtt_slow_n = opts.quick ? 1'000 : 20'000;  // kernel-mediated: ~300x slower per trip
    const std::uint64_t tput_n = opts.quick ? 200'000 : 10'000'000;
    // Kernel-mediated channels, and iceoryx, whose publisher waits for a full subscriber queue
    // with yields: ~100x slower per message.
    const std::uint64_t tput_slow_n = opts.quick ? 20'000 : 200'000;
    const std::uint64_t bcast_n = opts.quick ? 100'000 : 2'000'000;
    const std::uint64_t fan_n = opts.quick ? 20'000 : 400'000;

    bool iceoryx = false;
    std::string iceoryx_status;
#if defined(HFT_BENCH_ICEORYX)
    iceoryx = RouDi::instance().start();
    iceoryx_status = RouDi::instance().status();
#elif defined(HFT_BENCH_TSAN)
    iceoryx_status = "iceoryx rows SKIPPED: a TSan build (libiceoryx is not instrumented: false race reports)";
#else
    iceoryx_status = "iceoryx rows SKIPPED: built without iceoryx (install libiceoryx-posh-dev iceoryx)";
#endif
    if (!iceoryx_status.empty()) {
      std::fprintf(iceoryx ? stdout : stderr, "%s%s\n", iceoryx ? "" : "*** ", iceoryx_status.c_str());
      suite.note(iceoryx_status);
    }
#if !defined(HFT_HAVE_BOOST_INTERPROCESS)
    std::fprintf(stderr, "*** Boost.Interprocess rows SKIPPED: boost/interprocess/ipc/message_queue.hpp not found\n");
    suite.note("Boost.Interprocess rows skipped: boost/interprocess/ipc/message_queue.hpp not found");
#endif
    const std::string cpus = std::to_string(opts.cpus[0]) + "," + std::to_string(opts.cpus[1]);
    suite.note("queue capacity " + std::to_string(kCapacity) + " (iceoryx: subscriber queue 256, its maximum); " +
               "messages of 8 and 64 bytes, a sequence number and padding");
    suite.note("round trip and throughput: side A pinned to CPU " + std::to_string(opts.cpus[0]) + ", side B to CPU " +
               std::to_string(opts.cpus[1]) +
               ": 2 busy threads on 2 cores for the shared-memory channels (hft::SpscQueue: two threads of one "
               "process; hft::IpcSpscQueue and iceoryx: two processes, busy-polling); UDS, pipe and Boost MQ "
               "block in the kernel (futex for Boost) while waiting, so a waiting side sleeps");
    suite.note(
        "round trip: ping over one channel, pong over a second of the same kind; TSC-timed per trip after " +
        std::to_string(kWarmRoundTrips) +
        " untimed (a quarter of the count when it is smaller); throughput: messages per ms from A's start to B's last "
        "receive, one message per send/recv call");
    suite.note("broadcast: ring of 1 MiB; the writer alone on CPU " + std::to_string(opts.cpus[0]) +
               ", the N readers polling on CPU " + std::to_string(opts.cpus[1]) +
               " (with 4 readers: 5 busy processes on 2 cores, the 4 readers time-sliced on one, so at most one "
               "reads at any instant); transmit-cost readers spin when idle, fan-out readers spin 64x then yield "
               "(iceoryx's too), none sleeps; "
               "transmit cost = the writer thread's CPU time per transmit (CLOCK_THREAD_CPUTIME_ID), "
               "64-byte payloads back to back; notify_waiters off (no reader sleeps)");
    suite.note(
        "fan-out: 256-byte messages; headline = messages per ms received by the slowest reader; hft's ring "
        "never waits for readers (a lapped reader loses messages: 'lost %'), iceoryx blocks its publisher "
        "on a full subscriber queue (WAIT_FOR_CONSUMER + BLOCK_PRODUCER: lossless)");
    suite.note("pinned CPUs " + cpus + "; the parent process only waits (sleeps) during a run");

    const std::vector<hft::bench::MetricSpec> rtt{{"p50", "ns", false}, {"p99", "ns", false}, {"p99.9", "ns", false}};
    auto add_size = [&]<std::size_t S>() {
      using M = Msg<S>;
      const std::string sz = std::to_string(S) + "B";
      std::vector<hft::bench::Impl> rt{
          {"hft::SpscQueue (2 threads, floor)", [&, rtt_n] { return round_trip<InProcSpscPair<M>, M>(opts, rtt_n); }},
          {"hft::IpcSpscQueue", [&, rtt_n] { return round_trip<IpcSpscPair<M>, M>(opts, rtt_n); }},
          {"hft::IpcMpscQueue (1 producer)", [&, rtt_n] { return round_trip<IpcMpscPair<M>, M>(opts, rtt_n); }},
      };
      std::vector<hft::bench::Impl> tp{
          {"hft::SpscQueue (2 threads, floor)", [&, tput_n] { return throughput<InProcSpscPair<M>, M>(opts, tput_n); }},
          {"hft::IpcSpscQueue", [&, tput_n] { return throughput<IpcSpscPair<M>, M>(opts, tput_n); }},
          {"hft::IpcSpscQueue (2 threads, diagnostic)",
           [&, tput_n] { return throughput<IpcSpscPair<M, Launch::Threads>, M>(opts, tput_n); }},
          {"hft::IpcMpscQueue (1 producer)", [&, tput_n] { return throughput<IpcMpscPair<M>, M>(opts, tput_n); }},
      };
#if defined(HFT_BENCH_ICEORYX)
      if (iceoryx) {
        rt.push_back({"iceoryx 2.0 pub/sub", [&, rtt_n] { return round_trip<IceoryxPair<M>, M>(opts, rtt_n); }});
        tp.push_back(
            {"iceoryx 2.0 pub/sub", [&, tput_slow_n] { return throughput<IceoryxPair<M>, M>(opts, tput_slow_n); }});
      }
#endif
#if defined(HFT_HAVE_BOOST_INTERPROCESS)
      rt.push_back({"boost::interprocess::message_queue",
                    [&, rtt_slow_n] { return round_trip<BoostMqPair<M>, M>(opts, rtt_slow_n); }});
      tp.push_back({"boost::interprocess::message_queue",
                    [&, tput_slow_n] { return throughput<BoostMqPair<M>, M>(opts, tput_slow_n); }});
#endif
      rt.push_back(
          {"unix socketpair (stream)", [&, rtt_slow_n] { return round_trip<UnixSocketPair<M>, M>(opts, rtt_slow_n); }});
      tp.push_back({"unix socketpair (stream)",
                    [&, tput_slow_n] { return throughput<UnixSocketPair<M>, M>(opts, tput_slow_n); }});
      rt.push_back({"pipe", [&, rtt_slow_n] { return round_trip<PipePair<M>, M>(opts, rtt_slow_n); }});
      tp.push_back({"pipe", [&, tput_slow_n] { return throughput<PipePair<M>, M>(opts, tput_slow_n); }});
      suite.add_case("round_trip_" + sz, rtt, std::move(rt));
      suite.add_case("throughput_" + sz, {{"", "msgs/ms", true}}, std::move(tp));

      const std::string rcase = "round_trip_" + sz + "/p50";
      suite.add_ratio(rcase, "hft::IpcSpscQueue", "hft::SpscQueue (2 threads, floor)", hft::bench::Target::at_most(1.2),
                      "RTT p50 " + sz + " IpcSpscQueue / in-process SpscQueue");
      if (iceoryx) {
        suite.add_ratio(rcase, "hft::IpcSpscQueue", "iceoryx 2.0 pub/sub", hft::bench::Target::at_most(0.5),
                        "RTT p50 " + sz + " IpcSpscQueue / iceoryx");
      }
      suite.add_ratio(rcase, "hft::IpcSpscQueue", "unix socketpair (stream)", hft::bench::Target::at_most(0.1),
                      "RTT p50 " + sz + " IpcSpscQueue / Unix socket");
      suite.add_ratio("throughput_" + sz, "hft::IpcSpscQueue", "hft::SpscQueue (2 threads, floor)",
                      hft::bench::Target::at_least(0.8), "throughput " + sz + " IpcSpscQueue / in-process SpscQueue");
    };
    add_size.template operator()<8>();
    add_size.template operator()<64>();

    // The row names say how many busy processes share the 2 cores.
    auto tx_name = [](int readers) {
      return "BroadcastTransmitter, " + std::to_string(readers) + " readers (" + std::to_string(1 + readers) +
             " busy / 2 cores)";
    };
    std::vector<hft::bench::Impl> tx;
    for (const int readers : {0, 1, 2, 4}) {
      tx.push_back({tx_name(readers), [&, readers] { return broadcast_transmit<64>(opts, bcast_n, readers); }});
    }
    suite.add_case("broadcast_transmit_64B", {{"", "ns CPU/msg", false}, {"wall", "ns/msg", false}}, std::move(tx));
    for (const int readers : {0, 1, 2, 4}) {
      suite.add_absolute("broadcast_transmit_64B", tx_name(readers), hft::bench::Target::at_most(30.0),
                         "broadcast publish 64B, " + std::to_string(readers) + " readers (writer CPU ns)");
    }
    for (const int readers : {1, 2, 4}) {
      std::vector<hft::bench::Impl> fan{
          {"hft::BroadcastRing", [&, readers] { return broadcast_fanout_hft<256>(opts, fan_n, readers); }},
      };
#if defined(HFT_BENCH_ICEORYX)
      if (iceoryx) {
        fan.push_back(
            {"iceoryx 2.0 pub/sub", [&, readers] { return broadcast_fanout_iceoryx<256>(opts, fan_n, readers); }});
      }
#endif
      // fanout_256B_<N>r_<N+1>busy: the writer and N readers on 2 cores.
      suite.add_case("fanout_256B_" + std::to_string(readers) + "r_" + std::to_string(readers + 1) + "busy",
                     {{"", "msgs/ms", true}, {"lost %", "%", false}}, std::move(fan));
    }
    suite.run_and_report();
#if defined(HFT_BENCH_ICEORYX)
    RouDi::instance().stop();
#endif
  });
}
