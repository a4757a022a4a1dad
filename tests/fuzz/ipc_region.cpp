// Fuzz target: an IpcSpscQueue whose shared channel area (control block and slots) holds
// arbitrary bytes, as a buggy or hostile peer could leave it, used by a consumer and a
// producer of this process.
// Invariants: no crash, no out-of-bounds access (ASan) and no UB (UBSan), whatever the area
//   holds; consume() returns at most capacity() items and size() at most capacity(); an
//   attach either succeeds or is refused with the documented errors (a live holder, or a
//   producer's tail and head that contradict each other); a producer attached to a region
//   with sane indices accepts items and a consumer then receives them.
// Input: byte 0 picks the capacity, byte 1 the operations; the rest is laid over the area
//   (repeated to fill it).
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "fuzz_check.hpp"
#include "hft/ipc/ipc_spsc_queue.hpp"

namespace {

struct Item {
  std::uint64_t a;
  std::uint32_t b;
};
using Queue = hft::ipc::IpcSpscQueue<Item>;
constexpr std::size_t kCapacities[] = {1, 3, 8, 13, 64};

// One region per capacity for the whole run, unlinked at once (the mapping stays): nothing
// is left in /dev/shm whatever the run does.
Queue& queue_for(std::size_t which) {
  static std::unique_ptr<Queue> queues[std::size(kCapacities)];
  auto& q = queues[which];
  if (!q) {
    const std::string name = "hft_fuzz_ipc_region_" + std::to_string(::getpid()) + "_" + std::to_string(which);
    (void)Queue::remove(name);
    q.reset(new Queue(Queue::create(name, kCapacities[which], hft::ipc::type_tag("fuzz::Item"))));
    (void)Queue::remove(name);
  }
  return *q;
}

bool refused_as_documented(const std::exception& e) {
  const std::string what = e.what();
  return what.find("held by live process") != std::string::npos || what.find("corrupt region") != std::string::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t which = data[0] % std::size(kCapacities);
  const std::uint8_t ops = data[1];
  Queue& q = queue_for(which);
  auto* area = reinterpret_cast<unsigned char*>(q.region().channel());
  const std::size_t bytes = q.region().channel_bytes();
  if (size > 2) {
    for (std::size_t i = 0; i < bytes; ++i) area[i] = data[2 + i % (size - 2)];
  } else {
    std::memset(area, 0, bytes);
  }
  auto& ctl = *reinterpret_cast<hft::ipc::detail::SpscControl*>(area);
  if ((ops & 1) != 0) {  // free roles, so that the operations behind the attach run
    ctl.producer_owner = 0;
    ctl.consumer_owner = 0;
  }
  ctl.data.waiters = 0;  // a garbage waiter count only costs FUTEX_WAKE calls; keep runs fast

  FUZZ_CHECK(q.size() <= q.capacity(), "size %zu > capacity %zu", q.size(), q.capacity());
  (void)q.producer_alive();
  (void)q.consumer_alive();

  try {
    auto c = q.consumer();
    Item it{};
    (void)c.try_pop(it);
    (void)c.try_pop();
    std::size_t n = c.consume([&](Item& x) { it = x; }, (ops >> 1) & 7);
    FUZZ_CHECK(n <= 7, "consume(max 7) returned %zu", n);
    n = c.consume([&](Item& x) { it = x; });
    FUZZ_CHECK(n <= q.capacity(), "consume returned %zu > capacity %zu", n, q.capacity());
    if ((ops & 16) != 0) (void)c.wait_for_data(std::chrono::nanoseconds(0));
  } catch (const std::runtime_error& e) {
    FUZZ_CHECK(refused_as_documented(e), "consumer attach: %s", e.what());
  }

  try {
    auto p = q.producer();
    const bool from_empty = ctl.head == ctl.tail;  // then every position from head to ours is ready
    const Item item{0x1234, 7};
    const std::vector<Item> batch(3, item);
    const bool pushed = p.try_push(item);
    (void)p.try_push_n(batch.begin(), batch.end());
    (void)p.push_for(item, std::chrono::nanoseconds(0));
    FUZZ_CHECK(q.size() <= q.capacity(), "size %zu > capacity %zu", q.size(), q.capacity());
    if (pushed && from_empty && (ops & 32) != 0 && ctl.consumer_owner == 0) {
      // A fresh consumer resumes at the region's head and reads up to and including ours.
      auto c = q.consumer();
      std::size_t got = 0;
      (void)c.consume([&](Item&) { ++got; });
      FUZZ_CHECK(got >= 1 && got <= q.capacity(), "a pushed item is not delivered (%zu)", got);
    }
  } catch (const std::runtime_error& e) {
    FUZZ_CHECK(refused_as_documented(e), "producer attach: %s", e.what());
  }
  return 0;
}
