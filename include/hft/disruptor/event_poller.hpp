// hft/disruptor/event_poller.hpp: EventPoller, a pull-style consumer for a thread that
// runs its own loop (an I/O loop, the mini-OMS dispatcher) instead of giving it to a
// BatchEventProcessor.
//
// What: poll(fn) calls fn(event, seq, end_of_batch) for every event available now (up to
//   the dependencies' progress) and returns at once; fn returns false to stop early.
//   Its Sequence must be added to the ring's gating sequences (or to a downstream
//   barrier) like any consumer's.
// When to use: the consumer shares a thread with other work. When not: a dedicated
//   consumer thread (BatchEventProcessor waits by a strategy instead of polling).
// Thread-safety: poll(): one thread at a time. sequence(): any thread.
// Progress: wait-free per call (no waiting: returns Idle/Gating when nothing is ready).
// Memory ordering: as a barrier (acquire loads of cursor, availability, dependencies);
//   the Sequence advances with release after fn returns.
// Complexity: O(events delivered) per poll, plus one release store.
// Compared with: LMAX's EventPoller (poll(handler) -> PROCESSING / GATING / IDLE): the same
//   states; ours takes any callable and stops early when it returns false.
// Lifecycle: neither copyable nor movable (its Sequence's address is a gating sequence).
#pragma once

#include <cstdint>
#include <vector>

#include "hft/disruptor/sequence.hpp"

namespace hft::disruptor {

/// What EventPoller::poll() found: Processing (events handled), Gating (published, a dependency
/// holds it) or Idle (nothing new).
enum class PollState {
  Processing,  // events were handled
  Gating,      // the next event is published but a dependency has not finished it yet
  Idle         // nothing new was published (a claimed, unpublished slot included)
};

/// A consumer driven by its owner's loop instead of a thread: poll() handles what is available
/// and returns at once, never waits.
template <class RingBufferT>
class EventPoller {
 public:
  /// A poller of `ring` behind `dependencies` (empty: only the producers). Add sequence() to
  /// the ring's gating sequences.
  EventPoller(RingBufferT& ring, std::vector<const Sequence*> dependencies = {})
      : ring_(ring), deps_(std::move(dependencies)) {}

  /// Owner only: calls fn(event, seq, end_of_batch) for each available event, oldest first,
  /// until fn returns false; then advances sequence() (release) past what it handled, even if
  /// fn throws.
  template <class F>
  PollState poll(F&& fn) {
    const std::int64_t current = sequence_.get_relaxed();
    const std::int64_t next = current + 1;
    // Dependencies only pass published events: their minimum needs no publication check.
    const std::int64_t available = deps_.empty() ? ring_.sequencer().published(next) : min_sequence(deps_);
    if (next <= available) {
      std::int64_t s = next;
      struct Advance {
        Sequence& seq;
        std::int64_t& processed;
        ~Advance() { seq.set(processed); }  // release, even if fn throws
      };
      std::int64_t processed = current;
      Advance adv{sequence_, processed};
      for (; s <= available; ++s) {
        const bool go_on = fn(ring_[s], s, s == available);
        processed = s;
        if (!go_on) break;
      }
      return PollState::Processing;
    }
    // Gating only when `next` is published and a dependency holds it back; a claimed but
    // unpublished slot of a multi-producer ring is nothing new yet: Idle.
    return !deps_.empty() && ring_.sequencer().published(next) >= next ? PollState::Gating : PollState::Idle;
  }

  /// The last sequence handled: gate the producers on it.
  [[nodiscard]] Sequence& sequence() noexcept { return sequence_; }
  /// The last sequence handled, read-only.
  [[nodiscard]] const Sequence& sequence() const noexcept { return sequence_; }

 private:
  RingBufferT& ring_;
  std::vector<const Sequence*> deps_;
  Sequence sequence_{kInitialSequence};
};

}  // namespace hft::disruptor
