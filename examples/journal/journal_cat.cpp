// journal_cat: prints a journal's records (sequence, UTC time, length, payload as text or
// hex) and verifies every record's CRC32C on the way.
// Usage: journal_cat --dir DIR [--from SEQ] [--count N] [--hex] [--quiet] [--follow]
// Exit status: 0 when every record read verified (an empty journal: "no records"), 1 on a
// corrupt record or segment (the message names the file and byte offset), 2 on a usage
// error, a --dir that does not exist or is not a directory, or a directory that holds no
// journal segment (`<20-digit first sequence>.journal`, journal_format.hpp).
#include <time.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <string>
#include <system_error>
#include <thread>

#include "cli.hpp"
#include "hft/journal/journal.hpp"
#include "hft/journal/journal_reader.hpp"

namespace {

std::string utc(std::uint64_t ns) {
  const auto secs = static_cast<time_t>(ns / 1'000'000'000u);
  tm t{};
  gmtime_r(&secs, &t);
  char buf[64];
  (void)std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%09uZ", t.tm_year + 1900, t.tm_mon + 1, t.tm_mday,
                      t.tm_hour, t.tm_min, t.tm_sec, static_cast<unsigned>(ns % 1'000'000'000u));
  return buf;
}

bool printable(std::span<const std::byte> p) {
  for (const std::byte b : p) {
    const auto c = static_cast<unsigned char>(b);
    if ((c < 0x20 || c > 0x7E) && c != '\t') return false;
  }
  return true;
}

void print_payload(std::span<const std::byte> p, bool hex) {
  if (!hex && printable(p)) {
    (void)std::fwrite(p.data(), 1, p.size(), stdout);  // stdio errors are sticky: main checks ferror
    return;
  }
  for (const std::byte b : p) std::printf("%02x", static_cast<unsigned>(b));
}

// A segment's name: its first sequence in 20 digits, then ".journal" (journal_format.hpp).
bool is_segment_name(const std::string& name) {
  if (name.size() != 28 || name.compare(20, 8, ".journal") != 0) return false;
  for (std::size_t i = 0; i < 20; ++i) {
    if (name[i] < '0' || name[i] > '9') return false;
  }
  return true;
}

// Why `dir` is not a journal to read, or "" when it holds a segment.
std::string not_a_journal(const std::string& dir) {
  std::error_code ec;
  const auto st = std::filesystem::status(dir, ec);
  if (ec || !std::filesystem::exists(st)) return dir + ": no such directory";
  if (!std::filesystem::is_directory(st)) return dir + ": not a directory";
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) return "cannot list " + dir + ": " + ec.message();
  for (const auto& e : it) {
    if (is_segment_name(e.path().filename().string())) return {};
  }
  return dir + ": holds no journal segment (NNNNNNNNNNNNNNNNNNNN.journal)";
}

}  // namespace

int main(int argc, char** argv) try {
  std::string dir;
  std::uint64_t from = 1;
  std::uint64_t count = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t write_sample = 0;
  bool hex = false, quiet = false, follow = false;
  hft::cli::Parser cli("journal_cat", "--dir DIR [options]",
                       "Prints the records of the hft::Journal in DIR and verifies each record's CRC32C.\n"
                       "Columns: sequence, UTC time, payload length, payload (text if printable, else hex).");
  cli.text("--dir", dir, "DIR", "the journal directory (required)")
      .integer("--from", from, 1, std::numeric_limits<std::uint64_t>::max(), "start at this sequence (default 1)")
      .integer("--count", count, 0, std::numeric_limits<std::uint64_t>::max(), "print at most N records")
      .flag("--hex", hex, "print every payload in hex")
      .flag("--quiet", quiet, "print only the summary (verify the whole journal)")
      .flag("--follow", follow, "keep tailing for new records until interrupted")
      .integer("--write-sample", write_sample, 0, 1'000'000,
               "first append N sample text records to DIR (to try the tool)");
  cli.parse(argc, argv);
  if (dir.empty()) cli.fail("--dir is required");
  // A mistyped --dir must not read as an empty journal ("no records", exit 0).
  if (write_sample == 0) {
    if (const std::string why = not_a_journal(dir); !why.empty()) cli.fail("--dir " + why);
  }

  try {
    if (write_sample > 0) {
      hft::Journal j(dir, {.segment_size = 1 << 20});
      for (std::uint64_t i = 0; i < write_sample; ++i) {
        const std::string line = "sample record " + std::to_string(j.next_sequence());
        (void)j.append(line.data(), line.size());
      }
    }
    hft::JournalReader reader(dir, {.start_sequence = from});
    std::uint64_t n = 0, bytes = 0, first = 0, last = 0;
    const auto on_record = [&](const hft::JournalRecord& r) {
      if (n == 0) first = r.sequence;
      last = r.sequence;
      ++n;
      bytes += r.payload.size();
      if (quiet) return;
      std::printf("%llu %s %zu ", static_cast<unsigned long long>(r.sequence), utc(r.timestamp_ns).c_str(),
                  r.payload.size());
      print_payload(r.payload, hex);
      std::putchar('\n');
    };
    for (;;) {
      const std::size_t got =
          reader.poll(on_record, static_cast<std::size_t>(std::min<std::uint64_t>(count - n, 4096)));
      if (n >= count) break;
      if (got == 0) {
        if (!follow) break;
        (void)std::fflush(stdout);  // sticky too, checked at the end
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
    // The records, then the summary, also when both go to one file; a failed write (full
    // disk, closed pipe) is an error, not a silently short listing.
    errno = 0;
    if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
      // As OutputFile::finish: an error flagged by an earlier write has no errno left.
      std::fprintf(stderr, "journal_cat: error: writing the records failed: %s\n",
                   errno ? std::generic_category().message(errno).c_str() : "I/O error");
      return 1;
    }
    if (n == 0)
      std::fprintf(stderr, "journal_cat: %s: no records from sequence %llu\n", dir.c_str(),
                   static_cast<unsigned long long>(from));
    else
      std::fprintf(stderr, "journal_cat: %llu records (%llu..%llu), %llu payload bytes, every CRC verified\n",
                   static_cast<unsigned long long>(n), static_cast<unsigned long long>(first),
                   static_cast<unsigned long long>(last), static_cast<unsigned long long>(bytes));
    return 0;
  } catch (const hft::JournalError& e) {
    (void)std::fflush(stdout);  // the error is reported next, whatever the flush did
    std::fprintf(stderr, "journal_cat: error: %s\n", e.what());
    return 1;
  }
} catch (const std::exception& e) {
  return hft::cli::report_fatal("journal_cat", e);
}
