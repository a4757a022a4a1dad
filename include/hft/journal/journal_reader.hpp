// hft/journal/journal_reader.hpp: JournalReader, a reader that replays a Journal from a
// sequence and then tails it live, in the writer's process or any other.
//
// What: maps the journal's segments read-only, one at a time, and walks the records in
//   order: each poll() acquire-loads the next commit word, checks the record (length, CRC32C,
//   sequence) and hands it to the caller in place (no copy). At a segment's end marker it
//   opens the next file. Nothing is written, so readers never slow the writer or each other.
// When to use: replay for recovery, a live consumer in another process (risk, drop copy,
//   persistence to a database), an audit tool (journal_cat). When not: in-process fan-out
//   at the lowest latency (a Disruptor ring shares cache lines, not page-cache pages).
// Thread-safety: one JournalReader per thread; any number of readers on one journal.
// Progress: poll() is wait-free: it returns what is there (0 when it is caught up) and never
//   waits for the writer; a tailer spins or sleeps between polls as it chooses. Opening the
//   next segment is a system call.
// Memory ordering: the acquire load of each commit word pairs with Journal::commit()'s
//   release store, so the record's header and payload are complete when delivered; the same
//   holds for the end-of-segment marker and the next file (created before the marker).
// Complexity: O(payload) per record when verify_crc (default), O(1) otherwise; starting at
//   sequence s scans its segment from the start, O(segment). No allocation while polling
//   inside a segment; moving to the next one allocates its path.
// Compared with: Chronicle Queue's tailer (the model: memory-mapped, live across processes);
//   ours verifies a CRC per record and throws JournalCorrupt, naming the file and offset, on a
//   damaged record instead of skipping it. Aeron Archive replays through a service.
// Errors: a damaged record or segment header throws JournalCorrupt; a missing segment in the
//   middle of the journal, or a start before the oldest segment, throws JournalError.
// Lifecycle: movable, not copyable. A reader tailing across a writer crash should be reopened
//   after the writer has recovered: recovery may rewrite the tail it was positioned on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>

#include "hft/journal/journal_format.hpp"
#include "hft/journal/journal_io.hpp"

namespace hft {

/// Settings of a JournalReader: where to start, whether to check CRCs, the system-call layer.
struct JournalReaderConfig {
  std::uint64_t start_sequence = 1;  ///< the first record delivered (earlier ones are skipped)
  bool verify_crc = true;            ///< check each record's CRC32C before delivering it
  JournalIo* io = nullptr;           ///< the system calls (null: JournalIo::posix()); must outlive the reader
};

/// Reads a Journal's records in sequence order, from another thread or process or after a
/// restart; poll() delivers what has been committed since.
class JournalReader {
 public:
  /// Opens the journal in `dir` at cfg.start_sequence. The directory may not exist yet or be
  /// empty: poll() then returns 0 until the writer creates the first segment.
  explicit JournalReader(std::string dir, const JournalReaderConfig& cfg = {})
      : dir_(std::move(dir)), cfg_(cfg), next_seq_(cfg.start_sequence) {
    open_start();
  }

  /// This reader's thread. Delivers up to `max` records, in order, to `handler(const
  /// JournalRecord&)`, and returns how many. 0 means caught up with the writer.
  template <class Handler>
  std::size_t poll(Handler&& handler, std::size_t max = std::numeric_limits<std::size_t>::max()) {
    std::size_t n = 0;
    while (n < max) {
      if (!seg_.is_open() && !open_start()) break;
      if (pos_ + 4 > seg_.size()) {
        if (!open_next()) break;
        continue;
      }
      const std::uint32_t c = seg_.commit_word(pos_).load(std::memory_order_acquire);  // pairs with commit()
      const auto check = detail::check_record(seg_, pos_, c, next_seq_, cfg_.verify_crc);
      if (check == detail::RecordCheck::empty) break;
      if (check == detail::RecordCheck::end_of_segment) {
        if (!open_next()) break;
        continue;
      }
      if (check != detail::RecordCheck::ok)
        throw JournalCorrupt(seg_.path(), pos_,
                             std::string(detail::describe(check)) + " (expected sequence " +
                                 std::to_string(next_seq_) + ")");
      const std::uint32_t len = c & ~detail::kCommitted;
      const detail::RecordHeader* h = seg_.record(pos_);
      if (h->sequence >= cfg_.start_sequence) {
        handler(JournalRecord{h->sequence, h->timestamp_ns,
                              {seg_.base() + pos_ + detail::kRecordHeaderSize, static_cast<std::size_t>(len)}});
        ++n;
      }
      pos_ += detail::record_size(len);
      ++next_seq_;
    }
    return n;
  }

  /// The sequence of the next record this reader will deliver (or skip, before the start).
  [[nodiscard]] std::uint64_t next_sequence() const noexcept { return next_seq_; }
  /// The segment file being read ("" before the first one exists).
  [[nodiscard]] const std::string& segment_path() const noexcept { return seg_.path(); }
  /// The byte offset of the next record in that file.
  [[nodiscard]] std::size_t offset() const noexcept { return pos_; }

 private:
  // Maps the segment that holds next_seq_, the newest whose first sequence is <= it.
  bool open_start() {
    const auto segs = detail::list_segments(dir_);
    if (segs.empty()) return false;
    if (next_seq_ < segs.front().first)
      throw JournalError("hft::JournalReader: start sequence " + std::to_string(next_seq_) +
                         " is before the oldest segment, which starts at " + std::to_string(segs.front().first));
    auto it = segs.end();
    while (it != segs.begin() && std::prev(it)->first > next_seq_) --it;
    const auto& [first, path] = *std::prev(it);
    seg_ = detail::MappedSegment::open(detail::io_or_posix(cfg_.io), path, first, false);
    pos_ = detail::kSegmentHeaderSize;
    next_seq_ = first;
    return true;
  }

  // After an end marker (or a full segment): the next file starts at next_seq_. The writer
  // creates it before writing the marker, so it is missing only if someone removed it. A
  // writer never seals a segment before its first record, so a marker there is damage (and
  // would name this same file again: a reader that followed it would never return).
  bool open_next() {
    if (next_seq_ == seg_.first_sequence())
      throw JournalCorrupt(seg_.path(), pos_, "end of segment before its first record");
    const std::string path = dir_ + "/" + detail::segment_name(next_seq_);
    if (detail::io_or_posix(cfg_.io).access(path.c_str(), F_OK) != 0) {
      // A full segment without a marker: the writer is between create and rename.
      if (pos_ + 4 > seg_.size() && errno == ENOENT) return false;
      throw JournalError("hft::JournalReader: segment " + path + " is missing after the end of " + seg_.path());
    }
    seg_ = detail::MappedSegment::open(detail::io_or_posix(cfg_.io), path, next_seq_, false);
    pos_ = detail::kSegmentHeaderSize;
    return true;
  }

  std::string dir_;
  JournalReaderConfig cfg_;
  detail::MappedSegment seg_;
  std::size_t pos_ = 0;
  std::uint64_t next_seq_;
};

}  // namespace hft
