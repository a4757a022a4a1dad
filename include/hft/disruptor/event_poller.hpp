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
// Thread-safety contract: poll(): one thread at a time. sequence(): any thread.
// Progress: wait-free per call (no waiting: returns Idle/Gating when nothing is ready).
// Memory ordering: as a barrier (acquire loads of cursor, availability, dependencies);
//   the Sequence advances with release after fn returns.
#pragma once

#include <cstdint>
#include <vector>

#include "hft/disruptor/sequence.hpp"

namespace hft::disruptor {

enum class PollState {
  Processing,  // events were handled
  Gating,      // events are published but a dependency has not finished them yet
  Idle         // nothing new was published
};

template <class RingBufferT>
class EventPoller {
 public:
  EventPoller(RingBufferT& ring, std::vector<const Sequence*> dependencies = {})
      : ring_(ring), deps_(std::move(dependencies)) {}

  template <class F>
  PollState poll(F&& fn) {
    const std::int64_t current = sequence_.get_relaxed();
    const std::int64_t next = current + 1;
    const std::int64_t gate = deps_.empty() ? ring_.sequencer().cursor().get() : min_sequence(deps_);
    const std::int64_t available = ring_.sequencer().highest_published(next, gate);
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
    return ring_.sequencer().cursor().get() >= next ? PollState::Gating : PollState::Idle;
  }

  [[nodiscard]] Sequence& sequence() noexcept { return sequence_; }
  [[nodiscard]] const Sequence& sequence() const noexcept { return sequence_; }

 private:
  RingBufferT& ring_;
  std::vector<const Sequence*> deps_;
  Sequence sequence_{kInitialSequence};
};

}  // namespace hft::disruptor
