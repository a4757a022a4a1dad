// Fuzz target: Journal recovery and JournalReader on damaged segment files. A journal of
// fuzzer-chosen length is written across small segments, then damaged in one of three ways:
//   torn tail   everything from a fuzzer-chosen offset of the last segment on is zeroed, as a
//               crash mid-write leaves it (the header, written and synced first, survives);
//   bit flips   fuzzer-chosen bytes of any segment are XORed;
//   overwrite   a fuzzer-chosen range of the last segment is replaced by fuzzer bytes.
// Invariants: opening either succeeds or throws JournalError (JournalCorrupt included),
//   never anything else and never UB; a torn tail always opens; what opens continues the
//   sequence (the next append gets last + 1); a reader delivers a prefix of what was written,
//   in order and byte for byte, and stops or throws JournalError at the damage.
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "../journal/journal_support.hpp"
#include "fuzz_check.hpp"

namespace {

constexpr std::size_t kSegment = 4096;
constexpr std::size_t kMaxPayload = 120;
constexpr std::uint64_t kHeader = 64;  // SegmentHeader, journal_format.hpp

std::vector<std::string> segment_paths(const std::string& dir) {
  std::vector<std::string> v;
  for (const auto& [first, path] : hft::detail::list_segments(dir)) v.push_back(path);
  return v;
}

/// Reads from sequence 1 until caught up or at the damage; returns how many records were
/// delivered, every one checked against what was written.
std::uint64_t read_prefix(const std::string& dir, std::uint64_t written) {
  std::uint64_t expect = 1;
  try {
    hft::JournalReader reader(dir, {.start_sequence = 1});
    while (reader.poll([&](const hft::JournalRecord& r) {
      FUZZ_CHECK(r.sequence == expect, "the reader delivered %llu where %llu was due",
                 static_cast<unsigned long long>(r.sequence), static_cast<unsigned long long>(expect));
      FUZZ_CHECK(r.sequence <= written, "the reader invented record %llu", static_cast<unsigned long long>(r.sequence));
      FUZZ_CHECK(hft::test::payload_matches(r, kMaxPayload), "record %llu delivered with other bytes",
                 static_cast<unsigned long long>(r.sequence));
      ++expect;
    }) != 0) {
    }
  } catch (const hft::JournalError&) {
  }
  return expect - 1;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  const auto n = in.ConsumeIntegralInRange<std::uint64_t>(0, 150);
  const int mode = in.ConsumeIntegralInRange(0, 2);
  hft::test::TempDir t;
  const hft::JournalConfig cfg{.segment_size = kSegment, .prepare_next = false};
  {
    hft::Journal j(t.path(), cfg);
    for (std::uint64_t s = 1; s <= n; ++s) (void)j.append(hft::test::payload_for(s, kMaxPayload));
  }
  const auto segs = segment_paths(t.path());
  if (segs.empty()) return 0;
  const std::string& last = segs.back();
  switch (mode) {
    case 0: {
      const auto from = in.ConsumeIntegralInRange<std::uint64_t>(kHeader, kSegment);
      hft::test::write_at(last, from, std::string(kSegment - from, '\0'));
      break;
    }
    case 1: {
      const int flips = in.ConsumeIntegralInRange(1, 8);
      for (int k = 0; k < flips; ++k) {
        const std::string& seg = segs[in.ConsumeIntegralInRange<std::size_t>(0, segs.size() - 1)];
        const auto at = in.ConsumeIntegralInRange<std::uint64_t>(0, kSegment - 1);
        const auto mask = in.ConsumeIntegralInRange<unsigned>(1, 255);
        hft::test::flip_byte(seg, at, static_cast<unsigned char>(mask));
      }
      break;
    }
    default: {
      const auto at = in.ConsumeIntegralInRange<std::uint64_t>(0, kSegment - 1);
      std::string bytes = in.ConsumeRemainingBytesAsString();
      if (bytes.size() > kSegment - at) bytes.resize(kSegment - at);
      hft::test::write_at(last, at, bytes);
      break;
    }
  }

  std::uint64_t kept = 0;
  bool opened = false;
  try {
    hft::Journal j(t.path(), cfg);
    opened = true;
    kept = j.last_sequence();
    FUZZ_CHECK(kept <= n, "recovery kept %llu of %llu records", static_cast<unsigned long long>(kept),
               static_cast<unsigned long long>(n));
    FUZZ_CHECK(j.recovery().next_sequence == kept + 1, "recovery's next_sequence is not last + 1");
    const std::uint64_t seq = j.append(hft::test::payload_for(kept + 1, kMaxPayload));
    FUZZ_CHECK(seq == kept + 1, "the first append after recovery got %llu", static_cast<unsigned long long>(seq));
    kept = seq;
  } catch (const hft::JournalError&) {
  }
  if (std::getenv("HFT_FUZZ_VERBOSE"))
    std::fprintf(stderr, "mode %d, %llu written, opened %d, kept %llu\n", mode, static_cast<unsigned long long>(n),
                 opened, static_cast<unsigned long long>(kept));
  FUZZ_CHECK(opened || mode != 0, "a torn tail did not open");
  const std::uint64_t read = read_prefix(t.path(), opened ? kept : n);
  if (opened && mode == 0) {
    FUZZ_CHECK(read == kept, "after a torn tail the reader gave %llu of %llu records",
               static_cast<unsigned long long>(read), static_cast<unsigned long long>(kept));
  }
  return 0;
}
