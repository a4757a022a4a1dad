// Helpers shared by the journal tests: a temporary directory, a payload that is a function
// of its sequence (so any record can be checked on its own), and a full read-back.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "hft/journal/journal.hpp"
#include "hft/journal/journal_reader.hpp"

namespace hft::test {

/// $TMPDIR, else /tmp.
inline std::string tmp_base() {
  const char* base = std::getenv("TMPDIR");
  return base && *base ? base : "/tmp";
}

class TempDir {
 public:
  /// A new directory under `base`, removed with everything in it on destruction.
  explicit TempDir(const std::string& base = tmp_base()) {
    std::string tmpl = base + "/hft_journal_XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  [[nodiscard]] std::string sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

/// The payload of record `seq`: a length that varies with seq (up to `max_len`) and bytes
/// that depend on both, so a misplaced or stale byte shows.
inline std::vector<std::byte> payload_for(std::uint64_t seq, std::size_t max_len = 200) {
  const std::size_t len = static_cast<std::size_t>((seq * 2654435761u) % (max_len + 1));
  std::vector<std::byte> p(len);
  for (std::size_t i = 0; i < len; ++i) p[i] = static_cast<std::byte>((seq * 131 + i * 7) & 0xFF);
  return p;
}

inline bool payload_matches(const JournalRecord& r, std::size_t max_len = 200) {
  const auto want = payload_for(r.sequence, max_len);
  return r.payload.size() == want.size() && std::equal(want.begin(), want.end(), r.payload.begin(), r.payload.end());
}

struct ReadBack {
  std::uint64_t count = 0;
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  bool in_order = true;
  bool payloads_ok = true;
};

/// Reads every record from `start` until caught up.
inline ReadBack read_all(const std::string& dir, std::uint64_t start = 1, std::size_t max_len = 200) {
  ReadBack rb;
  JournalReader reader(dir, {.start_sequence = start});
  std::uint64_t expect = start;
  while (reader.poll([&](const JournalRecord& r) {
    if (rb.count == 0) rb.first = r.sequence;
    rb.in_order = rb.in_order && r.sequence == expect;
    rb.payloads_ok = rb.payloads_ok && payload_matches(r, max_len);
    rb.last = r.sequence;
    ++expect;
    ++rb.count;
  }) != 0) {
  }
  return rb;
}

inline std::size_t segment_count(const std::string& dir) { return hft::detail::list_segments(dir).size(); }

/// Creates an empty segment `dir/<first>.journal`, as a roll does before it seals the one before.
inline void make_segment(const std::string& dir, std::uint64_t first, std::size_t size) {
  auto s = hft::detail::MappedSegment::prepare(hft::JournalIo::posix(),
                                               dir + "/" + hft::detail::segment_name(first) + ".tmp", size, false);
  s.install(dir, first, 0, false);
}

/// Flips one byte of a file in place.
inline void flip_byte(const std::string& path, std::uint64_t offset, unsigned char mask = 0x5A) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(static_cast<unsigned char>(c) ^ mask);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(&c, 1);
}

/// Overwrites bytes of a file in place at `offset`.
inline void write_at(const std::string& path, std::uint64_t offset, std::string_view bytes) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace hft::test
