// Shared by the adversarial-review tests of hft/ipc/ipc_mpsc_queue.hpp: a queue of a small
// message, white-box access to its region's words (to write the state a preempted or killed
// peer leaves, as the interrupted code would have), and a consumer polled for a while.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

#include "hft/ipc/ipc_mpsc_queue.hpp"

namespace hft::test::mpsc_review {

using namespace std::chrono_literals;

struct Msg {
  std::uint32_t producer;
  std::uint32_t pad;
  std::uint64_t seq;
};

inline const hft::ipc::TypeTag kTag = hft::ipc::type_tag("ipc_mpsc_review::Msg");
using Queue = hft::ipc::IpcMpscQueue<Msg>;
using Slot = hft::ipc::detail::MpscSlot<Msg>;
using Control = hft::ipc::detail::MpscControl;

inline Control& control(const Queue& q) { return *reinterpret_cast<Control*>(q.region().channel()); }
inline Slot& slot(const Queue& q, std::uint64_t i) {
  return reinterpret_cast<Slot*>(q.region().channel() + sizeof(Control))[i & (q.capacity() - 1)];
}
inline void put(std::uint64_t& w, std::uint64_t v) {
  std::atomic_ref<std::uint64_t>(w).store(v, std::memory_order_seq_cst);
}
inline std::uint64_t get(std::uint64_t& w) { return std::atomic_ref<std::uint64_t>(w).load(std::memory_order_seq_cst); }
inline bool cas(std::uint64_t& w, std::uint64_t from, std::uint64_t to) {
  return std::atomic_ref<std::uint64_t>(w).compare_exchange_strong(from, to, std::memory_order_seq_cst);
}
inline std::uint64_t me() { return hft::ipc::detail::pack_owner(hft::ipc::detail::current_process()); }

// Polls the consumer for `d`; counts the items popped.
inline std::uint64_t poll_for(Queue::Consumer& c, std::chrono::milliseconds d, Msg* last = nullptr) {
  std::uint64_t n = 0;
  const auto end = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < end) {
    Msg m{};
    if (c.try_pop(m)) {
      ++n;
      if (last != nullptr) *last = m;
    } else {
      std::this_thread::sleep_for(50us);
    }
  }
  return n;
}

// Pushes `n` items one at a time, each given 300 ms to get in and out while the consumer
// polls (the queue is live: a producer/consumer pair must get through). Returns how many
// made the round trip.
inline std::uint64_t round_trips(Queue::Producer& p, Queue::Consumer& c, std::uint64_t n) {
  std::uint64_t done = 0;
  for (std::uint64_t i = 0; i < n; ++i) {
    const auto end = std::chrono::steady_clock::now() + 300ms;
    bool in = false;
    bool out = false;
    while (!out && std::chrono::steady_clock::now() < end) {
      if (!in) in = p.try_push(Msg{7, 0, i});
      Msg m{};
      if (c.try_pop(m) && m.producer == 7 && m.seq == i) out = true;
      if (!out) std::this_thread::sleep_for(50us);
    }
    if (!out) break;
    ++done;
  }
  return done;
}

}  // namespace hft::test::mpsc_review
