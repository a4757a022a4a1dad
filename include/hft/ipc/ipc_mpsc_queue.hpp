// hft/ipc/ipc_mpsc_queue.hpp: IpcMpscQueue<T>, a bounded queue from producers in any number
// of processes to one consumer process, in a named shared-memory region, that a producer
// killed between claim and publish cannot wedge.
//
// What: Vyukov's bounded queue (MpscQueue's design) laid out in a SharedRegion
//   (ChannelKind::MpscQueue), plus an owner word per slot. The region holds a control block
//   of four 128-byte lines (the consumer's owner; the claim counter `tail`; the consumer's
//   `head` and skip count; a SharedWaitWord) and then capacity() slots of {seq, owner, item}.
//   Slot i starts with seq = i. A producer claims position p (lap L = p / capacity) when
//   slot(p).seq == p by a CAS of tail p -> p + 1, then records itself in the slot's owner
//   word (a CAS to its (pid, start time), only from a word that says "free for lap L"),
//   copies the item in and stores seq = p + 1. The consumer at head h pops when
//   seq == h + 1, then frees the slot for the next lap (owner = "free for L + 1",
//   seq = h + capacity). A claim that will never be published (its producer died, or gave
//   it up) is skipped: the consumer CASes the owner word to the skip token of lap L, so a
//   claimer late to record itself finds a word that is not "free for L" and claims again,
//   and moves seq on. T is trivially
//   copyable; the region holds only positions.
// When to use: several processes (strategies) sending fixed-size messages to one (a gateway,
//   a risk process) on one machine. When not: one producer process (IpcSpscQueue: no CAS,
//   no owner word, batches); threads of one process (MpscQueue); one writer and many readers
//   (BroadcastRing); variable-length messages (BroadcastRing); persistence (hft/journal);
//   peers in different pid namespaces (see Limits).
//
// Thread-safety:
//   producer handles, one thread at a time each, any number of handles in any processes:
//     try_push, push, push_for, try_claim (and the Claim it returns)
//   consumer handle, one thread at a time: try_pop (both forms), consume, pop_wait,
//     wait_for_data
//   any thread: size, empty, capacity, consumer_alive, skipped, stats; producer() and
//     consumer() (the consumer role is taken atomically).
// Progress: try_push and try_claim are lock-free (CAS loops on tail and on the claimed
//   slot's owner word, each failing only when another thread or process changed the word,
//   or spuriously; a claim that finds itself skipped claims again). try_pop and consume are wait-free, except
//   that a head slot claimed and not yet published makes them return "empty" until the
//   claim is published, or its owner is found dead, or claim_timeout passes with no owner
//   recorded (then the slot is skipped: see Crash semantics). push/push_for spin then
//   yield while full, checking the consumer's liveness every kPeerCheckInterval.
//   pop_wait/wait_for_data block on a futex, bounded by their timeout.
// Memory ordering: across processes as between threads (every shared word is a lock-free
//   std::atomic_ref):
//   - a producer loads slot(p).seq with acquire: pairs with the consumer's release store
//     that freed the slot (its copy out and the owner word happen before) or skipped it;
//   - the tail CAS (acq_rel): one winner per position; its release pairs with the
//     consumer's acquire load of tail, which is how the consumer knows a position is
//     claimed before any owner is recorded, and that a slot with no claim must never be
//     skipped;
//   - the claimer's owner CAS (from "free for lap L" only) and the consumer's CAS of the
//     word to lap L's skip token (both acq_rel) decide between a late recorder and a skip:
//     one of them wins, and the loser sees the winner's word. A word of any later lap is
//     never "free for L" (up to the 41-bit lap field's wrap: see Limits), so a late claimer
//     cannot write into a later lap; its loads of the word and of seq are acquire (pairs
//     with the consumer's release stores of the free word and seq, and its token CAS);
//   - the producer memcpys the item and stores seq = p + 1 with release; the consumer loads
//     seq with acquire: the item is complete;
//   - the consumer stores owner = "free for L + 1" (release) then seq = h + capacity
//     (release) after a pop; a skip stores only seq (release) and leaves its token, which
//     also means "free for L + 1" to the next lap's claimer;
//   - head is stored with release after each pop or skip (size(), a consumer taking over
//     load it with acquire); the producers never read head;
//   - notify after publishing: as IpcSpscQueue (shared_wait.hpp).
// Complexity: O(1) per item: one CAS on tail, one CAS on the slot's line (which the
//   producer writes anyway), a copy and a store. Nothing is allocated after attach.
// Compared with:
//   - iceoryx: many publishers to one subscriber are many chunk queues merged by the
//     subscriber, each publisher with a RouDi-managed pool. Here one ring in the creator's
//     region, no daemon; a dead publisher is found by (pid, start time), not a heartbeat.
//   - Boost.Interprocess message_queue: a mutex in shared memory around every send; a
//     sender killed holding it wedges everyone (robust mutexes are emulated). Here a
//     killed producer costs at most its one claimed slot, skipped and counted.
//   - moodycamel::ConcurrentQueue: per-producer sub-queues with heap pointers and
//     thread-local producer tokens; not placeable in shared memory (its issues #132, #313).
//   - MpscQueue (in process): the same protocol; a thread cannot die alone, so it needs no
//     owner word and no skip.
// Layout: channel area = control block (512 bytes) + capacity() slots of
//   sizeof(detail::MpscSlot<T>) (8-byte seq, 8-byte owner, then T at its alignment).
// Lifecycle: create() makes the region (exclusive), writes every slot's seq, and marks it
//   ready; open() maps an existing one, refusing a mismatch of capacity, type_tag,
//   element_size or element_align with an error naming the field. The IpcMpscQueue object
//   is neither copyable nor movable; producer()/consumer() give handles (move-only), and
//   try_claim() Claims, none of which may outlive it (HFT_ASSERT in its destructor).
//   Capacity: any capacity >= 1, rounded up to a power of two >= 2 (as MpscQueue);
//   capacity() is the real one, and open() rounds the same way.
// Errors: std::invalid_argument / std::length_error for a capacity of 0 or above
//   max_capacity(); SharedRegion's exceptions from create/open; std::runtime_error naming
//   the holder's pid when the consumer role is held by a live process; hft::ipc::PeerDead
//   from push() when the queue is full and its consumer is dead. Full and empty are not
//   errors: try_* returns false / nullopt.
// Crash semantics (what the consumer sees):
//   - a producer killed before its tail CAS: nothing happened.
//   - killed after the tail CAS and before its owner CAS: the slot is claimed with no owner.
//     The consumer waits claim_timeout (default 10 ms) from the moment it first found its
//     head slot in that state, then skips the slot (reason SkipReason::NoOwner).
//   - killed after the owner CAS and before the seq store (copying, or a Claim held): the
//     consumer, finding its head slot claimed, checks the owner's liveness every
//     kPeerCheckInterval (the first check one interval after it found the stall); once the
//     owner is dead it skips the slot (SkipReason::OwnerDead). A live owner is waited for,
//     however long (a SIGSTOPped producer stalls the consumer: liveness, not progress, is
//     what is checked).
//   - killed after the seq store: the item is delivered.
//   A skip advances head past the one slot, counts it (skipped(), in the region, so a
//   consumer taking over sees the total; stats() per object) and records it (last_skip():
//   position, owner, reason). Every other item is delivered exactly once, in claim order;
//   each producer thread's items in its push order. A killed producer loses one item per
//   claim it held unpublished: the one each of its threads was pushing, and each Claim it
//   held open (one skip each); everything it published is delivered.
//   - a live producer that was claim_timeout late recording itself (preempted between
//     its two CASes) finds its claim skipped and claims again: the item is delivered, later,
//     and the skip is counted (NoOwner, and stats().reclaims on the producer's object). On a
//     loaded machine this happens: a skip count alone is not a lost item.
//   - a Claim destroyed without publish() marks its slot abandoned (a CAS of the owner word
//     from its own identity; seq is never touched): the consumer skips it without waiting
//     (SkipReason::Abandoned).
//   - consumer killed: items it copied but whose slot it had not freed are delivered again
//     to the next consumer (at-least-once across a consumer takeover; the new consumer also
//     steps over slots the dead one freed without storing head, and finishes a skip it left
//     half done). Producers held back by it (full) learn it within kPeerCheckInterval:
//     push() throws PeerDead, push_for returns PushResult::PeerDead. A consumer killed
//     asleep leaves the waiter count (a FUTEX_WAKE per publish) until a new consumer
//     attaches and clears it.
//   - a fork()ed child's producer handles record the child, not the parent (a pthread_atfork
//     generation makes them re-read the identity). A Claim copied into a child is the
//     parent's: the child's destructor leaves it alone, and its publish() is a bug
//     (HFT_ASSERT). A child must not use its copy of the parent's consumer handle (that
//     would be two consumers); its destructor never gives the parent's role back.
//   - hostile or buggy peer: positions are only ever used masked with this process's own
//     capacity, a seq that does not match is "not ready" or "full", and a claim loop that
//     sees no progress gives up (false): no crash, no out-of-bounds access, whatever the
//     region holds (garbage items may be received; one try_push may claim and lose up to
//     capacity positions). Truncating the object under a mapping is the exception (SIGBUS:
//     see SharedRegion's Security).
// Limits: liveness is (pid, start time) read from this process's /proc (start times are
//   moved to the initial time namespace's clock: time namespaces are fine). A producer in
//   another pid namespace (a container sharing /dev/shm), or hidden by /proc's hidepid, is
//   judged dead while alive: its claim is skipped, and its seq store when it publishes would
//   rewind the slot and wedge the queue. Run every producer in the consumer's pid namespace,
//   visible to it. exec() keeps the pid and start time: a process that execs while holding
//   a claim (an open Claim, another thread mid-push) is waited for until the new program
//   exits; publish or drop claims before exec. The lap in a marker word is 41 bits: a claimer
//   stopped between its two CASes for 2^41 laps of the ring (2^42 items at capacity 2; a
//   debugger's breakpoint, a SIGSTOP) could take a later lap's word; its seq check makes the
//   window one load wide.
#pragma once

#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
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

/// Why the consumer of an IpcMpscQueue stepped over a slot.
enum class SkipReason : std::uint32_t {
  None = 0,       ///< no skip yet (last_skip() before the first)
  OwnerDead = 1,  ///< the producer that claimed it died before publishing
  NoOwner = 2,    ///< claimed, and no owner recorded within claim_timeout (killed between its two CASes)
  Abandoned = 3,  ///< a Claim destroyed without publish()
};

/// One slot the consumer stepped over.
struct MpscSkip {
  std::uint64_t position = 0;  ///< the queue position (claim order) of the slot
  ProcessIdentity owner{};     ///< who had claimed it ({0, 0}: not recorded)
  SkipReason reason = SkipReason::None;  ///< why
};

/// Counters of one IpcMpscQueue object (this process's view), by value from stats().
struct IpcMpscQueueStats {
  std::uint64_t skipped_owner_dead = 0;  ///< slots this process's consumer skipped: owner dead
  std::uint64_t skipped_no_owner = 0;    ///< ... no owner within claim_timeout
  std::uint64_t skipped_abandoned = 0;   ///< ... abandoned Claims
  std::uint64_t reclaims = 0;      ///< this process's producers' claims that were skipped and claimed again
  std::uint64_t abandoned = 0;     ///< Claims this process destroyed without publish()
  std::uint64_t takeovers = 0;     ///< consumer roles attached here that replaced a dead holder
  std::uint64_t peer_dead = 0;     ///< push/push_for calls that found the consumer dead
  std::uint64_t waits = 0;         ///< wait_for_data/pop_wait calls that found the queue empty
  std::uint64_t wait_timeouts = 0; ///< of those, the ones that timed out
};

namespace detail {

inline constexpr std::size_t kMpscLine = 128;
// Owner words with no process in them, "markers": start bits at or above 2^41. A
// pack_owner() word holds a start time below 2^42 clock ticks; one at or above 2^41 would need
// 700 years of uptime at 100 Hz, so a marker never names a process. Every marker but
// "abandoned" carries the lap it belongs to (position >> log2(capacity), 41 bits), so that a
// word is only ever taken for what it means in its own lap:
//   free(L):  the slot is free for lap L: free_head() of lap L - 1 left it (pid bits all ones
//             but one). A fresh region's 0 means free(0).
//   skip(L):  the consumer skipped the claim of lap L (pid bits all ones); it also means the
//             slot is free for lap L + 1.
//   abandoned: a Claim given up by its producer (pid bits 0, start bits all ones).
// A claimer of lap L records itself only over free(L) or skip(L - 1) (0 in lap 0), and only
// while seq still says its position: anything else means its claim was skipped, so a late
// claimer cannot write into a later lap (the lap field wraps after 2^41 laps: Limits), and
// no give-back is needed.
inline constexpr std::uint64_t kMpscMarkerStart = std::uint64_t{1} << 41;
inline constexpr std::uint64_t kMpscOwnerAbandoned = ~std::uint64_t{0} - kOwnerPidMask;  // start all ones, pid 0
constexpr std::uint64_t mpsc_marker(std::uint64_t lap, std::uint64_t pid_bits) noexcept {
  return ((kMpscMarkerStart | (lap & (kMpscMarkerStart - 1))) << kOwnerPidBits) | pid_bits;
}
constexpr std::uint64_t mpsc_skip_token(std::uint64_t lap) noexcept { return mpsc_marker(lap, kOwnerPidMask); }
constexpr std::uint64_t mpsc_free_word(std::uint64_t lap) noexcept { return mpsc_marker(lap, kOwnerPidMask - 1); }
constexpr bool mpsc_is_marker(std::uint64_t w) noexcept { return (w >> kOwnerPidBits) >= kMpscMarkerStart; }
// The words over which a claimer of lap `lap` may record itself.
constexpr bool mpsc_free_for(std::uint64_t lap, std::uint64_t w) noexcept {
  return w == mpsc_free_word(lap) || (lap == 0 ? w == 0 : w == mpsc_skip_token(lap - 1));
}
static_assert(mpsc_is_marker(kMpscOwnerAbandoned) && mpsc_is_marker(mpsc_skip_token(0)) &&
              mpsc_is_marker(mpsc_free_word(0)) && mpsc_skip_token(5) != mpsc_free_word(5) &&
              mpsc_skip_token(0) != kMpscOwnerAbandoned && mpsc_free_word(0) != kMpscOwnerAbandoned &&
              !mpsc_is_marker(pack_owner({.pid = 4194303, .reserved = 0, .start_time = (std::uint64_t{1} << 41) - 1})));
static_assert(mpsc_free_for(0, 0) && mpsc_free_for(3, mpsc_skip_token(2)) && mpsc_free_for(3, mpsc_free_word(3)) &&
              !mpsc_free_for(3, mpsc_skip_token(3)) && !mpsc_free_for(3, mpsc_free_word(4)) && !mpsc_free_for(1, 0));

struct alignas(kMpscLine) MpscControl {
  // Never constructed: the mapped bytes are read and written in place.
  std::uint64_t consumer_owner = 0;  // pack_owner() of the attached consumer; 0: none
  alignas(kMpscLine) std::uint64_t tail = 0;  // the next position to claim (producers' CAS)
  alignas(kMpscLine) std::uint64_t head = 0;  // the consumer's position
  std::uint64_t skipped = 0;                  // slots the consumers skipped, ever (the consumer's line)
  alignas(kMpscLine) SharedWaitWord data;
};
static_assert(sizeof(MpscControl) == 4 * kMpscLine && alignof(MpscControl) == kMpscLine);
static_assert(offsetof(MpscControl, tail) == kMpscLine && offsetof(MpscControl, head) == 2 * kMpscLine &&
                  offsetof(MpscControl, skipped) == 2 * kMpscLine + 8 && offsetof(MpscControl, data) == 3 * kMpscLine,
              "the control block is part of the region format");
static_assert(std::is_standard_layout_v<MpscControl> && std::is_trivially_copyable_v<MpscControl>);

template <class T>
// NOLINTNEXTLINE(cppcoreguidelines-pro-type-member-init): raw bytes in shared memory
struct alignas(std::uint64_t) alignas(T) MpscSlot {
  std::uint64_t seq;    // p: free for position p; p + 1: position p published
  std::uint64_t owner;  // pack_owner() of the claimer of the current position; 0: none yet
  alignas(T) unsigned char storage[sizeof(T)];
};

// Bumped in every fork()ed child, so that producer handles copied into it stop recording
// their parent as the owner of what they claim (one relaxed load per claim, not a getpid()).
inline std::atomic<std::uint64_t>& fork_generation() noexcept {
  static std::atomic<std::uint64_t> gen{0};
  return gen;
}
inline void watch_forks() noexcept {
  static std::once_flag once;
  std::call_once(once, [] {
    (void)::pthread_atfork(nullptr, nullptr, [] { fork_generation().fetch_add(1, std::memory_order_relaxed); });
  });
}

}  // namespace detail

/// A bounded queue of trivially copyable T from producers in any number of processes to one
/// consumer process: Vyukov's ring with an owner per claimed slot, in a shared region.
template <class T>
class IpcMpscQueue {
  static_assert(std::is_trivially_copyable_v<T>, "hft::IpcMpscQueue<T>: T crosses processes by memcpy");
  static_assert(alignof(T) <= SharedRegion::kMaxElementAlign, "hft::IpcMpscQueue<T>: alignof(T) above 256");
  static_assert(sizeof(T) <= std::numeric_limits<std::uint32_t>::max(), "hft::IpcMpscQueue<T>: sizeof(T) >= 4 GiB");
  static_assert(std::atomic_ref<std::uint64_t>::is_always_lock_free,
                "a word shared between processes must be lock-free (an address-keyed lock is per process)");
  static_assert(std::atomic_ref<std::uint32_t>::is_always_lock_free, "the wait word must be lock-free");
  using Slot = detail::MpscSlot<T>;
  using Control = detail::MpscControl;
  static_assert(alignof(Slot) <= sizeof(Control), "slots follow the control block at their alignment");

 public:
  /// The element type.
  using value_type = T;
  /// The type of sizes and capacities.
  using size_type = std::size_t;
  /// What push_for() did.
  enum class PushResult { Pushed, TimedOut, PeerDead };
  /// How often a waiting side checks its peer's liveness.
  static constexpr std::chrono::milliseconds kPeerCheckInterval{1};
  /// How long the consumer waits for a claimed slot with no owner recorded before skipping it.
  static constexpr std::chrono::milliseconds kDefaultClaimTimeout{10};

  class Producer;
  class Consumer;
  class Claim;

  /// Creates the region `name` (exclusive: std::system_error EEXIST if it exists) for
  /// capacity (rounded up to a power of two >= 2) items, initialised and marked ready.
  [[nodiscard]] static IpcMpscQueue create(std::string_view name, size_type capacity, TypeTag type_tag,
                                           const SharedRegionConfig& cfg = {}) {
    SharedRegion region = SharedRegion::create(name, layout(capacity, type_tag), cfg);
    const size_type ring = round(capacity);
    // Slot i is free for position i. Nobody else uses the region before mark_ready (its
    // release store pairs with open()'s acquire: these stores are visible to every opener).
    auto* slots = reinterpret_cast<Slot*>(region.channel() + sizeof(Control));  // NOLINT: a mapped region
    for (std::uint64_t i = 0; i != ring; ++i) ref(slots[i].seq).store(i, std::memory_order_relaxed);
    region.mark_ready();
    return IpcMpscQueue(std::move(region), ring);
  }

  /// Opens the existing region `name`, refusing one whose capacity (rounded as create()
  /// does), type_tag, element_size, element_align or size differs (std::runtime_error
  /// naming the field and both values); waits up to cfg.open_timeout for its creator.
  [[nodiscard]] static IpcMpscQueue open(std::string_view name, size_type capacity, TypeTag type_tag,
                                         const SharedRegionConfig& cfg = {}) {
    return IpcMpscQueue(SharedRegion::open(name, layout(capacity, type_tag), cfg), round(capacity));
  }

  /// Unlinks the region `name` (mappings stay valid). False if it did not exist.
  static bool remove(std::string_view name, const SharedRegionConfig& cfg = {}) noexcept {
    return SharedRegion::remove(name, cfg);
  }

  /// The layout a queue of `capacity` items of T states at create and expects at open.
  /// Throws std::invalid_argument for 0, std::length_error above max_capacity().
  [[nodiscard]] static RegionLayout layout(size_type capacity, TypeTag type_tag) {
    ::hft::detail::check_capacity("hft::IpcMpscQueue", capacity, max_capacity());
    const size_type ring = round(capacity);
    return {.kind = ChannelKind::MpscQueue,
            .element_size = static_cast<std::uint32_t>(sizeof(T)),
            .element_align = static_cast<std::uint32_t>(alignof(T)),
            .type_tag = type_tag,
            .capacity = ring,
            .channel_bytes = sizeof(Control) + ring * sizeof(Slot)};
  }

  /// The largest capacity create/open accept (the channel area is at most 2^40 bytes).
  [[nodiscard]] static constexpr size_type max_capacity() noexcept {
    return std::bit_floor((SharedRegion::kMaxChannelBytes - sizeof(Control)) / sizeof(Slot));
  }

  IpcMpscQueue(const IpcMpscQueue&) = delete;
  IpcMpscQueue& operator=(const IpcMpscQueue&) = delete;
  /// Unmaps. Every handle must have been destroyed (HFT_ASSERT). Never unlinks.
  ~IpcMpscQueue() { HFT_ASSERT(handles_.load(std::memory_order_relaxed) == 0, "IpcMpscQueue: a handle outlives it"); }

  /// Any thread. A producer handle: any number, in any processes.
  [[nodiscard]] Producer producer() { return Producer(*this); }
  /// Any thread. Attaches this process as the consumer: refused (std::runtime_error naming
  /// the holder's pid) while a live process holds the role; a dead holder's is taken over.
  /// `claim_timeout`: how long a claimed slot with no owner recorded is waited for.
  [[nodiscard]] Consumer consumer(std::chrono::nanoseconds claim_timeout = kDefaultClaimTimeout) {
    return Consumer(*this, claim_timeout);
  }

  /// Any thread. Items claimed and not yet popped: a snapshot in [0, capacity()].
  /// Acquire loads of head and tail (pairs with their release stores).
  [[nodiscard]] size_type size() const noexcept {
    const std::uint64_t head = ref(ctl_->head).load(std::memory_order_acquire);  // pairs with the consumer's store
    const std::uint64_t tail = ref(ctl_->tail).load(std::memory_order_acquire);  // pairs with the claim CAS
    const std::uint64_t n = tail - head;
    if (n > std::uint64_t{1} << 63) return 0;  // a peer's garbage is clamped, never a length
    return n < capacity_ ? static_cast<size_type>(n) : capacity_;
  }
  /// Any thread. True when size() is 0 (a snapshot).
  [[nodiscard]] bool empty() const noexcept { return size() == 0; }
  /// The number of items the queue holds when full (a power of two >= 2).
  [[nodiscard]] size_type capacity() const noexcept { return capacity_; }
  /// The region's name.
  [[nodiscard]] const std::string& name() const noexcept { return region_.name(); }
  /// The mapping (its layout, creator, ...).
  [[nodiscard]] const SharedRegion& region() const noexcept { return region_; }
  /// Any thread. True while a consumer is attached and its process lives (reads /proc).
  [[nodiscard]] bool consumer_alive() const noexcept { return consumer_identity().alive(); }
  /// Any thread. The attached consumer as the region records it ({0, 0}: none).
  [[nodiscard]] ProcessIdentity consumer_identity() const noexcept {
    // Relaxed: a liveness hint; no data is read on its strength.
    const std::uint64_t w = ref(ctl_->consumer_owner).load(std::memory_order_relaxed);
    return w == 0 ? ProcessIdentity{} : detail::unpack_owner(w);
  }
  /// Any thread. Slots every consumer of this region ever skipped (the region's count).
  [[nodiscard]] std::uint64_t skipped() const noexcept {
    return ref(ctl_->skipped).load(std::memory_order_relaxed);  // a statistic
  }
  /// Any thread. This object's counters (relaxed loads: statistics).
  [[nodiscard]] IpcMpscQueueStats stats() const noexcept {
    IpcMpscQueueStats s;
    s.skipped_owner_dead = skip_dead_.load(std::memory_order_relaxed);
    s.skipped_no_owner = skip_no_owner_.load(std::memory_order_relaxed);
    s.skipped_abandoned = skip_abandoned_.load(std::memory_order_relaxed);
    s.reclaims = reclaims_.load(std::memory_order_relaxed);
    s.abandoned = abandoned_.load(std::memory_order_relaxed);
    s.takeovers = takeovers_.load(std::memory_order_relaxed);
    s.peer_dead = peer_dead_.load(std::memory_order_relaxed);
    s.waits = waits_.load(std::memory_order_relaxed);
    s.wait_timeouts = wait_timeouts_.load(std::memory_order_relaxed);
    return s;
  }

  /// A slot claimed by a producer and written in place: publish() makes it visible; the
  /// destructor without publish() abandons it (the consumer skips it). Move-only.
  class Claim {
   public:
    /// Takes `o`'s slot; `o` holds nothing afterwards.
    Claim(Claim&& o) noexcept : q_(std::exchange(o.q_, nullptr)), pos_(o.pos_), me_(o.me_), gen_(o.gen_) {}
    Claim& operator=(Claim&&) = delete;
    Claim(const Claim&) = delete;
    Claim& operator=(const Claim&) = delete;
    /// Abandons the slot unless published: the consumer skips it (SkipReason::Abandoned).
    ~Claim() {
      if (q_ == nullptr) return;
      if (forked()) {  // a fork()ed child's copy: the claim is the parent's, not ours to give up
        q_->handles_.fetch_sub(1, std::memory_order_relaxed);
        return;
      }
      q_->abandoned_.fetch_add(1, std::memory_order_relaxed);
      // Only the owner word changes, and only from this process's identity: seq stays "not
      // published", so a consumer that skipped the slot meanwhile (it judged this process
      // dead: see pid namespaces) is never contradicted. Release: the consumer's next look
      // at the word (relaxed, then its CAS, acq_rel) orders nothing else; nothing to publish.
      std::uint64_t mine = me_;
      (void)ref(q_->slot(pos_).owner)
          .compare_exchange_strong(mine, detail::kMpscOwnerAbandoned, std::memory_order_release,
                                   std::memory_order_relaxed);
      q_->handles_.fetch_sub(1, std::memory_order_relaxed);
      shared_wait::notify(q_->ctl_->data);  // a sleeping consumer skips it now, not at its timeout
    }
    /// The item's storage in the shared slot (its bytes are whatever the slot held).
    [[nodiscard]] T* item() const noexcept {
      return std::launder(reinterpret_cast<T*>(q_->slot(pos_).storage));  // NOLINT: bytes in shared memory
    }
    /// Makes the item visible to the consumer (release; see the header). Once.
    void publish() noexcept {
      HFT_ASSERT(q_ != nullptr, "IpcMpscQueue::Claim: published twice, or moved from");
      HFT_ASSERT(!forked(), "IpcMpscQueue::Claim: published by a fork()ed child (the claim is its parent's)");
      IpcMpscQueue* q = std::exchange(q_, nullptr);
      // Release: pairs with the consumer's acquire load of seq; the item is complete.
      q->seq(pos_).store(pos_ + 1, std::memory_order_release);
      q->handles_.fetch_sub(1, std::memory_order_relaxed);
      shared_wait::notify(q->ctl_->data);  // one load unless the consumer sleeps
    }
    /// The queue position claimed (claim order).
    [[nodiscard]] std::uint64_t position() const noexcept { return pos_; }

   private:
    friend class IpcMpscQueue;
    Claim(IpcMpscQueue& q, std::uint64_t pos, std::uint64_t me) noexcept
        : q_(&q), pos_(pos), me_(me), gen_(detail::fork_generation().load(std::memory_order_relaxed)) {
      q.handles_.fetch_add(1, std::memory_order_relaxed);  // a Claim must not outlive the queue either
    }
    [[nodiscard]] bool forked() const noexcept {
      return detail::fork_generation().load(std::memory_order_relaxed) != gen_;
    }
    IpcMpscQueue* q_;
    std::uint64_t pos_;
    std::uint64_t me_;   // the owner word this process recorded
    std::uint64_t gen_;  // fork_generation() at the claim
  };

  /// A producer's handle. Move-only; holds no role (any number may exist).
  class Producer {
   public:
    /// Takes `o`'s place; `o` may not be used afterwards.
    Producer(Producer&& o) noexcept : q_(std::exchange(o.q_, nullptr)), me_(o.me_), gen_(o.gen_) {}
    Producer& operator=(Producer&&) = delete;
    Producer(const Producer&) = delete;
    Producer& operator=(const Producer&) = delete;
    ~Producer() {
      if (q_ != nullptr) q_->handles_.fetch_sub(1, std::memory_order_relaxed);
    }

    /// Producer. Copies `v` into the queue; false when full.
    [[nodiscard]] bool try_push(const T& v) noexcept {
      std::uint64_t pos = 0;
      if (!claim(pos)) return false;
      ::new (static_cast<void*>(q_->slot(pos).storage)) T(v);  // typed: see IpcSpscQueue's write()
      // Release: pairs with the consumer's acquire load of seq; the item is complete.
      q_->seq(pos).store(pos + 1, std::memory_order_release);
      shared_wait::notify(q_->ctl_->data);  // one load unless the consumer sleeps
      return true;
    }

    /// Producer. Claims a slot to write in place (zero-copy); nullopt when full. Publish it
    /// soon: the consumer waits for it (it is in claim order before later items).
    [[nodiscard]] std::optional<Claim> try_claim() noexcept {
      std::uint64_t pos = 0;
      if (!claim(pos)) return std::nullopt;
      return Claim(*q_, pos, me_);
    }

    /// Producer. Copies `v` in, waiting while the queue is full: spins, then yields, and
    /// every kPeerCheckInterval checks the consumer. Throws PeerDead when the queue is full
    /// and the attached consumer is dead. With no consumer attached it waits.
    void push(const T& v) {
      if (push_for(v, std::chrono::nanoseconds::max()) == PushResult::PeerDead)
        throw PeerDead("hft::IpcMpscQueue: " + q_->name() + ": push: the queue is full and its consumer (pid " +
                       std::to_string(q_->consumer_identity().pid) + ") is dead");
    }

    /// Producer. As push(), bounded: Pushed, TimedOut (full for `timeout`), or PeerDead.
    [[nodiscard]] PushResult push_for(const T& v, std::chrono::nanoseconds timeout) {
      if (try_push(v)) return PushResult::Pushed;
      using clock = std::chrono::steady_clock;
      constexpr int kSpins = 1024;
      if (timeout <= std::chrono::nanoseconds::zero()) return PushResult::TimedOut;
      const auto start = clock::now();
      const auto deadline = timeout >= clock::time_point::max() - start ? clock::time_point::max() : start + timeout;
      auto next_check = start + kPeerCheckInterval;
      for (int spins = 0;; ++spins) {
        if (try_push(v)) return PushResult::Pushed;
        if (spins < kSpins) {
          cpu_relax();
          continue;
        }
        std::this_thread::yield();
        const auto now = clock::now();
        if (now >= next_check) {
          next_check = now + kPeerCheckInterval;
          const ProcessIdentity c = q_->consumer_identity();
          if (c.pid != 0 && !c.alive()) {
            if (try_push(v)) return PushResult::Pushed;  // it freed room before it died
            q_->peer_dead_.fetch_add(1, std::memory_order_relaxed);
            return PushResult::PeerDead;
          }
        }
        if (now >= deadline) return PushResult::TimedOut;
      }
    }

    /// Any thread. True while the consumer is attached and alive (reads /proc).
    [[nodiscard]] bool consumer_alive() const noexcept { return q_->consumer_alive(); }
    /// The queue this handle pushes to.
    [[nodiscard]] IpcMpscQueue& queue() const noexcept { return *q_; }

   private:
    friend class IpcMpscQueue;
    explicit Producer(IpcMpscQueue& q) : q_(&q) {
      detail::watch_forks();
      shared_wait::prepare_notifier();
      refresh();
      q.handles_.fetch_add(1, std::memory_order_relaxed);
    }

    void refresh() noexcept {
      gen_ = detail::fork_generation().load(std::memory_order_relaxed);
      me_ = detail::pack_owner(detail::current_process());
    }

    // Claims a position and records this process as its owner. False when full (or when a
    // corrupt region shows no progress).
    bool claim(std::uint64_t& out) noexcept {
      if (detail::fork_generation().load(std::memory_order_relaxed) != gen_) refresh();
      std::atomic_ref<std::uint64_t> tail = ref(q_->ctl_->tail);
      std::uint64_t pos = tail.load(std::memory_order_relaxed);
      for (;;) {
        // Acquire: pairs with the consumer's release store freeing the slot (its copy out
        // and the owner word happened before).
        const std::uint64_t seq = q_->seq(pos).load(std::memory_order_acquire);
        const auto diff = static_cast<std::int64_t>(seq - pos);
        if (diff < 0) return false;  // the slot holds the previous lap's item: full
        if (diff > 0) {
          // Another producer claimed pos: move on. A tail that did not move while seq says
          // it should have is a corrupt region: give up rather than spin forever.
          const std::uint64_t now = tail.load(std::memory_order_relaxed);
          if (now == pos) return false;
          pos = now;
          continue;
        }
        // acq_rel: one winner per position (acquire: the winner's view of the slot is the one
        // its seq check above saw; release: pairs with the consumer's acquire load of tail,
        // which tells it that the position is claimed before any owner is recorded).
        if (!tail.compare_exchange_weak(pos, pos + 1, std::memory_order_acq_rel, std::memory_order_relaxed))
          continue;  // pos now holds the current tail
        if (record(pos)) {
          out = pos;
          return true;
        }
        // The consumer skipped this claim before we recorded ourselves (we were preempted
        // longer than its claim_timeout): claim again; the item is not lost.
        q_->reclaims_.fetch_add(1, std::memory_order_relaxed);
        pos = tail.load(std::memory_order_relaxed);
      }
    }

    // Writes this process into the owner word of the slot claimed at `pos`: only over a word
    // that says "free for this lap" (see the markers). False when the consumer has skipped
    // the claim meanwhile (its token, or anything a later lap wrote). One CAS, no give-back.
    bool record(std::uint64_t pos) noexcept {
      std::atomic_ref<std::uint64_t> owner = ref(q_->slot(pos).owner);
      const std::uint64_t lap = q_->lap(pos);
      // Acquire: pairs with the consumer's release store of the free word (free_head) or its
      // token CAS (a skip).
      std::uint64_t cur = owner.load(std::memory_order_acquire);
      for (;;) {
        if (!detail::mpsc_free_for(lap, cur)) return false;
        // Skipped already (seq moved on): the word would say so too, unless this claimer was
        // stopped for 2^41 laps and the lap field wrapped (see Limits). Same line: no cost.
        // Acquire: pairs with the skip's release store of seq.
        if (q_->seq(pos).load(std::memory_order_acquire) != pos) return false;
        // acq_rel: against the consumer's CAS of the word to this lap's token: one wins.
        if (owner.compare_exchange_weak(cur, me_, std::memory_order_acq_rel, std::memory_order_acquire)) return true;
      }
    }

    IpcMpscQueue* q_;
    std::uint64_t me_ = 0;   // pack_owner() of this process
    std::uint64_t gen_ = 0;  // fork_generation() when me_ was read
  };

  /// The consumer's handle: pop operations. Move-only; gives the role back when destroyed.
  class Consumer {
   public:
    /// Takes the role over from `o`, which holds nothing afterwards.
    Consumer(Consumer&& o) noexcept
        : q_(std::exchange(o.q_, nullptr)),
          owner_(o.owner_),
          head_(o.head_),
          claim_timeout_(o.claim_timeout_),
          stall_pos_(o.stall_pos_),
          stall_since_(o.stall_since_),
          next_check_(o.next_check_),
          empty_polls_(o.empty_polls_),
          last_skip_(o.last_skip_) {}
    Consumer& operator=(Consumer&&) = delete;
    Consumer(const Consumer&) = delete;
    Consumer& operator=(const Consumer&) = delete;
    ~Consumer() { release(); }

    /// Consumer. Copies the oldest item into `out` and frees its slot; false when empty (or
    /// when the oldest claimed slot is not yet published). Skips dead claims (see the header).
    [[nodiscard]] bool try_pop(T& out) noexcept {
      if (!next_ready()) return false;
      std::memcpy(std::addressof(out), q_->slot(head_).storage, sizeof(T));
      free_head();
      return true;
    }

    /// Consumer. The oldest item, or nullopt when empty.
    [[nodiscard]] std::optional<T> try_pop() noexcept {
      if (!next_ready()) return std::nullopt;
      alignas(T) unsigned char copy[sizeof(T)];
      std::memcpy(copy, q_->slot(head_).storage, sizeof(T));
      free_head();
      return std::optional<T>(*std::launder(reinterpret_cast<T*>(copy)));  // NOLINT: T is trivially copyable
    }

    /// Consumer. Calls fn(T&) on up to max_items items (at most capacity() per call), oldest
    /// first, on a copy in this process's memory. Returns how many. If fn throws, the item
    /// it was given counts as consumed and the exception propagates.
    template <class F>
    size_type consume(F&& fn, size_type max_items = std::numeric_limits<size_type>::max()) {
      const size_type limit = max_items < q_->capacity_ ? max_items : q_->capacity_;
      size_type done = 0;
      while (done != limit && next_ready()) {
        alignas(T) unsigned char copy[sizeof(T)];
        std::memcpy(copy, q_->slot(head_).storage, sizeof(T));
        free_head();
        ++done;
        fn(*std::launder(reinterpret_cast<T*>(copy)));  // NOLINT: T is trivially copyable
      }
      return done;
    }

    /// Consumer. Sleeps (futex) until an item is ready or `timeout` passes; true when one
    /// is (try_pop then succeeds). Wakes at least every claim_timeout to look for a claim
    /// that will never be published, and every kPeerCheckInterval while its head slot is
    /// such a claim, so a producer that dies mid-push costs a sleeping consumer at most
    /// claim_timeout plus two check intervals (plus claim_timeout with no owner recorded).
    [[nodiscard]] bool wait_for_data(std::chrono::nanoseconds timeout) {
      if (next_ready()) return true;
      q_->waits_.fetch_add(1, std::memory_order_relaxed);
      using clock = std::chrono::steady_clock;
      const auto start = clock::now();
      const auto budget = std::max(timeout, std::chrono::nanoseconds::zero());
      const auto deadline = budget >= clock::time_point::max() - start
                                ? clock::time_point::max()
                                : start + std::chrono::duration_cast<clock::duration>(budget);
      for (;;) {
        const auto now = clock::now();
        if (now >= deadline) break;
        const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - now);
        const std::chrono::nanoseconds slice =
            stall_pos_ == head_ ? std::chrono::nanoseconds(kPeerCheckInterval)
                                : std::max<std::chrono::nanoseconds>(claim_timeout_, kPeerCheckInterval);
        // The condition runs here, on the consumer's thread: it may skip dead claims.
        if (shared_wait::wait(q_->ctl_->data, [this] { return next_ready(true); }, std::min(left, slice)))
          return true;
      }
      q_->wait_timeouts_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }

    /// Consumer. try_pop, sleeping up to `timeout` for an item when empty.
    [[nodiscard]] bool pop_wait(T& out, std::chrono::nanoseconds timeout) {
      return try_pop(out) || (wait_for_data(timeout) && try_pop(out));
    }

    /// The last slot this handle skipped (reason None before the first).
    [[nodiscard]] MpscSkip last_skip() const noexcept { return last_skip_; }
    /// The consumer's position: items popped plus slots skipped, by every consumer so far.
    [[nodiscard]] std::uint64_t position() const noexcept { return head_; }
    /// The queue this handle pops from.
    [[nodiscard]] IpcMpscQueue& queue() const noexcept { return *q_; }

   private:
    friend class IpcMpscQueue;
    Consumer(IpcMpscQueue& q, std::chrono::nanoseconds claim_timeout)
        : q_(&q), owner_(q.attach_consumer()), claim_timeout_(claim_timeout) {
      // Acquire: pairs with the previous consumer's release store of head.
      head_ = ref(q.ctl_->head).load(std::memory_order_acquire);
      // A consumer killed after freeing slots and before storing head left them behind it:
      // their seq moved past head + 1 (freed for a later lap, or published in it). Bounded.
      for (std::uint64_t i = 0; i <= q.mask_; ++i) {
        const auto d = static_cast<std::int64_t>(q.seq(head_).load(std::memory_order_acquire) - head_);
        if (d <= 1) break;
        ++head_;
      }
      ref(q.ctl_->head).store(head_, std::memory_order_release);  // pairs with size()'s acquire
    }

    void release() noexcept {
      if (q_ == nullptr) return;
      q_->handles_.fetch_sub(1, std::memory_order_relaxed);
      if (detail::unpack_owner(owner_).pid == static_cast<std::int32_t>(::getpid())) {
        std::uint64_t expected = owner_;
        // Release: pairs with the next consumer's acq_rel CAS in attach_consumer().
        (void)ref(q_->ctl_->consumer_owner)
            .compare_exchange_strong(expected, 0, std::memory_order_release, std::memory_order_relaxed);
      }
      q_ = nullptr;
    }

    bool published(std::uint64_t pos) const noexcept {
      // Acquire: pairs with the producer's release store of seq; the item is complete.
      return q_->seq(pos).load(std::memory_order_acquire) == pos + 1;
    }

    // True when the slot at head_ holds an item to pop; steps over abandoned and dead claims.
    // `thorough`: read tail now (a sleeper's rare poll), not every 64th empty poll.
    bool next_ready(bool thorough = false) noexcept {
      for (size_type hops = 0; hops <= q_->mask_; ++hops) {
        if (published(head_)) return true;
        if (!stalled(thorough)) return false;
      }
      return false;
    }

    // The head slot is not published. Decides whether it is claimed by a producer that will
    // never publish, and skips it then (true: look again).
    bool stalled(bool thorough) noexcept {
      Slot& s = q_->slot(head_);
      // Relaxed: a hint; a skip is decided by the CAS in skip_claimed (or, for this position's
      // own token, a dead consumer's CAS already won it).
      std::uint64_t owner = ref(s.owner).load(std::memory_order_relaxed);
      // Given up by its live producer, or a skip a dead consumer did not finish: nothing to
      // wait for (skip_claimed checks that the position was claimed at all).
      if (owner == detail::kMpscOwnerAbandoned) return skip_claimed(owner, SkipReason::Abandoned);
      if (owner == q_->skip_token(head_)) return skip_claimed(owner, SkipReason::NoOwner);
      const bool nobody = detail::mpsc_free_for(q_->lap(head_), owner);  // no claimer recorded (yet)
      if (nobody && stall_pos_ != head_) {
        // Usually empty. Whether the position was claimed is in tail, the producers' hot
        // line: read it only every 64th empty poll at the same position.
        if (!thorough && (++empty_polls_ & 63) != 0) return false;
        // Acquire: pairs with the claim CAS's release.
        const std::uint64_t tail = ref(q_->ctl_->tail).load(std::memory_order_acquire);
        if (static_cast<std::int64_t>(tail - head_) <= 0) return false;  // nothing claimed
      }
      const auto now = std::chrono::steady_clock::now();
      if (stall_pos_ != head_) {
        // A live producer between its claim and its seq store is a few ns from publishing:
        // no /proc read (microseconds) before kPeerCheckInterval.
        stall_pos_ = head_;
        stall_since_ = now;
        next_check_ = now + kPeerCheckInterval;
        return false;
      }
      if (now < next_check_) return false;
      next_check_ = now + kPeerCheckInterval;
      owner = ref(s.owner).load(std::memory_order_relaxed);
      if (owner == detail::kMpscOwnerAbandoned) return skip_claimed(owner, SkipReason::Abandoned);
      if (owner == q_->skip_token(head_)) return skip_claimed(owner, SkipReason::NoOwner);
      if (detail::mpsc_free_for(q_->lap(head_), owner) || detail::mpsc_is_marker(owner)) {
        // Claimed, no owner recorded yet: the claimer is between its two CASes (a few ns,
        // unless it was preempted there, or killed).
        if (now - stall_since_ < claim_timeout_) return false;
        return skip_claimed(owner, SkipReason::NoOwner);
      }
      if (detail::unpack_owner(owner).alive()) return false;
      return skip_claimed(owner, SkipReason::OwnerDead);
    }

    // Takes the owner word from `expected` to this position's skip token (so that a claimer
    // late to record itself learns it lost the slot), then frees the slot. False when the
    // position is not claimed or the word changed (judged again later).
    bool skip_claimed(std::uint64_t expected, SkipReason why) noexcept {
      // Only a claimed position is ever skipped: a word left on a free slot (by a claimer of
      // an earlier lap giving it back, or a dead one that never did) is not a claim, and
      // skipping it would put head past tail. Acquire: pairs with the claim CAS's release.
      if (static_cast<std::int64_t>(ref(q_->ctl_->tail).load(std::memory_order_acquire) - head_) <= 0) {
        stall_pos_ = ~std::uint64_t{0};  // judge afresh once it is claimed
        return false;
      }
      const std::uint64_t token = q_->skip_token(head_);
      // acq_rel: against a late claimer's CAS of the word to itself: one of the two wins.
      if (expected != token && !ref(q_->slot(head_).owner)
                                    .compare_exchange_strong(expected, token, std::memory_order_acq_rel,
                                                             std::memory_order_relaxed))
        return false;
      // Published after all (a dead owner that stored seq before it died, between our
      // looks): deliver it; free_head() resets the word. Acquire: pairs with that release
      // store of seq (it is what we read; the owner's death orders nothing).
      if (published(head_)) return true;
      skip(expected, why);
      return true;
    }

    // Frees the head slot without delivering it; counts and records the skip. The token
    // stays in the owner word: to the next lap's claimer it means "free".
    void skip(std::uint64_t owner_word, SkipReason why) noexcept {
      const std::uint64_t pos = head_;
      const bool named = owner_word != 0 && !detail::mpsc_is_marker(owner_word);
      last_skip_ = MpscSkip{pos, named ? detail::unpack_owner(owner_word) : ProcessIdentity{}, why};
      (why == SkipReason::Abandoned ? q_->skip_abandoned_
       : why == SkipReason::NoOwner ? q_->skip_no_owner_
                                    : q_->skip_dead_)
          .fetch_add(1, std::memory_order_relaxed);
      // Release: pairs with the next lap's producer's acquire load of seq (and a late
      // claimer's seq check in record(); the token already refuses it).
      q_->seq(pos).store(pos + q_->capacity_, std::memory_order_release);
      // Counted once the skip is done: a consumer killed before this line leaves the skip to
      // its successor, which counts it (a kill after it and before head: the successor's scan
      // steps over the slot without counting it again).
      ref(q_->ctl_->skipped).fetch_add(1, std::memory_order_relaxed);  // a statistic
      advance();
    }

    void free_head() noexcept {
      Slot& s = q_->slot(head_);
      // "Free for the next lap" (a claimer of this lap, had one been late, could not take it).
      // Release: pairs with the next lap's claimer's acquire load of the word.
      ref(s.owner).store(detail::mpsc_free_word(q_->lap(head_) + 1), std::memory_order_release);
      // Release: pairs with the next lap's producer's acquire load of seq; our copy out and
      // the owner word are done.
      q_->seq(head_).store(head_ + q_->capacity_, std::memory_order_release);
      advance();
    }

    void advance() noexcept {
      ++head_;
      // Release: pairs with size()'s and a later consumer's acquire load of head.
      ref(q_->ctl_->head).store(head_, std::memory_order_release);
    }

    IpcMpscQueue* q_;
    std::uint64_t owner_;
    std::uint64_t head_ = 0;  // only ever used masked
    std::chrono::nanoseconds claim_timeout_;
    std::uint64_t stall_pos_ = ~std::uint64_t{0};  // the position found claimed and unpublished
    std::chrono::steady_clock::time_point stall_since_{};
    std::chrono::steady_clock::time_point next_check_{};
    std::uint64_t empty_polls_ = 0;
    MpscSkip last_skip_{};
  };

 private:
  IpcMpscQueue(SharedRegion region, size_type capacity)
      : region_(std::move(region)),
        capacity_(capacity),
        mask_(capacity - 1),
        lap_shift_(static_cast<unsigned>(std::countr_zero(capacity))),
        ctl_(reinterpret_cast<Control*>(region_.channel())),               // NOLINT: a mapped region
        slots_(reinterpret_cast<Slot*>(region_.channel() + sizeof(Control))) {  // NOLINT: a mapped region
    HFT_ASSERT(region_.channel_bytes() >= sizeof(Control) + capacity_ * sizeof(Slot),
               "IpcMpscQueue: the region is smaller than the layout");
  }

  static size_type round(size_type capacity) noexcept {
    return capacity < 2 ? 2 : std::bit_ceil(capacity);
  }
  static std::atomic_ref<std::uint64_t> ref(std::uint64_t& word) noexcept {
    return std::atomic_ref<std::uint64_t>(word);
  }
  Slot& slot(std::uint64_t pos) const noexcept { return slots_[pos & mask_]; }
  std::uint64_t lap(std::uint64_t pos) const noexcept { return pos >> lap_shift_; }
  std::uint64_t skip_token(std::uint64_t pos) const noexcept { return detail::mpsc_skip_token(lap(pos)); }
  std::atomic_ref<std::uint64_t> seq(std::uint64_t pos) const noexcept { return ref(slot(pos).seq); }

  std::uint64_t attach_consumer() {
    const ProcessIdentity me = detail::current_process();
    if (me.pid <= 0 || static_cast<std::uint64_t>(me.pid) > detail::kOwnerPidMask)
      throw std::runtime_error("hft::IpcMpscQueue: " + name() + ": consumer: pid " + std::to_string(me.pid) +
                               " does not fit the owner word");
    const std::uint64_t mine = detail::pack_owner(me);
    std::atomic_ref<std::uint64_t> word = ref(ctl_->consumer_owner);
    std::uint64_t cur = word.load(std::memory_order_relaxed);
    for (;;) {
      if (cur != 0 && detail::unpack_owner(cur).alive())
        throw std::runtime_error("hft::IpcMpscQueue: " + name() + ": consumer: held by live process pid " +
                                 std::to_string(detail::unpack_owner(cur).pid) + " (one consumer at a time)");
      // acq_rel: pairs with the previous holder's release in release(); on failure `cur`
      // is the new holder, judged again.
      if (word.compare_exchange_strong(cur, mine, std::memory_order_acq_rel, std::memory_order_relaxed)) break;
    }
    if (cur != 0) {
      takeovers_.fetch_add(1, std::memory_order_relaxed);
      // A consumer that died asleep left itself counted: every publish would make a
      // FUTEX_WAKE for it.
      std::atomic_ref<std::uint32_t>(ctl_->data.waiters).store(0, std::memory_order_relaxed);
    }
    handles_.fetch_add(1, std::memory_order_relaxed);
    return mine;
  }

  SharedRegion region_;
  const size_type capacity_;
  const std::uint64_t mask_;  // from this process's capacity, never from the region
  const unsigned lap_shift_;  // log2(capacity): position >> lap_shift_ is its lap
  Control* ctl_;
  Slot* slots_;
  std::atomic<int> handles_{0};
  std::atomic<std::uint64_t> skip_dead_{0}, skip_no_owner_{0}, skip_abandoned_{0}, reclaims_{0}, abandoned_{0},
      takeovers_{0}, peer_dead_{0}, waits_{0}, wait_timeouts_{0};
};

}  // namespace hft::ipc
