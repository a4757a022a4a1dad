// LogRing, sentence by sentence of its header comment: the capacity rule and the
// constructor's errors, max_record, try_reserve's argument checks, FIFO order and contents
// across many wraps (checked against a model of the two positions), the wrap marker, a full
// ring and the producer's cached head, size_approx and empty, a two-thread stress, and the
// consumer's validation of every size word (a corrupted ring is reported, never read out of
// bounds: the ASan build proves the second half).
#include "hft/log/log_ring.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <limits>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "../support/catch.hpp"
#include "../support/scale.hpp"

using hft::LogRing;

namespace {

constexpr std::uint32_t kWrapMarker = 0xFFFF'FFF8u;  // the header's private constant, as bytes in the array

// HFT_TEST_SEED replays a run; otherwise a fixed seed (printed with every failure).
std::uint64_t test_seed() {
  const char* e = std::getenv("HFT_TEST_SEED");
  return e != nullptr ? std::strtoull(e, nullptr, 0) : 0x10'6c'0a'11'5eedULL;
}

std::uint32_t load_u32(const std::byte* p) {
  std::uint32_t v = 0;
  std::memcpy(&v, p, sizeof v);
  return v;
}
void store_u32(std::byte* p, std::uint32_t v) { std::memcpy(p, &v, sizeof v); }

// A test record: its size word, the low 32 bits of its sequence number, then bytes that
// depend on both, so a record delivered twice, out of order or torn does not compare equal.
std::byte pattern(std::uint64_t seq, std::size_t i) { return static_cast<std::byte>((seq * 131 + i * 7) & 0xFF); }

void write_record(std::byte* p, std::size_t n, std::uint64_t seq) {
  store_u32(p, static_cast<std::uint32_t>(n));
  if (n >= 8) store_u32(p + 4, static_cast<std::uint32_t>(seq));
  for (std::size_t i = 8; i < n; ++i) p[i] = pattern(seq, i);
}

bool record_matches(std::span<const std::byte> r, std::size_t n, std::uint64_t seq) {
  if (r.size() != n || load_u32(r.data()) != n) return false;
  if (n >= 8 && load_u32(r.data() + 4) != static_cast<std::uint32_t>(seq)) return false;
  for (std::size_t i = 8; i < n; ++i)
    if (r[i] != pattern(seq, i)) return false;
  return true;
}

// Commits and consumes records of `step` bytes until both positions are at `offset`.
void advance(LogRing& ring, std::size_t offset, std::size_t step = 8) {
  for (std::size_t done = 0; done < offset; done += step) {
    std::byte* p = ring.try_reserve(step);
    REQUIRE(p != nullptr);
    write_record(p, step, done);
    ring.commit(step);
    const auto r = ring.peek();
    REQUIRE(r.size() == step);
    ring.release(r.size());
  }
}

bool within(const LogRing& ring, std::span<const std::byte> r, std::byte* base) {
  return r.data() >= base && r.data() + r.size() <= base + ring.capacity();
}

}  // namespace

TEST_CASE("LogRing rounds the capacity up to a power of two and max_record is half of it") {
  for (const auto& [asked, got] : std::vector<std::pair<std::size_t, std::size_t>>{
           {64, 64}, {65, 128}, {100, 128}, {128, 128}, {1000, 1024}, {4096, 4096}, {4097, 8192}}) {
    const LogRing ring(asked);
    CAPTURE(asked);
    CHECK(ring.capacity() == got);
    CHECK(ring.max_record() == got / 2);
  }
  STATIC_REQUIRE(LogRing::kMinCapacity == 64);
  STATIC_REQUIRE(LogRing::kMaxCapacity == std::size_t{1} << 31);
  STATIC_REQUIRE(LogRing::kSizeBytes == 4);
  STATIC_REQUIRE(LogRing::record_bytes(0) == 0);
  STATIC_REQUIRE(LogRing::record_bytes(1) == 8);
  STATIC_REQUIRE(LogRing::record_bytes(8) == 8);
  STATIC_REQUIRE(LogRing::record_bytes(9) == 16);
  STATIC_REQUIRE(LogRing::record_bytes(25) == 32);
}

TEST_CASE("LogRing's constructor throws std::invalid_argument outside [kMinCapacity, kMaxCapacity]") {
  for (const std::size_t bad : {std::size_t{0}, std::size_t{1}, std::size_t{63}, (std::size_t{1} << 31) + 1,
                                std::size_t{1} << 40, std::numeric_limits<std::size_t>::max()}) {
    CAPTURE(bad);
    try {
      const LogRing ring(bad);
      FAIL("no exception for " << bad);
    } catch (const std::invalid_argument& e) {
      const std::string msg = e.what();
      CHECK(msg.rfind("hft::LogRing: capacity", 0) == 0);
      CHECK(msg.find("got " + std::to_string(bad)) != std::string::npos);
    }
  }
}

TEST_CASE("LogRing try_reserve refuses a size below 4, above max_record or not a multiple of 8") {
  LogRing ring(256);
  for (const std::size_t bad : {std::size_t{0}, std::size_t{1}, std::size_t{3}, std::size_t{4}, std::size_t{7},
                                std::size_t{12}, std::size_t{20}, std::size_t{129}, std::size_t{136}, std::size_t{256},
                                std::size_t{264}, std::numeric_limits<std::size_t>::max()}) {
    CAPTURE(bad);
    CHECK(ring.try_reserve(bad) == nullptr);
  }
  // A refusal changes nothing: the ring is still empty and takes the largest record at offset 0.
  CHECK(ring.empty());
  CHECK(ring.size_approx() == 0);
  CHECK(ring.try_reserve(8) == ring.data());
  CHECK(ring.try_reserve(128) == ring.data());
}

TEST_CASE("LogRing a max_record record fits in an empty ring wherever the wrap falls") {
  for (std::size_t offset = 0; offset < 256; offset += 8) {
    LogRing ring(256);
    advance(ring, offset);
    CAPTURE(offset);
    REQUIRE(ring.empty());
    CHECK(ring.try_reserve(ring.max_record() + 8) == nullptr);
    std::byte* p = ring.try_reserve(ring.max_record());
    REQUIRE(p != nullptr);
    // Contiguous: from the current offset if the record fits before the end, else from 0.
    CHECK(p == ring.data() + (256 - offset >= 128 ? offset : 0));
    write_record(p, 128, 99);
    ring.commit(128);
    const auto r = ring.peek();
    CHECK(record_matches(r, 128, 99));
    CHECK(r.data() == p);
  }
}

TEST_CASE("LogRing a record never straddles the end: a wrap marker precedes it and it starts at 0") {
  LogRing ring(64);  // max_record 32
  advance(ring, 24, 24);
  // 32 bytes at 24: ends exactly at 56, no wrap.
  std::byte* p = ring.try_reserve(32);
  REQUIRE(p == ring.data() + 24);
  write_record(p, 32, 1);
  ring.commit(32);
  CHECK(ring.size_approx() == 32);
  auto r = ring.peek();
  CHECK(record_matches(r, 32, 1));
  ring.release(r.size());
  // 8 bytes at 56: exactly to the end of the array, no marker.
  p = ring.try_reserve(8);
  REQUIRE(p == ring.data() + 56);
  write_record(p, 8, 2);
  ring.commit(8);
  r = ring.peek();
  CHECK(record_matches(r, 8, 2));
  ring.release(r.size());
  // Now at 64 = offset 0 again; advance to 56 and reserve 16: 8 bytes left, so a marker at 56.
  advance(ring, 56);
  std::memset(ring.data() + 56, 0, 8);
  p = ring.try_reserve(16);
  REQUIRE(p == ring.data());
  CHECK(load_u32(ring.data() + 56) == kWrapMarker);
  write_record(p, 16, 3);
  CHECK(ring.size_approx() == 0);  // nothing committed yet: the marker is not published alone
  CHECK(ring.peek().empty());
  ring.commit(16);
  CHECK(ring.size_approx() == 8 + 16);  // the skipped end counts until released
  r = ring.peek();
  CHECK(r.data() == ring.data());
  CHECK(record_matches(r, 16, 3));
  ring.release(r.size());
  CHECK(ring.size_approx() == 0);
  CHECK(ring.empty());
  CHECK_FALSE(ring.corrupt());
}

TEST_CASE("LogRing try_reserve returns nullptr when full and sees the consumer's release when it needs it") {
  LogRing ring(64);
  std::byte* a = ring.try_reserve(32);
  REQUIRE(a != nullptr);
  write_record(a, 32, 1);
  ring.commit(32);
  std::byte* b = ring.try_reserve(32);
  REQUIRE(b != nullptr);
  write_record(b, 32, 2);
  ring.commit(32);
  CHECK(ring.size_approx() == 64);
  CHECK(ring.try_reserve(8) == nullptr);  // full: no waiting, nullptr
  CHECK(ring.try_reserve(8) == nullptr);
  // The consumer releases one record: the producer's copy of head still says full, so it
  // reloads the shared head and succeeds.
  auto r = ring.peek();
  REQUIRE(record_matches(r, 32, 1));
  ring.release(r.size());
  std::byte* c = ring.try_reserve(32);
  CHECK(c == ring.data());
  write_record(c, 32, 3);
  ring.commit(32);
  CHECK(ring.try_reserve(8) == nullptr);
  r = ring.peek();
  CHECK(record_matches(r, 32, 2));
  ring.release(r.size());
  r = ring.peek();
  CHECK(record_matches(r, 32, 3));
  ring.release(r.size());
  CHECK(ring.empty());
}

TEST_CASE("LogRing counts the skipped end of the array against the free space") {
  LogRing ring(64);
  advance(ring, 16);  // head = tail = 16
  std::byte* p = ring.try_reserve(32);
  REQUIRE(p == ring.data() + 16);
  write_record(p, 32, 1);
  ring.commit(32);
  p = ring.try_reserve(8);
  REQUIRE(p == ring.data() + 48);
  write_record(p, 8, 2);
  ring.commit(8);
  // tail = 56, head = 16: 24 bytes free (16..24 at the start + 56..64 at the end), but a
  // 24-byte record needs the 8 at the end for its marker plus 24 at the start.
  CHECK(ring.try_reserve(24) == nullptr);
  CHECK(load_u32(ring.data() + 56) != kWrapMarker);  // a refused reserve writes no marker
  p = ring.try_reserve(16);                          // 8 + 16 = 24: fits exactly
  REQUIRE(p == ring.data());
  write_record(p, 16, 3);
  ring.commit(16);
  CHECK(ring.size_approx() == 64);
  for (const auto& [n, seq] : std::vector<std::pair<std::size_t, std::uint64_t>>{{32, 1}, {8, 2}, {16, 3}}) {
    const auto r = ring.peek();
    CHECK(record_matches(r, n, seq));
    ring.release(r.size());
  }
  CHECK(ring.empty());
}

TEST_CASE("LogRing peek shows committed records only, in place, until released") {
  LogRing ring(128);
  CHECK(ring.peek().empty());
  CHECK(ring.empty());
  std::byte* p = ring.try_reserve(24);
  REQUIRE(p != nullptr);
  write_record(p, 24, 7);
  CHECK(ring.peek().empty());  // reserved, not committed
  CHECK(ring.empty());
  CHECK(ring.size_approx() == 0);
  ring.commit(24);
  CHECK_FALSE(ring.empty());
  CHECK(ring.size_approx() == 24);
  const auto r1 = ring.peek();
  const auto r2 = ring.peek();  // peek does not consume
  CHECK(r1.data() == p);
  CHECK(r2.data() == r1.data());
  CHECK(r2.size() == 24);
  CHECK(record_matches(r1, 24, 7));
  CHECK_FALSE(ring.empty());
  ring.release(24);
  CHECK(ring.empty());
  CHECK(ring.peek().empty());
  CHECK(ring.size_approx() == 0);
}

TEST_CASE("LogRing keeps FIFO order and contents across many wraps with random sizes") {
  const std::uint64_t seed = test_seed();
  INFO("seed " << seed << " (HFT_TEST_SEED replays it)");
  for (const std::size_t capacity : {std::size_t{64}, std::size_t{256}, std::size_t{4096}}) {
    CAPTURE(capacity);
    LogRing ring(capacity);
    std::mt19937_64 rng(seed + capacity);
    std::deque<std::pair<std::size_t, std::uint64_t>> queued;  // (size, seq) committed, not released
    std::uint64_t m_tail = 0;                                  // the model's positions, in bytes
    std::uint64_t m_head = 0;
    std::uint64_t seq = 0;
    std::uint64_t next_out = 0;
    std::size_t wraps = 0;
    std::size_t refusals = 0;
    const std::size_t records = hft::test::scaled(200'000);
    while (next_out < records) {
      if (seq < records && rng() % 3 != 0) {
        const std::size_t n = 8 * (1 + rng() % (ring.max_record() / 8));
        const std::size_t pos = m_tail % capacity;
        const std::size_t need = n <= capacity - pos ? n : capacity - pos + n;
        std::byte* p = ring.try_reserve(n);
        if (need > capacity - (m_tail - m_head)) {
          CHECK(p == nullptr);
          ++refusals;
          continue;
        }
        REQUIRE(p == ring.data() + (need == n ? pos : 0));
        if (need != n) {
          CHECK(load_u32(ring.data() + pos) == kWrapMarker);
          ++wraps;
        }
        write_record(p, n, seq);
        ring.commit(n);
        m_tail += need;
        queued.emplace_back(n, seq++);
      } else {
        const auto r = ring.peek();
        if (queued.empty()) {
          CHECK(r.empty());
          CHECK(ring.empty());
          continue;
        }
        const auto [n, s] = queued.front();
        CAPTURE(s);
        REQUIRE(within(ring, r, ring.data()));
        REQUIRE(record_matches(r, n, s));
        const std::size_t pos = m_head % capacity;
        m_head += r.data() == ring.data() + pos ? n : capacity - pos + n;
        ring.release(r.size());
        queued.pop_front();
        ++next_out;
      }
      REQUIRE(ring.size_approx() == m_tail - m_head);
      REQUIRE_FALSE(ring.corrupt());
    }
    CHECK(ring.empty());
    CHECK(wraps > records / 100);
    CHECK(refusals > 0);
  }
}

TEST_CASE("LogRing two threads: every record arrives once, in order, intact") {
  const std::uint64_t seed = test_seed();
  INFO("seed " << seed << " (HFT_TEST_SEED replays it)");
#if defined(HFT_TEST_TSAN)
  const std::size_t records = hft::test::scaled(2'000'000 * hft::test::stress_divisor / 8);  // 250,000: ~2 s
#else
  const std::size_t records = hft::test::scaled(2'000'000);
#endif
  LogRing ring(1024);
  const std::size_t slots = ring.max_record() / 8;
  // Both threads draw the same sizes from the same generator: the consumer knows what to expect.
  auto draw = [slots](std::mt19937_64& rng) {
    const std::uint64_t x = rng();
    return 8 * (1 + (x % 4 != 0 ? (x >> 8) % 8 : (x >> 8) % slots));  // mostly small, some up to max_record
  };
  std::atomic<bool> done{false};
  std::atomic<std::size_t> bad_size_approx{0};
  std::thread observer([&] {  // any thread may call size_approx and capacity
    while (!done.load(std::memory_order_relaxed)) {
      if (ring.size_approx() > ring.capacity()) bad_size_approx.fetch_add(1, std::memory_order_relaxed);
      std::this_thread::yield();
    }
  });
  std::thread producer([&] {
    std::mt19937_64 rng(seed);
    for (std::uint64_t seq = 0; seq < records; ++seq) {
      const std::size_t n = draw(rng);
      std::byte* p = nullptr;
      while ((p = ring.try_reserve(n)) == nullptr) std::this_thread::yield();
      write_record(p, n, seq);
      ring.commit(n);
    }
  });
  std::mt19937_64 rng(seed);
  std::uint64_t received = 0;
  std::uint64_t mismatches = 0;
  std::uint64_t bytes = 0;
  while (received < records) {
    const auto r = ring.peek();
    if (r.empty()) {
      if (ring.corrupt()) break;
      std::this_thread::yield();
      continue;
    }
    const std::size_t n = draw(rng);
    if (!within(ring, r, ring.data()) || !record_matches(r, n, received)) ++mismatches;
    bytes += r.size();
    ring.release(r.size());
    ++received;
  }
  producer.join();
  done.store(true, std::memory_order_relaxed);
  observer.join();
  CHECK(received == records);
  CHECK(mismatches == 0);
  CHECK_FALSE(ring.corrupt());
  CHECK(ring.empty());
  CHECK(ring.size_approx() == 0);
  CHECK(bad_size_approx.load() == 0);
  CHECK(bytes > records * 8);
}

namespace {

// A ring of 256 bytes whose size words the test writes by hand; `tail` is published.
struct Hand {
  LogRing ring{256};
  void put(std::size_t pos, std::uint32_t size_word) { store_u32(ring.data() + pos, size_word); }
  void publish(std::uint64_t tail) { ring.publish_tail_for_testing(tail); }
  // peek() must refuse, say corrupt, and keep refusing (and empty() says there is nothing).
  void expect_corrupt() {
    CHECK(ring.peek().empty());
    CHECK(ring.corrupt());
    CHECK(ring.peek().empty());
    CHECK(ring.corrupt());
    CHECK(ring.empty());
  }
};

}  // namespace

TEST_CASE("LogRing reads a hand-written ring, including a wrap marker, as the producer would write it") {
  Hand h;
  h.put(0, 16);
  h.put(16, 8);
  h.publish(24);
  auto r = h.ring.peek();
  CHECK((r.data() == h.ring.data() && r.size() == 16));
  h.ring.release(16);
  r = h.ring.peek();
  CHECK((r.data() == h.ring.data() + 16 && r.size() == 8));
  h.ring.release(8);
  CHECK(h.ring.empty());
  // Advance to 200 through the normal path, then a marker at 200 and a record at 0.
  advance(h.ring, 200 - 24);
  h.put(200, kWrapMarker);
  h.put(0, 32);
  h.publish(256 + 32);
  r = h.ring.peek();
  CHECK((r.data() == h.ring.data() && r.size() == 32));
  h.ring.release(32);
  CHECK(h.ring.empty());
  CHECK_FALSE(h.ring.corrupt());
}

TEST_CASE("LogRing corrupt size words: peek returns nothing and corrupt() says so") {
  SECTION("size 0") {
    Hand h;
    h.put(0, 0);
    h.publish(64);
    h.expect_corrupt();
  }
  SECTION("size 4: below the alignment") {
    Hand h;
    h.put(0, 4);
    h.publish(64);
    h.expect_corrupt();
  }
  SECTION("size not a multiple of 8") {
    for (const std::uint32_t bad : {1u, 3u, 9u, 12u, 20u, 60u, 127u}) {
      CAPTURE(bad);
      Hand h;
      h.put(0, bad);
      h.publish(256);
      h.expect_corrupt();
    }
  }
  SECTION("size above max_record") {
    for (const std::uint32_t bad : {136u, 256u, 264u, 1u << 20, 0x8000'0000u, 0xFFFF'FFF0u}) {
      CAPTURE(bad);
      Hand h;
      h.put(0, bad);
      h.publish(256);
      h.expect_corrupt();
    }
  }
  SECTION("size above the published bytes") {
    Hand h;
    h.put(0, 32);
    h.publish(24);
    h.expect_corrupt();
  }
  SECTION("an unaligned published tail leaves a record that cannot be complete") {
    Hand h;
    h.put(0, 8);
    h.publish(5);
    h.expect_corrupt();
  }
  SECTION("a record that would cross the end of the array") {
    Hand h;
    advance(h.ring, 240);
    h.put(240, 32);  // <= max_record and <= the published bytes, but 240 + 32 > 256
    h.publish(240 + 64);
    h.expect_corrupt();
  }
  SECTION("a valid record, then a bad one: the first is delivered, then nothing") {
    Hand h;
    h.put(0, 16);
    h.put(16, 12);
    h.put(32, 8);
    h.publish(40);
    const auto r = h.ring.peek();
    CHECK(r.size() == 16);
    h.ring.release(r.size());
    h.expect_corrupt();
    h.put(16, 8);  // repairing the bytes does not revive it
    CHECK(h.ring.peek().empty());
    CHECK(h.ring.corrupt());
  }
  SECTION("a wrap marker at offset 0") {
    Hand h;
    h.put(0, kWrapMarker);
    h.publish(64);
    h.expect_corrupt();
  }
  SECTION("a wrap marker with nothing published after the end") {
    Hand h;
    advance(h.ring, 200);
    h.put(200, kWrapMarker);
    h.publish(256);  // tail - head == what the marker skips
    h.expect_corrupt();
  }
  SECTION("a wrap marker with fewer bytes after it than a record") {
    for (const std::uint64_t extra : {1u, 4u, 7u}) {
      CAPTURE(extra);
      Hand h;
      advance(h.ring, 200);
      h.put(200, kWrapMarker);
      h.put(0, 8);
      h.publish(256 + extra);
      h.expect_corrupt();
    }
  }
  SECTION("a wrap marker followed by a bad size word at 0") {
    Hand h;
    advance(h.ring, 200);
    h.put(200, kWrapMarker);
    h.put(0, 13);
    h.publish(256 + 64);
    h.expect_corrupt();
  }
  SECTION("a wrap marker followed by a record longer than what was published") {
    Hand h;
    advance(h.ring, 200);
    h.put(200, kWrapMarker);
    h.put(0, 64);
    h.publish(256 + 32);
    h.expect_corrupt();
  }
}

TEST_CASE("LogRing random garbage: every record handed out lies inside the array and within the tail") {
  const std::uint64_t seed = test_seed();
  INFO("seed " << seed << " (HFT_TEST_SEED replays it)");
  std::mt19937_64 rng(seed);
  std::size_t corrupt = 0;
  std::size_t delivered = 0;
  const std::size_t rounds = hft::test::scaled(20'000);
  for (std::size_t round = 0; round < rounds; ++round) {
    LogRing ring(256);
    const std::size_t start = 8 * (rng() % 32);
    advance(ring, start);
    std::byte* base = ring.data();
    // Random bytes, with plausible size words (small multiples of 8, wrap markers) sown in.
    for (std::size_t i = 0; i < 256; i += 4) {
      const std::uint64_t x = rng();
      std::uint32_t w = static_cast<std::uint32_t>(x >> 32);
      switch (x % 8) {
        case 0:
        case 1:
        case 2:
          w = static_cast<std::uint32_t>(8 * (1 + (x >> 8) % 20));
          break;
        case 3:
          w = kWrapMarker;
          break;
        default:
          break;
      }
      store_u32(base + i, w);
    }
    const std::uint64_t head = start;
    const std::uint64_t tail = head + rng() % 600;
    ring.publish_tail_for_testing(tail);
    std::uint64_t consumed = 0;
    std::size_t n = 0;
    for (;; ++n) {
      const auto r = ring.peek();
      if (r.empty()) break;
      REQUIRE(within(ring, r, base));
      REQUIRE(r.size() >= 8);
      REQUIRE(r.size() % 8 == 0);
      REQUIRE(r.size() <= ring.max_record());
      REQUIRE(load_u32(r.data()) == r.size());
      consumed += r.size();
      REQUIRE(consumed <= tail - head);
      ring.release(r.size());
      ++delivered;
    }
    REQUIRE(n <= (tail - head) / 8);
    if (ring.corrupt()) {
      ++corrupt;
    } else {
      CHECK(ring.empty());
    }
  }
  CHECK(corrupt > 0);
  CHECK(delivered > 0);
}
