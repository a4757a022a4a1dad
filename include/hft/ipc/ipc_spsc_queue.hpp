// hft/ipc/ipc_spsc_queue.hpp: IpcSpscQueue<T>, a bounded single-producer single-consumer
// queue between two processes, in a named shared-memory region.
//
// What: SpscQueue's design laid out in a SharedRegion (ChannelKind::SpscQueue). The region
//   holds a control block of four 128-byte lines (the two role owners; the producer's tail;
//   the consumer's head; a SharedWaitWord) and then bit_ceil(capacity) slots of
//   {seq, item}. A push copies the item into slot (pos & mask) and stores seq = pos + 1;
//   the consumer at position h pops when its slot's seq == h + 1, so it touches one line
//   per message and never reads the producer's index. The producer keeps a private copy of
//   head and reads the shared one only when its copy says full. T is trivially copyable
//   and travels by memcpy; the region holds no pointers, only positions. A process attaches
//   as the Producer or the Consumer (handle types); each role records its holder's
//   ProcessIdentity, so a second live holder is refused and a dead one can be replaced.
// When to use: a hand-off of fixed-size messages from one process to another on the same
//   machine (feed handler -> strategy, strategy -> gateway) at close to in-process cost.
// When not: threads of one process (SpscQueue: no region, no syscalls at attach); several
//   producers (IpcMpscQueue); one writer and many readers, or a writer that must never wait
//   for a reader (BroadcastRing); variable-length messages (BroadcastRing); across machines
//   (a socket, Aeron UDP); persistence (hft/journal).
//
// Thread-safety:
//   producer handle, one thread at a time: try_push, try_push_n, push, push_for
//   consumer handle, one thread at a time: try_pop (both forms), consume, pop_wait,
//                                          wait_for_data
//   any thread: size, empty (snapshots in [0, capacity]), capacity, producer_alive,
//               consumer_alive, stats; producer() and consumer() (they attach atomically).
//   One process may hold both roles (two threads, or tests).
// Progress: try_push, try_push_n, try_pop, consume are wait-free (no loop on the other
//   side's progress; consume stops after at most capacity items). push spins (cpu_relax, then
//   yield) while the queue is full, checking the consumer's liveness every
//   kPeerCheckInterval; push_for the same, bounded by its timeout. pop_wait/wait_for_data
//   block on a futex, bounded by their timeout. producer()/consumer() read /proc.
// Memory ordering: every pair below holds across processes as between threads (the region
//   is one physical memory, and every shared word is a lock-free std::atomic_ref):
//   - the producer memcpys the item and stores the slot's seq with release; the consumer
//     loads seq with acquire (try_pop, consume, the wait condition): the item is complete.
//   - the consumer stores head with release after copying the item(s) out; the producer
//     loads head with acquire when its cached copy says full: the copy is done before the
//     slot is overwritten.
//   - the producer stores tail with release after each push or batch; size() and a producer
//     taking the role over load it with acquire. The consumer never reads tail.
//   - after publishing the producer calls shared_wait::notify (a relaxed load of waiters,
//     ordered after the seq store by the waiter's membarrier, or by a seq_cst fence where
//     membarrier is missing); a sleeping consumer announced itself with a seq_cst
//     fetch_add and re-checks seq with acquire before sleeping (shared_wait.hpp).
//   - a role is taken with an acq_rel CAS on its owner word and given back with a release
//     CAS; a new holder then reads head/tail with acquire (the pair above, with the old
//     holder's last stores).
// Complexity: O(1) per item; try_push_n and consume move k items with one index store and
//   at most one read of the other side's index. Nothing is allocated after attach
//   (create/open allocate the region's name).
// Compared with:
//   - iceoryx: a RouDi daemon owns the memory and hands out loaned chunks (zero-copy, a
//     shared-memory allocator). No daemon here: the creator owns a region of fixed layout,
//     items are copied (as cheap as a loan for the small messages this is for), and a
//     dead peer is found by (pid, start time) instead of a daemon's heartbeat.
//   - Boost.Interprocess message_queue: a mutex and two condition variables in shared
//     memory around every send and receive (a syscall on every contended hand-off, and a
//     holder that dies with the mutex wedges both sides). Here nothing locks; a killed
//     peer leaves at most an unpublished slot.
//   - rigtorp::SPSCQueue, moodycamel::ReaderWriterQueue: not shareable between processes
//     (a heap pointer to the slots, an allocator, moodycamel's linked blocks). Ours are
//     offsets in a validated region; the protocol is SpscQueue's.
//   - Aeron IPC: a log buffer with a term per publication, a separate conductor and flow
//     control through subscriber positions; variable-length frames. Ours is fixed-size
//     items with the consumer's head as the only flow control.
// Layout: channel area = control block (512 bytes: owners | tail | head | wait word, one
//   128-byte line each) + bit_ceil(capacity) slots of sizeof(detail::SpscSlot<T>) bytes
//   (8-byte seq, then T at its alignment). A fresh (zero-filled) area is the initial state.
// Lifecycle: create() makes the region (exclusive) and marks it ready; open() maps an
//   existing one, refusing a mismatch of capacity, type_tag, element_size or element_align
//   with an error naming the field (SharedRegion). The IpcSpscQueue object (a mapping) is
//   neither copyable nor movable; producer()/consumer() attach a handle (move-only) that
//   must not outlive it, and the handle's destructor gives the role back. The region lives
//   until remove(name) (any process, usually the creator at shutdown).
// Errors: std::invalid_argument / std::length_error for a capacity of 0 or above
//   max_capacity(); SharedRegion's exceptions from create/open; std::runtime_error
//   "hft::IpcSpscQueue: <name>: producer: held by live process pid N" when the role is
//   taken, and "...: tail: ..." when a producer attaches to a region whose indices
//   contradict each other; hft::ipc::PeerDead from push() when the queue is full and the
//   consumer is dead. Full and empty are not errors: try_* returns false.
// Crash semantics:
//   - producer killed at any point: an item whose seq store did not happen is invisible;
//     the consumer sees the stream end at the last published item (a prefix, of a batch
//     too; nothing torn) and producer_alive() turns false (once the process is gone or a
//     zombie); pop_wait/wait_for_data return false at their timeout. A new
//     producer may attach: it resumes after the last published position (it rescans the
//     one seq the dead one may have stored without its tail) and the stream continues.
//   - consumer killed: items it copied out but whose head store did not happen are still
//     queued and are delivered again to the next consumer (at-least-once across a consumer
//     takeover; exactly once otherwise). A producer held back by the dead consumer (queue
//     full) learns it within kPeerCheckInterval plus one /proc read: push() throws
//     PeerDead, push_for() returns PushResult::PeerDead. With no consumer attached at all
//     (none yet, or one that detached cleanly) push keeps waiting: use push_for. A consumer
//     killed while asleep in pop_wait/wait_for_data stays counted as a waiter, so each push
//     makes one FUTEX_WAKE syscall until a new consumer takes the role (which clears it).
//   - a fork()ed child's copy of a handle never gives back its parent's role (release checks
//     the pid), so a child leaving a scope cannot let a second holder in beside the parent.
//   - hostile or buggy peer: every position read from the region is used only as
//     (pos & mask) with the mask from this process's own capacity, and a seq that does not
//     match is "not ready", never a length: a reader cannot crash or read out of bounds,
//     whatever the region holds (it may receive garbage items, or nothing). Truncating the
//     object under a mapping is the exception (SIGBUS: see SharedRegion's Security).
#pragma once

#include <unistd.h>

#include <atomic>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <limits>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>

#include "hft/core/assert.hpp"
#include "hft/core/cpu.hpp"
#include "hft/ipc/process_identity.hpp"
#include "hft/ipc/shared_region.hpp"
#include "hft/ipc/shared_wait.hpp"
#include "hft/queue/sequenced_ring.hpp"

namespace hft::ipc {

/// Counters of one IpcSpscQueue object (this process's view), by value from stats().
/// Relaxed loads: statistics, not synchronisation.
struct IpcSpscQueueStats {
  std::uint64_t takeovers = 0;      ///< roles attached here that replaced a dead holder
  std::uint64_t peer_dead = 0;      ///< push/push_for calls that found the consumer dead
  std::uint64_t waits = 0;          ///< wait_for_data/pop_wait calls that found the queue empty
  std::uint64_t wait_timeouts = 0;  ///< of those, the ones that timed out
  std::uint64_t futex_wakes = 0;    ///< this process, every channel: notify() calls that woke a sleeper
  std::uint64_t futex_sleeps = 0;   ///< this process, every channel: FUTEX_WAIT calls
};

namespace detail {

inline constexpr std::size_t kSpscLine = 128;

// Four lines, one writer each (the adjacent-line prefetcher pairs 64-byte lines, hence 128):
// the owners change only at attach/detach; tail is the producer's, head the consumer's; the
// wait word's waiters change only when a consumer sleeps, so the producer's per-publish load
// of it stays a local hit.
struct alignas(kSpscLine) SpscControl {
  // Never constructed: the mapped bytes are read and written in place (zero at create).
  std::uint64_t producer_owner = 0;  // pack_owner() of the attached producer; 0: none
  std::uint64_t consumer_owner = 0;
  alignas(kSpscLine) std::uint64_t tail = 0;
  alignas(kSpscLine) std::uint64_t head = 0;
  alignas(kSpscLine) SharedWaitWord data;
};
static_assert(sizeof(SpscControl) == 4 * kSpscLine && alignof(SpscControl) == kSpscLine);
static_assert(offsetof(SpscControl, consumer_owner) == 8 && offsetof(SpscControl, tail) == kSpscLine &&
                  offsetof(SpscControl, head) == 2 * kSpscLine && offsetof(SpscControl, data) == 3 * kSpscLine,
              "the control block is part of the region format");
static_assert(std::is_standard_layout_v<SpscControl> && std::is_trivially_copyable_v<SpscControl>);

template <class T>
// NOLINTNEXTLINE(cppcoreguidelines-pro-type-member-init): raw bytes in shared memory
struct alignas(std::uint64_t) alignas(T) SpscSlot {
  std::uint64_t seq;  // position + 1 of the item held once published; 0 in a fresh region
  alignas(T) unsigned char storage[sizeof(T)];
};

}  // namespace detail

/// A bounded single-producer single-consumer queue of trivially copyable T between two
/// processes: per-slot sequence numbers in a shared region, liveness of both roles.
template <class T>
class IpcSpscQueue {
  static_assert(std::is_trivially_copyable_v<T>, "hft::IpcSpscQueue<T>: T crosses processes by memcpy");
  static_assert(alignof(T) <= SharedRegion::kMaxElementAlign, "hft::IpcSpscQueue<T>: alignof(T) above 256");
  static_assert(sizeof(T) <= std::numeric_limits<std::uint32_t>::max(), "hft::IpcSpscQueue<T>: sizeof(T) >= 4 GiB");
  static_assert(std::atomic<std::uint64_t>::is_always_lock_free && std::atomic_ref<std::uint64_t>::is_always_lock_free,
                "a word shared between processes must be lock-free (an address-keyed lock is per process)");
  static_assert(std::atomic_ref<std::uint32_t>::is_always_lock_free, "the wait word must be lock-free");
  using Slot = detail::SpscSlot<T>;
  using Control = detail::SpscControl;
  static_assert(alignof(Slot) <= sizeof(Control), "slots follow the control block at their alignment");

 public:
  /// The element type.
  using value_type = T;
  /// The type of sizes and capacities.
  using size_type = std::size_t;
  /// What push_for() did.
  enum class PushResult { Pushed, TimedOut, PeerDead };
  /// How often a producer waiting for room checks that the consumer is alive.
  static constexpr std::chrono::milliseconds kPeerCheckInterval{1};

  class Producer;
  class Consumer;

  /// Creates the region `name` (exclusive: std::system_error EEXIST if it exists) for
  /// exactly `capacity` items, zero-filled and marked ready. Any thread.
  [[nodiscard]] static IpcSpscQueue create(std::string_view name, size_type capacity, TypeTag type_tag,
                                           const SharedRegionConfig& cfg = {}) {
    SharedRegion region = SharedRegion::create(name, layout(capacity, type_tag), cfg);
    // Zero-filled is the initial state (no owners, head = tail = 0, no seq matches): nothing
    // to write before openers may use it.
    region.mark_ready();
    return IpcSpscQueue(std::move(region), capacity);
  }

  /// Opens the existing region `name`, refusing one whose capacity, type_tag,
  /// element_size, element_align or size differs from this process's (std::runtime_error
  /// naming the field and both values); waits up to cfg.open_timeout for its creator.
  [[nodiscard]] static IpcSpscQueue open(std::string_view name, size_type capacity, TypeTag type_tag,
                                         const SharedRegionConfig& cfg = {}) {
    return IpcSpscQueue(SharedRegion::open(name, layout(capacity, type_tag), cfg), capacity);
  }

  /// Unlinks the region `name` (mappings stay valid). False if it did not exist.
  static bool remove(std::string_view name, const SharedRegionConfig& cfg = {}) noexcept {
    return SharedRegion::remove(name, cfg);
  }

  /// The layout a queue of `capacity` items of T states at create and expects at open.
  /// Throws std::invalid_argument for 0, std::length_error above max_capacity().
  [[nodiscard]] static RegionLayout layout(size_type capacity, TypeTag type_tag) {
    ::hft::detail::check_capacity("hft::IpcSpscQueue", capacity, max_capacity());
    return {.kind = ChannelKind::SpscQueue,
            .element_size = static_cast<std::uint32_t>(sizeof(T)),
            .element_align = static_cast<std::uint32_t>(alignof(T)),
            .type_tag = type_tag,
            .capacity = capacity,
            .channel_bytes = sizeof(Control) + std::bit_ceil(capacity) * sizeof(Slot)};
  }

  /// The largest capacity create/open accept (the region's channel area is at most 2^40 bytes).
  [[nodiscard]] static constexpr size_type max_capacity() noexcept {
    return std::bit_floor((SharedRegion::kMaxChannelBytes - sizeof(Control)) / sizeof(Slot));
  }

  IpcSpscQueue(const IpcSpscQueue&) = delete;
  IpcSpscQueue& operator=(const IpcSpscQueue&) = delete;
  /// Unmaps. Every handle must have been destroyed (HFT_ASSERT). Never unlinks.
  ~IpcSpscQueue() { HFT_ASSERT(handles_.load(std::memory_order_relaxed) == 0, "IpcSpscQueue: a handle outlives it"); }

  /// Any thread. Attaches this process as the producer: refused (std::runtime_error naming
  /// the holder's pid) while a live process holds the role; a dead holder's role is taken
  /// over (stats().takeovers). Resumes after the last published position.
  [[nodiscard]] Producer producer() { return Producer(*this); }
  /// Any thread. Attaches this process as the consumer (the same rules); resumes at the
  /// shared head, so items a dead consumer copied without freeing come again.
  [[nodiscard]] Consumer consumer() { return Consumer(*this); }

  /// Any thread. Items queued: a snapshot in [0, capacity()], exact when both sides are
  /// idle. Acquire loads of head and tail (pairs with their release stores).
  [[nodiscard]] size_type size() const noexcept {
    const std::uint64_t head = ref(ctl_->head).load(std::memory_order_acquire);  // pairs with the consumer's store
    const std::uint64_t tail = ref(ctl_->tail).load(std::memory_order_acquire);  // pairs with the producer's store
    // tail may trail head by one (seq is stored before tail), and a peer may have written
    // anything: a difference outside [1, capacity] is clamped, never used as a length.
    const std::uint64_t n = tail - head;
    if (n > std::uint64_t{1} << 63) return 0;
    return n < capacity_ ? static_cast<size_type>(n) : capacity_;
  }
  /// Any thread. True when size() is 0 (a snapshot).
  [[nodiscard]] bool empty() const noexcept { return size() == 0; }
  /// The number of items the queue holds when full (exactly what create/open were given).
  [[nodiscard]] size_type capacity() const noexcept { return capacity_; }
  /// The region's name.
  [[nodiscard]] const std::string& name() const noexcept { return region_.name(); }
  /// The mapping (its layout, creator, ...).
  [[nodiscard]] const SharedRegion& region() const noexcept { return region_; }

  /// Any thread. True while a producer is attached and its process lives (reads /proc).
  [[nodiscard]] bool producer_alive() const noexcept { return producer_identity().alive(); }
  /// Any thread. True while a consumer is attached and its process lives (reads /proc).
  [[nodiscard]] bool consumer_alive() const noexcept { return consumer_identity().alive(); }
  /// Any thread. The attached producer as the region records it ({0, 0}: none).
  [[nodiscard]] ProcessIdentity producer_identity() const noexcept { return owner(ctl_->producer_owner); }
  /// Any thread. The attached consumer as the region records it ({0, 0}: none).
  [[nodiscard]] ProcessIdentity consumer_identity() const noexcept { return owner(ctl_->consumer_owner); }

  /// Any thread. This object's counters, and this process's futex counters.
  [[nodiscard]] IpcSpscQueueStats stats() const noexcept {
    const auto w = shared_wait::stats();
    return {takeovers_.load(std::memory_order_relaxed), peer_dead_.load(std::memory_order_relaxed),
            waits_.load(std::memory_order_relaxed),     wait_timeouts_.load(std::memory_order_relaxed),
            w.wakes,                                    w.sleeps};
  }

  /// The producer's handle: push operations. Move-only; gives the role back when destroyed.
  class Producer {
   public:
    /// Takes the role over from `o`, which holds nothing afterwards.
    Producer(Producer&& o) noexcept
        : q_(std::exchange(o.q_, nullptr)), owner_(o.owner_), tail_(o.tail_), head_cache_(o.head_cache_) {}
    /// Gives this handle's role back, then takes `o`'s.
    Producer& operator=(Producer&& o) noexcept {
      if (this != &o) {
        release();
        q_ = std::exchange(o.q_, nullptr);
        owner_ = o.owner_;
        tail_ = o.tail_;
        head_cache_ = o.head_cache_;
      }
      return *this;
    }
    Producer(const Producer&) = delete;
    Producer& operator=(const Producer&) = delete;
    ~Producer() { release(); }

    /// Producer. Copies `v` into the back; false when full. Release (see the header).
    [[nodiscard]] bool try_push(const T& v) noexcept {
      if (free_slots(1) == 0) return false;
      write(tail_, v);
      publish(1);
      return true;
    }

    /// Producer. Copies as many items of [first, last) as fit, checking for room once;
    /// returns how many (0 when full). One tail store and one notify for the batch.
    template <std::input_iterator It, std::sized_sentinel_for<It> S>
    [[nodiscard]] size_type try_push_n(It first, S last) {
      const auto wanted = static_cast<size_type>(last - first);
      const size_type room = free_slots(wanted);
      const size_type n = wanted < room ? wanted : room;
      size_type i = 0;
      try {
        for (; i != n; ++i, ++first) {
          const T& v = *first;
          write(tail_ + i, v);
        }
      } catch (...) {
        // The items written are already visible to the consumer: count them, or the next
        // push would write over them (and the consumer would skip ahead).
        if (i != 0) publish(i);
        throw;
      }
      if (n != 0) publish(n);
      return n;
    }

    /// Producer. Copies `v` in, waiting while the queue is full: spins, then yields, and
    /// every kPeerCheckInterval checks the consumer. Throws PeerDead when the queue is full
    /// and the attached consumer's process is dead. With no consumer attached it waits.
    void push(const T& v) {
      if (push_for(v, std::chrono::nanoseconds::max()) == PushResult::PeerDead)
        throw PeerDead("hft::IpcSpscQueue: " + q_->name() + ": push: the queue is full and its consumer (pid " +
                       std::to_string(q_->consumer_identity().pid) + ") is dead");
    }

    /// Producer. As push(), bounded: Pushed, TimedOut (full for `timeout`), or PeerDead
    /// (full, and the consumer's process is dead; checked every kPeerCheckInterval).
    [[nodiscard]] PushResult push_for(const T& v, std::chrono::nanoseconds timeout) {
      if (free_slots(1) == 0) {
        const PushResult r = wait_for_room(timeout);
        if (r != PushResult::Pushed) return r;
      }
      write(tail_, v);
      publish(1);
      return PushResult::Pushed;
    }

    /// Any thread. True while the consumer is attached and alive (reads /proc).
    [[nodiscard]] bool consumer_alive() const noexcept { return q_->consumer_alive(); }
    /// The queue this handle pushes to.
    [[nodiscard]] IpcSpscQueue& queue() const noexcept { return *q_; }

   private:
    friend class IpcSpscQueue;
    explicit Producer(IpcSpscQueue& q) : q_(&q), owner_(q.attach(q.ctl_->producer_owner, "producer")) {
      try {
        shared_wait::prepare_notifier();
        // Acquire: pairs with the previous producer's release store of tail (and its seqs).
        std::uint64_t tail = ref(q.ctl_->tail).load(std::memory_order_acquire);
        // A producer killed between its seq store and its tail store published one item more
        // than tail says; a sane region has nothing beyond that, and the scan is bounded.
        for (std::uint64_t i = 0; i <= q.mask_ && q.seq(tail).load(std::memory_order_acquire) == tail + 1; ++i) ++tail;
        // Acquire: pairs with the consumer's release store of head.
        const std::uint64_t head = ref(q.ctl_->head).load(std::memory_order_acquire);
        if (tail - head > q.capacity_)
          throw std::runtime_error("hft::IpcSpscQueue: " + q.name() + ": tail: the region's tail " +
                                   std::to_string(tail) + " and head " + std::to_string(head) +
                                   " do not fit capacity " + std::to_string(q.capacity_) + " (a corrupt region)");
        tail_ = tail;
        head_cache_ = head;
      } catch (...) {
        release();
        throw;
      }
    }

    void release() noexcept {
      if (q_ != nullptr) q_->detach(q_->ctl_->producer_owner, owner_);
      q_ = nullptr;
    }

    // Free slots at tail_; reads the consumer's head (a cross-core line) only when the
    // cached copy shows fewer than `wanted`.
    size_type free_slots(size_type wanted) noexcept {
      const size_type capacity = q_->capacity_;
      if (capacity - (tail_ - head_cache_) >= wanted) return capacity - (tail_ - head_cache_);
      // Acquire: pairs with the consumer's release store of head; its copies out of the
      // slots are done before we overwrite them.
      const std::uint64_t head = ref(q_->ctl_->head).load(std::memory_order_acquire);
      // A head ahead of tail or more than capacity behind is a peer's bug: full, never a
      // length (and the cache keeps its last sane value).
      if (tail_ - head > capacity) return 0;
      head_cache_ = head;
      return capacity - (tail_ - head);
    }

    void write(std::uint64_t pos, const T& v) noexcept {
      // A typed copy, not a byte copy: the compiler copies T member by member from where the
      // caller just wrote it (registers, or loads its stores can forward), where a byte copy's
      // 16-byte loads wait for the caller's 8-byte stores to reach the cache (measured: the
      // store-forwarding stall was most of a 64-byte push, bench_ipc).
      ::new (static_cast<void*>(q_->slot(pos).storage)) T(v);
      // Release: pairs with the consumer's acquire load of seq (try_pop, consume, waits).
      q_->seq(pos).store(pos + 1, std::memory_order_release);
    }

    void publish(size_type n) noexcept {
      tail_ += n;
      // Release: pairs with the acquire load in size() and in a later producer's attach.
      ref(q_->ctl_->tail).store(tail_, std::memory_order_release);
      shared_wait::notify(q_->ctl_->data);  // one load unless the consumer sleeps
    }

    PushResult wait_for_room(std::chrono::nanoseconds timeout) {
      using clock = std::chrono::steady_clock;
      constexpr int kSpins = 1024;  // ~a few us of cpu_relax before yielding the core
      if (timeout <= std::chrono::nanoseconds::zero()) return PushResult::TimedOut;
      const auto start = clock::now();
      const auto deadline = timeout >= clock::time_point::max() - start ? clock::time_point::max() : start + timeout;
      auto next_check = start + kPeerCheckInterval;
      for (int spins = 0;; ++spins) {
        if (free_slots(1) != 0) return PushResult::Pushed;
        if (spins < kSpins) {
          cpu_relax();
          continue;
        }
        std::this_thread::yield();
        const auto now = clock::now();
        if (now >= next_check) {
          next_check = now + kPeerCheckInterval;
          const ProcessIdentity c = q_->consumer_identity();
          if (c.pid != 0 && !c.alive() && free_slots(1) == 0) {
            q_->peer_dead_.fetch_add(1, std::memory_order_relaxed);
            return PushResult::PeerDead;
          }
        }
        if (now >= deadline) return PushResult::TimedOut;
      }
    }

    IpcSpscQueue* q_;
    std::uint64_t owner_;
    std::uint64_t tail_ = 0;        // positions published: the producer's own, exact
    std::uint64_t head_cache_ = 0;  // the consumer's head as last read
  };

  /// The consumer's handle: pop operations. Move-only; gives the role back when destroyed.
  class Consumer {
   public:
    /// Takes the role over from `o`, which holds nothing afterwards.
    Consumer(Consumer&& o) noexcept : q_(std::exchange(o.q_, nullptr)), owner_(o.owner_), head_(o.head_) {}
    /// Gives this handle's role back, then takes `o`'s.
    Consumer& operator=(Consumer&& o) noexcept {
      if (this != &o) {
        release();
        q_ = std::exchange(o.q_, nullptr);
        owner_ = o.owner_;
        head_ = o.head_;
      }
      return *this;
    }
    Consumer(const Consumer&) = delete;
    Consumer& operator=(const Consumer&) = delete;
    ~Consumer() { release(); }

    /// Consumer. Copies the oldest item into `out` and frees its slot; false when empty.
    /// Acquire on the slot's seq, release on head (see the header).
    [[nodiscard]] bool try_pop(T& out) noexcept {
      if (!ready(head_)) return false;
      std::memcpy(std::addressof(out), q_->slot(head_).storage, sizeof(T));
      advance(1);
      return true;
    }

    /// Consumer. The oldest item, or nullopt when empty.
    [[nodiscard]] std::optional<T> try_pop() noexcept {
      if (!ready(head_)) return std::nullopt;
      alignas(T) unsigned char copy[sizeof(T)];
      std::memcpy(copy, q_->slot(head_).storage, sizeof(T));
      advance(1);
      return std::optional<T>(*std::launder(reinterpret_cast<T*>(copy)));
    }

    /// Consumer. Calls fn(T&) on up to max_items queued items (and at most capacity(),
    /// whatever a peer writes), oldest first, and frees their slots with one release store
    /// of head. fn gets a copy in this process's memory (a peer writing the slot cannot
    /// change it under fn). Returns how many. If fn throws, the item it was given counts as
    /// consumed and the exception propagates.
    template <class F>
    size_type consume(F&& fn, size_type max_items = std::numeric_limits<size_type>::max()) {
      size_type done = 0;
      struct Free {
        Consumer& c;
        size_type& done;
        ~Free() {
          if (done != 0) c.advance(done);
        }
      } free{*this, done};
      // A batch of a sane producer is at most capacity items (it cannot refill before our
      // head store); the bound also holds against a peer that keeps writing ready seqs.
      const size_type limit = max_items < q_->capacity_ ? max_items : q_->capacity_;
      while (done != limit && ready(head_ + done)) {
        alignas(T) unsigned char copy[sizeof(T)];
        std::memcpy(copy, q_->slot(head_ + done).storage, sizeof(T));
        ++done;
        fn(*std::launder(reinterpret_cast<T*>(copy)));
      }
      return done;
    }

    /// Consumer. Sleeps (futex) until an item is ready or `timeout` passes; true when one
    /// is. Costs the producer a wake-up syscall per publish while it sleeps, nothing else.
    /// Returns false at the timeout also when the producer is dead (producer_alive()).
    [[nodiscard]] bool wait_for_data(std::chrono::nanoseconds timeout) {
      if (ready(head_)) return true;
      q_->waits_.fetch_add(1, std::memory_order_relaxed);
      const bool ok = shared_wait::wait(q_->ctl_->data, [this] { return ready(head_); }, timeout);
      if (!ok) q_->wait_timeouts_.fetch_add(1, std::memory_order_relaxed);
      return ok;
    }

    /// Consumer. try_pop, sleeping up to `timeout` for an item when empty.
    [[nodiscard]] bool pop_wait(T& out, std::chrono::nanoseconds timeout) {
      return try_pop(out) || (wait_for_data(timeout) && try_pop(out));
    }

    /// Any thread. True while the producer is attached and alive (reads /proc).
    [[nodiscard]] bool producer_alive() const noexcept { return q_->producer_alive(); }
    /// The queue this handle pops from.
    [[nodiscard]] IpcSpscQueue& queue() const noexcept { return *q_; }

   private:
    friend class IpcSpscQueue;
    explicit Consumer(IpcSpscQueue& q) : q_(&q), owner_(q.attach(q.ctl_->consumer_owner, "consumer")) {
      // Acquire: pairs with the previous consumer's release store of head. Any value is
      // safe: it is only ever used masked.
      head_ = ref(q.ctl_->head).load(std::memory_order_acquire);
    }

    void release() noexcept {
      if (q_ != nullptr) q_->detach(q_->ctl_->consumer_owner, owner_);
      q_ = nullptr;
    }

    bool ready(std::uint64_t pos) const noexcept {
      // Acquire: pairs with the producer's release store of seq; the item is complete.
      return q_->seq(pos).load(std::memory_order_acquire) == pos + 1;
    }

    void advance(size_type n) noexcept {
      head_ += n;
      // Release: pairs with the producer's acquire load of head; the copies are done.
      ref(q_->ctl_->head).store(head_, std::memory_order_release);
    }

    IpcSpscQueue* q_;
    std::uint64_t owner_;
    std::uint64_t head_ = 0;  // the consumer's own position; only ever used masked
  };

 private:
  IpcSpscQueue(SharedRegion region, size_type capacity)
      : region_(std::move(region)),
        capacity_(capacity),
        mask_(std::bit_ceil(capacity) - 1),
        ctl_(reinterpret_cast<Control*>(region_.channel())),
        slots_(reinterpret_cast<Slot*>(region_.channel() + sizeof(Control))) {
    // Every address is computed from this process's capacity; the region was sized from
    // the same layout (SharedRegion checks the object's size at open).
    HFT_ASSERT(region_.channel_bytes() >= sizeof(Control) + (mask_ + 1) * sizeof(Slot),
               "IpcSpscQueue: the region is smaller than the layout");
  }

  static std::atomic_ref<std::uint64_t> ref(std::uint64_t& word) noexcept {
    return std::atomic_ref<std::uint64_t>(word);
  }
  Slot& slot(std::uint64_t pos) const noexcept { return slots_[pos & mask_]; }
  std::atomic_ref<std::uint64_t> seq(std::uint64_t pos) const noexcept { return ref(slot(pos).seq); }

  static ProcessIdentity owner(std::uint64_t& word) noexcept {
    // Relaxed: a liveness hint; no data is read on its strength.
    const std::uint64_t w = ref(word).load(std::memory_order_relaxed);
    return w == 0 ? ProcessIdentity{} : detail::unpack_owner(w);
  }

  // Takes the role whose owner word is `word` for this process: from nobody, or from a
  // holder that is dead. Returns the word written.
  std::uint64_t attach(std::uint64_t& word, const char* role) {
    const ProcessIdentity me = detail::current_process();
    if (me.pid <= 0 || static_cast<std::uint64_t>(me.pid) > detail::kOwnerPidMask)
      throw std::runtime_error("hft::IpcSpscQueue: " + name() + ": " + role + ": pid " + std::to_string(me.pid) +
                               " does not fit the owner word");
    const std::uint64_t mine = detail::pack_owner(me);
    std::uint64_t cur = ref(word).load(std::memory_order_relaxed);
    for (;;) {
      if (cur != 0) {
        const ProcessIdentity holder = detail::unpack_owner(cur);
        if (holder.alive())
          throw std::runtime_error("hft::IpcSpscQueue: " + name() + ": " + role + ": held by live process pid " +
                                   std::to_string(holder.pid) + " (one " + role + " at a time)");
      }
      // acq_rel: pairs with the previous holder's release in detach(); on failure `cur`
      // is the new holder, judged again.
      if (ref(word).compare_exchange_strong(cur, mine, std::memory_order_acq_rel, std::memory_order_relaxed)) break;
    }
    if (cur != 0) {
      takeovers_.fetch_add(1, std::memory_order_relaxed);
      // Only the consumer sleeps: a dead one that died asleep left itself counted, and every
      // push would make a FUTEX_WAKE syscall for it. Its successor clears the count.
      if (&word == &ctl_->consumer_owner)
        std::atomic_ref<std::uint32_t>(ctl_->data.waiters).store(0, std::memory_order_relaxed);
    }
    handles_.fetch_add(1, std::memory_order_relaxed);
    return mine;
  }

  void detach(std::uint64_t& word, std::uint64_t mine) noexcept {
    handles_.fetch_sub(1, std::memory_order_relaxed);
    // A fork()ed child's copy of a handle must not give back its parent's role.
    if (detail::unpack_owner(mine).pid != static_cast<std::int32_t>(::getpid())) return;
    std::uint64_t expected = mine;
    // Release: pairs with the next holder's acq_rel CAS in attach(). A word that is no
    // longer ours (a peer overwrote it) is left alone.
    (void)ref(word).compare_exchange_strong(expected, 0, std::memory_order_release, std::memory_order_relaxed);
  }

  SharedRegion region_;
  const size_type capacity_;
  const std::uint64_t mask_;  // from this process's capacity, never from the region
  Control* ctl_;
  Slot* slots_;
  std::atomic<int> handles_{0};
  std::atomic<std::uint64_t> takeovers_{0}, peer_dead_{0}, waits_{0}, wait_timeouts_{0};
};

}  // namespace hft::ipc
