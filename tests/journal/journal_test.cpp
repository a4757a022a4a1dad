#include "hft/journal/journal.hpp"

#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "../support/catch.hpp"
#include "../support/scale.hpp"
#include "hft/journal/journal_reader.hpp"
#include "journal_support.hpp"

using hft::Durability;
using hft::Journal;
using hft::JournalReader;
using hft::JournalRecord;
using hft::test::payload_for;
using hft::test::read_all;
using hft::test::TempDir;

namespace {
constexpr std::size_t kSmall = 4096;  // one page: the smallest segment, so rolls are frequent

// Where each of the first `n` records is (segment, offset): inside the handler, the reader's
// position is the record being delivered.
std::vector<std::pair<std::string, std::size_t>> record_offsets(const std::string& dir, std::size_t n) {
  std::vector<std::pair<std::string, std::size_t>> out;
  JournalReader r(dir);
  for (std::size_t i = 0; i < n; ++i) {
    std::pair<std::string, std::size_t> where;
    const std::size_t got = r.poll([&](const JournalRecord&) { where = {r.segment_path(), r.offset()}; }, 1);
    if (got == 0) break;
    out.push_back(where);
  }
  return out;
}
}  // namespace

TEST_CASE("Journal rejects a bad config with the field and value", "[journal]") {
  TempDir t;
  auto msg = [&](const hft::JournalConfig& cfg) {
    try {
      Journal j(t.path(), cfg);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no throw");
  };
  REQUIRE(msg({.segment_size = 0}).find("hft::Journal: segment_size must be") == 0);
  REQUIRE(msg({.segment_size = 4095}).find("got 4095") != std::string::npos);
  REQUIRE(msg({.segment_size = 4096 * 3 + 8}).find("got 12296") != std::string::npos);
  REQUIRE(msg({.first_sequence = 0}).find("first_sequence must be >= 1") != std::string::npos);
  REQUIRE(msg({.durability = Durability::batch, .batch_interval = std::chrono::microseconds(0)})
              .find("batch_interval must be > 0") != std::string::npos);
}

TEST_CASE("Journal round-trips every record size up to the segment limit", "[journal]") {
  TempDir t;
  std::size_t max = 0;
  {
    Journal j(t.path(), {.segment_size = kSmall});
    max = j.max_payload();
    REQUIRE(max == kSmall - 64 - 24);
    std::vector<std::byte> p(max);
    for (std::size_t n = 0; n <= max; ++n) {
      for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<std::byte>((n + i) & 0xFF);
      REQUIRE(j.append(p.data(), n) == n + 1);
    }
    REQUIRE(j.last_sequence() == max + 1);
    REQUIRE(j.durable_sequence() == max + 1);  // none: a committed record survives a process crash
    REQUIRE(j.stats().appended == max + 1);
  }
  JournalReader r(t.path());
  std::size_t expect = 0;
  bool ok = true;
  while (r.poll([&](const JournalRecord& rec) {
    ok = ok && rec.sequence == expect + 1 && rec.payload.size() == expect;
    for (std::size_t i = 0; ok && i < rec.payload.size(); ++i)
      ok = rec.payload[i] == static_cast<std::byte>((expect + i) & 0xFF);
    ++expect;
  }) != 0) {
  }
  REQUIRE(ok);
  REQUIRE(expect == max + 1);
}

TEST_CASE("Journal rolls segments: names, end markers, sequence continuity", "[journal]") {
  TempDir t;
  std::uint64_t created = 0;
  {
    Journal j(t.path(), {.segment_size = kSmall});
    for (std::uint64_t s = 1; s <= 500; ++s) {
      const auto p = payload_for(s);
      REQUIRE(j.append(p) == s);
    }
    created = j.stats().segments_created;
  }
  const auto segs = hft::detail::list_segments(t.path());
  REQUIRE(segs.size() == created);
  REQUIRE(segs.size() > 10);
  REQUIRE(segs.front().first == 1);
  REQUIRE(std::filesystem::path(segs.front().second).filename() == "00000000000000000001.journal");
  for (const auto& [first, path] : segs) REQUIRE(std::filesystem::file_size(path) == kSmall);
  const auto rb = read_all(t.path());
  REQUIRE(rb.count == 500);
  REQUIRE(rb.in_order);
  REQUIRE(rb.payloads_ok);
  // Each later segment starts right after the previous one's last record.
  for (std::size_t i = 1; i < segs.size(); ++i) {
    const auto from = read_all(t.path(), segs[i].first);
    REQUIRE(from.first == segs[i].first);
    REQUIRE(from.last == 500);
  }
}

TEST_CASE("Journal reopens and continues the sequence, a reader starts mid-journal", "[journal]") {
  TempDir t;
  for (int round = 0; round < 5; ++round) {
    Journal j(t.path(), {.segment_size = kSmall});
    REQUIRE(j.recovery().next_sequence == static_cast<std::uint64_t>(round) * 40 + 1);
    REQUIRE(j.recovery().dropped_records == 0);
    for (int i = 0; i < 40; ++i) {
      const auto s = j.next_sequence();
      (void)j.append(payload_for(s));
    }
  }
  REQUIRE(read_all(t.path()).count == 200);
  const auto mid = read_all(t.path(), 123);
  REQUIRE(mid.first == 123);
  REQUIRE(mid.count == 78);
  REQUIRE(mid.payloads_ok);
  // Start past the end: nothing yet, then the next record.
  JournalReader r(t.path(), {.start_sequence = 201});
  REQUIRE(r.poll([](const JournalRecord&) {}) == 0);
  {
    Journal j(t.path(), {.segment_size = kSmall});
    (void)j.append(payload_for(201));
  }
  std::uint64_t got = 0;
  REQUIRE(r.poll([&](const JournalRecord& rec) { got = rec.sequence; }) == 1);
  REQUIRE(got == 201);
}

TEST_CASE("Journal: a reader starting before the oldest segment is an error", "[journal]") {
  TempDir t;
  {
    Journal j(t.path(), {.segment_size = kSmall});
    for (std::uint64_t s = 1; s <= 100; ++s) (void)j.append(payload_for(s));
  }
  const auto segs = hft::detail::list_segments(t.path());
  std::filesystem::remove(segs.front().second);  // retention removed the oldest
  REQUIRE_THROWS_WITH(
      JournalReader(t.path(), {.start_sequence = 1}),
      Catch::Matchers::Contains("before the oldest segment, which starts at " + std::to_string(segs[1].first)));
  REQUIRE(read_all(t.path(), segs[1].first).last == 100);
}

TEST_CASE("Journal: first_sequence sets a new journal's first record", "[journal]") {
  TempDir t;
  {
    Journal j(t.path(), {.segment_size = kSmall, .first_sequence = 1000});
    REQUIRE(j.append(payload_for(1000)) == 1000);
  }
  REQUIRE(std::filesystem::exists(t.sub("00000000000000001000.journal")));
  REQUIRE(read_all(t.path(), 1000).first == 1000);
}

TEST_CASE("Journal claim/commit writes in place, a shorter commit leaves the next record clean", "[journal]") {
  TempDir t;
  {
    Journal j(t.path(), {.segment_size = kSmall});
    for (std::uint64_t s = 1; s <= 300; ++s) {
      const auto want = payload_for(s);
      auto span = j.claim(want.size() + 64);
      std::memset(span.data(), 0xFF, span.size());  // scribble over the whole claim
      if (!want.empty()) std::memcpy(span.data(), want.data(), want.size());
      REQUIRE(j.commit(want.size()) == s);
    }
    // A claim that is never committed is discarded.
    auto span = j.claim(10);
    std::memset(span.data(), 0xAB, span.size());
  }
  const auto rb = read_all(t.path());
  REQUIRE(rb.count == 300);
  REQUIRE(rb.payloads_ok);
  Journal j(t.path(), {.segment_size = kSmall});
  REQUIRE(j.recovery().next_sequence == 301);
}

TEST_CASE("Journal: a record larger than max_payload throws, try_append returns false and the journal goes on",
          "[journal]") {
  TempDir t;
  Journal j(t.path(), {.segment_size = kSmall});
  std::vector<std::byte> big(j.max_payload() + 1);
  REQUIRE_THROWS_WITH(j.append(big), Catch::Matchers::Contains("exceeds max_payload() 4008"));
  REQUIRE_FALSE(j.try_append(big));
  REQUIRE(j.stats().append_failures == 1);
  REQUIRE(j.try_append(payload_for(1)));
  REQUIRE(j.last_sequence() == 1);
  big.pop_back();
  REQUIRE(j.try_append(big));  // exactly max_payload fits
  REQUIRE(j.last_sequence() == 2);
}

TEST_CASE("Journal: a flipped byte in a middle record is reported with its segment and offset", "[journal]") {
  TempDir t;
  {
    Journal j(t.path(), {.segment_size = 1 << 16});
    for (std::uint64_t s = 1; s <= 50; ++s) (void)j.append(payload_for(s));
  }
  const auto where = record_offsets(t.path(), 50);
  REQUIRE(where.size() == 50);
  const auto [path, off] = where[19];  // record 20
  for (std::size_t byte : {std::size_t{2}, std::size_t{8}, std::size_t{16}, std::size_t{24}}) {
    INFO("byte " << byte << " of the record");
    hft::test::flip_byte(path, off + byte);
    try {
      Journal j(t.path(), {.segment_size = 1 << 16});
      FAIL("recovery accepted a corrupt middle record");
    } catch (const hft::JournalCorrupt& e) {
      REQUIRE(e.segment == path);
      REQUIRE(e.offset == off);
      REQUIRE(std::string(e.what()).find("followed by whole records") != std::string::npos);
    }
    // A reader stops at the same place with the same report, after delivering 19 records.
    JournalReader r(t.path());
    std::uint64_t delivered = 0;
    try {
      while (r.poll([&](const JournalRecord&) { ++delivered; }) != 0) {
      }
      FAIL("the reader skipped a corrupt record");
    } catch (const hft::JournalCorrupt& e) {
      REQUIRE(e.segment == path);
      REQUIRE(e.offset == off);
    }
    REQUIRE(delivered == 19);
    hft::test::flip_byte(path, off + byte);  // repair for the next case
  }
  REQUIRE(read_all(t.path()).count == 50);
}

// Found by tests/fuzz/journal_recovery: a zero commit word ended the scan without looking
// further, so whole records behind it stayed in the file and the next append (of the same
// length) brought them back to life after itself: a reader saw sequences never written.
// Behind a zero commit word stand only bytes of a claim never committed (a relay's payload may
// hold record images) or, after a power loss, pages that outlived an earlier one: cut and
// counted, under every policy (issue 34's review). Damage to a published record is refused:
// journal_faults_test "whole records behind a lost commit word are cut, ...".
TEST_CASE("Journal: records behind a zeroed commit word are cut and never come back, a torn payload is cleared",
          "[journal]") {
  TempDir t;
  {
    Journal j(t.path(), {.segment_size = 1 << 16});
    for (std::uint64_t s = 1; s <= 50; ++s) (void)j.append(payload_for(s));
  }
  const auto where = record_offsets(t.path(), 50);
  REQUIRE(where.size() == 50);
  SECTION("in the middle: the records behind it are cut, counted, and never come back") {
    const auto [path, off] = where[19];
    hft::test::write_at(path, off, std::string(4, '\0'));  // the commit word
    {
      Journal j(t.path(), {.segment_size = 1 << 16});
      REQUIRE(j.last_sequence() == 19);
      REQUIRE(j.recovery().truncated_segment == path);
      REQUIRE(j.recovery().truncated_offset == off);
      REQUIRE(j.recovery().dropped_whole_records == 30);
      REQUIRE(j.append(payload_for(20)) == 20);  // the same length as the old record 20
    }
    const auto rb = read_all(t.path());
    REQUIRE(rb.count == 20);
    REQUIRE(rb.in_order);
    REQUIRE(rb.payloads_ok);
  }
  SECTION("at the end: payload bytes without a commit word are a torn tail") {
    const auto [path, off] = where[49];
    const std::uint64_t tail = off + hft::detail::record_size(payload_for(50).size());
    // Payload bytes written, their commit word never was.
    hft::test::write_at(path, tail + hft::detail::kRecordHeaderSize, "torn payload");
    {
      Journal j(t.path(), {.segment_size = 1 << 16});
      REQUIRE(j.last_sequence() == 50);
      REQUIRE(j.recovery().truncated_offset == tail);
      REQUIRE(j.recovery().dropped_bytes > 0);
      REQUIRE(j.recovery().dropped_records == 0);  // an unpublished claim, not a record
      REQUIRE(j.append(payload_for(51)) == 51);
    }
    const auto rb = read_all(t.path());
    REQUIRE(rb.count == 51);
    REQUIRE(rb.in_order);
    REQUIRE(rb.payloads_ok);
  }
}

TEST_CASE("Journal: a torn tail is truncated on reopen, reported, and the sequence continues", "[journal]") {
  TempDir t;
  const auto cfg = hft::JournalConfig{.segment_size = 1 << 16};
  {
    Journal j(t.path(), cfg);
    for (std::uint64_t s = 1; s <= 30; ++s) (void)j.append(payload_for(s));
  }
  const auto where = record_offsets(t.path(), 30);
  const std::string path = where.back().first;
  const std::size_t tail = where.back().second + hft::detail::record_size(payload_for(30).size());  // past 30

  SECTION("a committed word whose payload never reached the disk (CRC fails)") {
    // What a power loss under `none` can leave: the commit word's page written, the
    // payload's not. Write a header claiming 100 bytes with a wrong CRC.
    const std::uint32_t word = hft::detail::kCommitted | 100u;
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(tail));
    f.write(reinterpret_cast<const char*>(&word), 4);
    const std::uint64_t seq = 31;
    f.seekp(static_cast<std::streamoff>(tail + 8));
    f.write(reinterpret_cast<const char*>(&seq), 8);
  }
  SECTION("the last record's payload bit-flipped") {
    hft::test::flip_byte(path, where.back().second + 4, 0x01);  // record 30's CRC
  }
  SECTION("a length running past the segment") {
    const std::uint32_t word = hft::detail::kCommitted | 0x7FFFFFF0u;
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(tail));
    f.write(reinterpret_cast<const char*>(&word), 4);
  }
  Journal j(t.path(), cfg);
  const auto& rec = j.recovery();
  REQUIRE(rec.dropped_records == 1);
  REQUIRE(rec.dropped_bytes > 0);
  REQUIRE(rec.truncated_segment == path);
  const std::uint64_t kept = rec.next_sequence - 1;
  REQUIRE((kept == 30 || kept == 29));  // the bit-flip case loses record 30 itself
  REQUIRE(rec.truncated_offset == (kept == 30 ? tail : where.back().second));
  // The tail was zeroed: new records go where the torn one was, and read back cleanly.
  for (std::uint64_t s = kept + 1; s <= kept + 20; ++s) REQUIRE(j.append(payload_for(s)) == s);
  const auto rb = read_all(t.path());
  REQUIRE(rb.count == kept + 20);
  REQUIRE(rb.in_order);
  REQUIRE(rb.payloads_ok);
}

TEST_CASE("Journal recovery: an empty last segment after an unsealed one is removed", "[journal]") {
  TempDir t;
  {
    Journal j(t.path(), {.segment_size = kSmall});
    for (std::uint64_t s = 1; s <= 5; ++s) (void)j.append(payload_for(s));
  }
  // The writer died after creating the next segment but before sealing this one.
  hft::test::make_segment(t.path(), 6, kSmall);
  // And a roll's temporary file from another crash.
  { std::ofstream(t.sub("00000000000000000099.journal.tmp")) << "x"; }
  REQUIRE(hft::test::segment_count(t.path()) == 2);
  Journal j(t.path(), {.segment_size = kSmall});
  REQUIRE(j.recovery().removed_segments == 2);
  REQUIRE(j.recovery().next_sequence == 6);
  REQUIRE(j.recovery().segments == 1);
  REQUIRE_FALSE(std::filesystem::exists(t.sub("00000000000000000099.journal.tmp")));
  REQUIRE(j.append(payload_for(6)) == 6);
  REQUIRE(read_all(t.path()).count == 6);
}

TEST_CASE("Journal recovery: an empty last segment after a sealed one is kept", "[journal]") {
  TempDir t;
  {
    Journal j(t.path(), {.segment_size = kSmall});
    for (std::uint64_t s = 1; s <= 5; ++s) (void)j.append(payload_for(s, 10));
    // A claim that does not fit rolls (creates segment 6, seals this one), then the process
    // dies before committing.
    (void)j.claim(j.max_payload());
  }
  REQUIRE(hft::test::segment_count(t.path()) == 2);
  JournalReader reader(t.path());
  REQUIRE(reader.poll([](const JournalRecord&) {}) == 5);  // and now waits in segment 6
  Journal j(t.path(), {.segment_size = kSmall});
  REQUIRE(j.recovery().removed_segments == 0);
  REQUIRE(j.recovery().next_sequence == 6);
  REQUIRE(j.recovery().segments == 2);
  REQUIRE(j.append(payload_for(6)) == 6);
  std::uint64_t got = 0;
  REQUIRE(reader.poll([&](const JournalRecord& r) { got = r.sequence; }) == 1);
  REQUIRE(got == 6);
}

TEST_CASE("Journal: a bad segment header is reported, never rewritten", "[journal]") {
  TempDir t;
  {
    Journal j(t.path(), {.segment_size = kSmall});
    (void)j.append(payload_for(1));
  }
  const auto path = hft::detail::list_segments(t.path()).front().second;
  hft::test::flip_byte(path, 20);  // inside segment_size
  REQUIRE_THROWS_AS(Journal(t.path(), {.segment_size = kSmall}), hft::JournalCorrupt);
  REQUIRE_THROWS_WITH(JournalReader(t.path()), Catch::Matchers::Contains("segment header CRC mismatch"));
  hft::test::flip_byte(path, 20);
  REQUIRE(read_all(t.path()).count == 1);
}

TEST_CASE("Journal durability every: durable_sequence() equals last_sequence() on return", "[journal]") {
  TempDir t;
  Journal j(t.path(), {.segment_size = kSmall, .durability = Durability::every});
  REQUIRE(j.durable_sequence() == 0);
  for (std::uint64_t s = 1; s <= 100; ++s) {
    (void)j.append(payload_for(s));
    REQUIRE(j.durable_sequence() == s);
  }
  REQUIRE(j.stats().syncs >= 100);
  REQUIRE(j.stats().sync_failures == 0);
}

TEST_CASE("Journal durability batch: the flusher catches up by time and by count", "[journal]") {
  TempDir t;
  auto wait_durable = [](const Journal& j, std::uint64_t s) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (j.durable_sequence() < s && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    return j.durable_sequence() >= s;
  };
  SECTION("by time") {
    Journal j(
        t.path(),
        {.segment_size = kSmall, .durability = Durability::batch, .batch_interval = std::chrono::microseconds(500)});
    for (std::uint64_t s = 1; s <= 200; ++s) (void)j.append(payload_for(s));
    REQUIRE(wait_durable(j, 200));
    REQUIRE(j.durable_sequence() == 200);
    REQUIRE(j.stats().syncs >= 1);
  }
  SECTION("by count, with a period far longer than the test") {
    Journal j(t.path(), {.segment_size = 1 << 20,
                         .durability = Durability::batch,
                         .batch_interval = std::chrono::hours(1),
                         .batch_records = 10});
    for (std::uint64_t s = 1; s <= 10; ++s) (void)j.append(payload_for(s));
    REQUIRE(wait_durable(j, 10));
  }
  SECTION("flush() from another thread, while the writer appends") {
    Journal j(
        t.path(),
        {.segment_size = kSmall, .durability = Durability::batch, .batch_interval = std::chrono::microseconds(300)});
    std::atomic<bool> done{false};
    std::uint64_t prev = 0;
    bool monotonic = true;
    std::thread flusher([&] {
      while (!done.load(std::memory_order_acquire)) {
        j.flush();
        const auto d = j.durable_sequence();
        monotonic = monotonic && d >= prev && d <= j.last_sequence();
        prev = d;
      }
    });
    const std::uint64_t n = 3000 / hft::test::stress_divisor + 200;
    for (std::uint64_t s = 1; s <= n; ++s) (void)j.append(payload_for(s));
    done.store(true, std::memory_order_release);
    flusher.join();
    j.flush();
    REQUIRE(monotonic);
    REQUIRE(j.durable_sequence() == n);
    REQUIRE(read_all(t.path()).count == n);
  }
}

TEST_CASE("Journal: destruction with the flusher running syncs and stops it", "[journal]") {
  TempDir t;
  for (int round = 0; round < 5; ++round) {
    Journal j(
        t.path(),
        {.segment_size = kSmall, .durability = Durability::batch, .batch_interval = std::chrono::microseconds(50)});
    for (int i = 0; i < 100; ++i) (void)j.append(payload_for(j.next_sequence()));
  }
  const auto rb = read_all(t.path());
  REQUIRE(rb.count == 500);
  REQUIRE(rb.payloads_ok);
}

TEST_CASE("Journal: timestamps are wall-clock nanoseconds and the caller may supply one", "[journal]") {
  TempDir t;
  const auto wall = [] {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count());
  };
  const std::uint64_t before = wall();
  {
    Journal j(t.path());
    (void)j.append("a", 1);
    (void)j.claim(1);
    (void)j.commit(0, 12345);
  }
  const std::uint64_t after = wall();
  JournalReader r(t.path());
  std::vector<std::uint64_t> ts;
  while (r.poll([&](const JournalRecord& rec) { ts.push_back(rec.timestamp_ns); }) != 0) {
  }
  REQUIRE(ts.size() == 2);
  REQUIRE(ts[0] + 1'000'000 >= before);  // within 1 ms of the wall clock (TSC calibration error)
  REQUIRE(ts[0] <= after + 1'000'000);
  REQUIRE(ts[1] == 12345);
}

TEST_CASE("Journal: appends inside a pre-faulted segment take no page fault", "[journal]") {
  TempDir t;
  Journal j(t.path(), {.segment_size = 1 << 20});
  std::vector<std::byte> p(100, std::byte{1});
  const std::uint64_t n = (j.max_payload() - 4096) / hft::detail::record_size(p.size());
  (void)j.append(p);  // first call: the CRC's CPU check and any lazy binding
  const auto faults = [] {
    rusage r{};
    ::getrusage(RUSAGE_THREAD, &r);
    return r.ru_minflt + r.ru_majflt;
  };
  const long before = faults();
  for (std::uint64_t i = 0; i < n; ++i) (void)j.append(p);
  const long taken = faults() - before;
  REQUIRE(j.stats().segments_created == 1);
#if defined(HFT_TEST_ASAN) || defined(HFT_TEST_TSAN)
  // The sanitizers' shadow memory for the mapping is faulted in lazily on first access.
  INFO("page faults under a sanitizer: " << taken);
#else
  REQUIRE(taken == 0);
#endif
}

TEST_CASE("Journal prepare_next: a roll takes the spare the background thread prepared", "[journal]") {
  TempDir t;
  const auto wait_ready = [](const Journal& j) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!j.next_segment_ready() && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return j.next_segment_ready();
  };
  SECTION("on (the default)") {
    {
      Journal j(t.path(), {.segment_size = kSmall});
      for (std::uint64_t s = 1; s <= 200; ++s) {
        REQUIRE(wait_ready(j));  // before every append, so each roll finds a spare
        REQUIRE(j.append(payload_for(s)) == s);
      }
      const auto st = j.stats();
      REQUIRE(st.rolls > 5);
      REQUIRE(st.rolls_unprepared == 0);
      REQUIRE(st.segments_created == st.rolls + 1);
      REQUIRE(wait_ready(j));
      bool spare_file = false;
      for (const auto& e : std::filesystem::directory_iterator(t.path()))
        spare_file = spare_file || e.path().filename().string().rfind("spare-", 0) == 0;
      REQUIRE(spare_file);
    }
    // The destructor removed the unused spare; only segments remain.
    for (const auto& e : std::filesystem::directory_iterator(t.path())) REQUIRE(e.path().extension() == ".journal");
  }
  SECTION("off: every roll creates its segment on the writer's thread") {
    Journal j(t.path(), {.segment_size = kSmall, .prepare_next = false});
    for (std::uint64_t s = 1; s <= 200; ++s) (void)j.append(payload_for(s));
    REQUIRE(j.stats().rolls > 5);
    REQUIRE(j.stats().rolls_unprepared == j.stats().rolls);
    REQUIRE_FALSE(j.next_segment_ready());
  }
  const auto rb = read_all(t.path());
  REQUIRE(rb.count == 200);
  REQUIRE(rb.in_order);
  REQUIRE(rb.payloads_ok);
}
