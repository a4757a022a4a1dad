// hft/log/file_sink.hpp: FileSink, a buffered log file with size and time rotation that counts
// its write errors instead of throwing.
//
// What: a LogSink that appends each line's `text` to one file (O_WRONLY|O_CREAT|O_APPEND|O_CLOEXEC,
//   cfg.mode less the umask) through a buffer of cfg.buffer_bytes, handed to write(2) when the next
//   line would not fit and on flush(). A line larger than the buffer is written directly, after the
//   buffer. fsync_on_flush: fdatasync after each flush() that wrote something (a file that cannot
//   be synced, such as a pipe or a device, is not an error). Rotation happens only between lines,
//   so a line is never split across two files, and only when the current file is not empty:
//   - size (max_bytes > 0, rotate_every == 0): when the next line would make the file (existing
//     bytes + buffered) exceed max_bytes, the sink flushes, closes, renames path.(N-1) -> path.N,
//     ..., path.1 -> path.2, path -> path.1 (path.1 is the newest; the rename onto path.N, N =
//     max_files, deletes the oldest) and opens a new path. A single line larger than max_bytes
//     goes alone into a file of its own, which then exceeds max_bytes. A file that already
//     exceeds max_bytes at open is rotated before the first line.
//   - time (rotate_every > 0): periods are the multiples of rotate_every since the epoch, UTC
//     (rotate_every = 24h: days starting at 00:00Z). The file covers the period of its first
//     line (or, for a non-empty file found at open, the period of its mtime). When a line's
//     r.time_ns (the record's time, not the clock) falls in a later period, the file is renamed
//     path.YYYYMMDDTHHMMSS, the UTC start of the period it covered, and a new one opened. A line
//     in an earlier period (time going back) goes to the current file. At most max_files rotated
//     files are kept: the directory is listed (opendir/readdir) and the oldest deleted.
//   - both: the size limit also applies inside a period; every rotated file is named after its
//     period's start, and when that name is taken the next is path.YYYYMMDDTHHMMSS.K, K = 1, 2,
//     ... So one period holds STAMP, STAMP.1, STAMP.2, ... in the order written, and sorting by
//     (stamp, K) is chronological; max_files counts them all. The same rule avoids clobbering a
//     file left by an earlier run in the same period.
// When to use: the logger's file output, one FileSink per file.
// When not: several processes appending to one file (each would rotate on its own: use one
//   process per file); compressing or shipping rotated files (do it outside, on path.* names).
//
// Thread-safety: called by the logger's backend thread only (LogSink's contract). stats(),
//   config(), path() and file_bytes() from that thread, or after it stopped (plain counters).
// Progress: write() appends to the buffer; it blocks in write(2) when the buffer is full, and in
//   close/rename/unlink/open (and opendir/readdir with rotate_every) when it rotates. flush()
//   blocks in write(2) and fdatasync.
// Memory ordering: none (not shared).
// Complexity: write O(line). Nothing is allocated per line: the buffer is allocated at
//   construction. A rotation allocates the rotated names, and with rotate_every the directory
//   listing (O(entries in the directory)).
// Errors: construction throws std::invalid_argument ("hft::FileSink: ...") for a config that
//   cannot do what it says (max_files == 0 with rotation on, rotate_every < 0) and
//   std::system_error naming the path when the file cannot be opened. After that nothing throws:
//   a failed write(2), rename, open or fdatasync (ENOSPC, EIO, a directory removed under the
//   sink...) is counted in write_errors, the first one is reported once on stderr with the errno
//   text, and the lines of a failed write are counted in lines_lost and dropped (a prefix of them
//   may have reached the file). The sink goes on: the next flush writes the new lines, and if the
//   file could not be reopened after a rotation, each flush tries to open it again (lines are
//   lost until that works). Memory never grows past the buffer.
// Readers: rotation is a rename and an open, not atomic for readers. Everything written before
//   a rotation is in the renamed file (the buffer is flushed first). Between the rename and the
//   open the path does not exist; `tail -F` (follow by name) reports that the file was replaced
//   and follows the new one from its start; `tail -f` (follow the descriptor) stays on the
//   renamed file, which no longer grows. During a size rotation the numbered files are renamed one
//   at a time, so a listing can see a gap or one file under two steps of the chain.
//
// Compared with: spdlog's basic_file_sink (no rotation), rotating_file_sink (size: the same
//   path.1..path.N chain, with the extension kept: log.1.txt) and daily_file_sink (a new
//   dated file each day at a set local hour, the name carrying the date from the start; the
//   current file has no fixed name), all through a FILE* (fwrite, optional fflush) and a mutex in
//   the _mt variants; a write error throws spdlog_ex from the sink, which spdlog's error handler
//   catches. Quill's FileSink (optional date/time in the name, fsync option, FILE* with its own
//   buffer size) and RotatingFileSink (size and/or time interval or daily at a time, local or UTC,
//   backups counted, naming by index or by date and index, optional rotation on open). Ours:
//   a fixed current name (so `tail -F path` works) and rotated names that sort in time order,
//   time rotation driven by the records' timestamps (replays and tests rotate like live runs),
//   write(2) on our own buffer with no lock, and errors counted and reported once, never thrown
//   from write/flush; UTC only.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "hft/log/log_pattern.hpp"
#include "hft/log/log_sink.hpp"

namespace hft {

/// FileSink's settings.
struct FileSinkConfig {
  std::size_t buffer_bytes = std::size_t{64} * 1024;  ///< Buffer size; 0: every line is written on its own.
  std::uint64_t max_bytes = 0;                        ///< Size rotation threshold in bytes; 0: no size rotation.
  std::uint32_t max_files = 5;                        ///< Rotated files kept; >= 1 if rotating (see the header).
  std::chrono::seconds rotate_every{0};               ///< Time rotation period (UTC, since the epoch); 0: none.
  bool fsync_on_flush = false;                        ///< fdatasync after each flush() that wrote something.
  mode_t mode = 0644;                                 ///< Permissions of a file the sink creates (less the umask).
};

/// FileSink's counters, returned by value.
struct FileSinkStats {
  std::uint64_t bytes_written = 0;  ///< Bytes write(2) took, over all files.
  std::uint64_t lines = 0;          ///< Lines whose write(2) succeeded.
  std::uint64_t rotations = 0;      ///< Rotations done (the current file renamed away).
  std::uint64_t write_errors = 0;   ///< Failed write(2), open, rename, unlink and fdatasync calls.
  std::uint64_t lines_lost = 0;     ///< Lines dropped because their write failed or no file was open.
};

/// A buffered log file with size and/or time rotation; counts write errors, never throws after construction.
class FileSink final : public LogSink {
 public:
  /// Opens (creates) `path` for appending. Throws std::invalid_argument for max_files == 0 with rotation on or a
  /// negative rotate_every, and std::system_error ("hft::FileSink: cannot open '<path>': <errno text>") when
  /// the file cannot be opened. Allocates the buffer. Any thread (before the logger owns the sink).
  explicit FileSink(std::string path, const FileSinkConfig& cfg = {}) : path_(std::move(path)), cfg_(cfg) {
    if (cfg_.rotate_every.count() < 0) {
      throw std::invalid_argument("hft::FileSink: rotate_every must be >= 0 s, got " +
                                  std::to_string(cfg_.rotate_every.count()) + " s");
    }
    if (cfg_.max_files == 0 && (cfg_.max_bytes > 0 || cfg_.rotate_every.count() > 0)) {
      throw std::invalid_argument("hft::FileSink: max_files must be >= 1 when rotating (max_bytes or "
                                  "rotate_every set), got 0");
    }
    const std::size_t slash = path_.rfind('/');
    dir_ = slash == std::string::npos ? std::string(".") : (slash == 0 ? std::string("/") : path_.substr(0, slash));
    base_ = slash == std::string::npos ? path_ : path_.substr(slash + 1);
    buf_.reserve(cfg_.buffer_bytes);
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, cfg_.mode);
    if (fd_ < 0) {
      throw std::system_error(errno, std::generic_category(), "hft::FileSink: cannot open '" + path_ + "'");
    }
    struct stat st {};
    if (::fstat(fd_, &st) == 0) {
      file_bytes_ = static_cast<std::uint64_t>(st.st_size);
      if (timed() && file_bytes_ > 0) {
        period_ = detail::floor_div(static_cast<std::int64_t>(st.st_mtim.tv_sec), cfg_.rotate_every.count());
        have_period_ = true;
      }
    }
  }

  /// Flushes (with fdatasync if configured) and closes the file.
  ~FileSink() override {
    flush();
    if (fd_ >= 0) ::close(fd_);
  }
  FileSink(const FileSink&) = delete;
  FileSink& operator=(const FileSink&) = delete;
  FileSink(FileSink&&) = delete;
  FileSink& operator=(FileSink&&) = delete;

  /// Appends r.text, rotating first if r.time_ns starts a new period or the line would push the file past
  /// max_bytes. Backend thread only; never throws.
  void write(const LogRecordView& r) override {
    const std::string_view t = r.text;
    if (timed()) {
      const std::int64_t p = detail::floor_div(detail::floor_div(r.time_ns, 1'000'000'000), cfg_.rotate_every.count());
      if (!have_period_) {
        period_ = p;
        have_period_ = true;
      } else if (p > period_) {
        if (file_bytes() > 0) rotate();
        period_ = p;
      }
    }
    if (cfg_.max_bytes > 0 && file_bytes() > 0 && file_bytes() + t.size() > cfg_.max_bytes) rotate();
    if (buf_.size() + t.size() > cfg_.buffer_bytes) flush_buffer();
    if (t.size() > cfg_.buffer_bytes) {
      emit(t.data(), t.size(), 1);
      return;
    }
    buf_.append(t);
    ++buffered_lines_;
  }

  /// write(2)s the buffer, then fdatasyncs if cfg.fsync_on_flush and something was written since the last sync.
  /// Reopens the file first if a rotation could not. Backend thread only; never throws.
  void flush() override {
    flush_buffer();
    if (cfg_.fsync_on_flush && unsynced_ && fd_ >= 0) {
      unsynced_ = false;
      if (::fdatasync(fd_) != 0 && errno != EINVAL && errno != EROFS) report(errno, "fdatasync", path_);
    }
  }

  /// The counters. Backend thread, or after it stopped.
  [[nodiscard]] FileSinkStats stats() const noexcept { return stats_; }
  /// The settings given at construction.
  [[nodiscard]] const FileSinkConfig& config() const noexcept { return cfg_; }
  /// The file's path as given.
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  /// Size of the current file as the sink counts it: its size at open plus what was written and is buffered.
  /// Backend thread, or after it stopped.
  [[nodiscard]] std::uint64_t file_bytes() const noexcept { return file_bytes_ + buf_.size(); }

 private:
  [[nodiscard]] bool timed() const noexcept { return cfg_.rotate_every.count() > 0; }

  void report(int err, const char* op, const std::string& what) noexcept {
    ++stats_.write_errors;
    if (reported_) return;
    reported_ = true;
    try {
      const std::string msg = "hft::FileSink: " + std::string(op) + " '" + what + "' failed: " +
                              std::generic_category().message(err) +
                              " (further errors are counted in FileSinkStats::write_errors, not reported)\n";
      (void)detail::write_all(2, msg.data(), msg.size());
    } catch (...) {  // NOLINT(bugprone-empty-catch): no memory for the message; the error is still counted
    }
  }

  bool open_file() noexcept {
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, cfg_.mode);
    if (fd_ < 0) {
      report(errno, "open", path_);
      return false;
    }
    struct stat st {};
    file_bytes_ = ::fstat(fd_, &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
    return true;
  }

  void emit(const char* data, std::size_t size, std::uint64_t lines) noexcept {
    if (fd_ < 0 && !open_file()) {
      stats_.lines_lost += lines;
      return;
    }
    const detail::WriteResult res = detail::write_all(fd_, data, size);
    stats_.bytes_written += res.written;
    file_bytes_ += res.written;
    if (res.written > 0) unsynced_ = true;
    if (res.error == 0) {
      stats_.lines += lines;
    } else {
      report(res.error, "write to", path_);
      stats_.lines_lost += lines;
    }
  }

  void flush_buffer() noexcept {
    if (buffered_lines_ == 0 && buf_.empty()) return;
    emit(buf_.data(), buf_.size(), buffered_lines_);
    buf_.clear();
    buffered_lines_ = 0;
  }

  bool rename_to(const std::string& from, const std::string& to, bool missing_ok) noexcept {
    if (std::rename(from.c_str(), to.c_str()) == 0) return true;
    if (!(missing_ok && errno == ENOENT)) report(errno, "rename", from);
    return false;
  }

  void rotate() noexcept {
    flush_buffer();
    if (fd_ >= 0) {
      if (cfg_.fsync_on_flush && unsynced_ && ::fdatasync(fd_) != 0 && errno != EINVAL && errno != EROFS) {
        report(errno, "fdatasync", path_);
      }
      unsynced_ = false;
      ::close(fd_);
      fd_ = -1;
    }
    file_bytes_ = 0;
    try {
      if (timed() ? rotate_stamped() : rotate_numbered()) ++stats_.rotations;
    } catch (...) {  // std::bad_alloc building names: the file stays where it is
      ++stats_.write_errors;
    }
    (void)open_file();  // on failure, emit() retries at each flush
  }

  bool rotate_numbered() {
    for (std::uint32_t i = cfg_.max_files - 1; i >= 1; --i) {
      (void)rename_to(numbered(i), numbered(i + 1), true);
    }
    return rename_to(path_, numbered(1), false);
  }
  [[nodiscard]] std::string numbered(std::uint32_t i) const { return path_ + "." + std::to_string(i); }

  // A rotated file of time mode: base.STAMP or base.STAMP.K. `k` is 0 for the first.
  struct Stamped {
    std::string stamp;
    std::uint64_t k = 0;
    std::string name;
  };

  // Parses `name` as base_ + ".YYYYMMDDTHHMMSS" [+ ".K"].
  [[nodiscard]] bool parse_stamped(std::string_view name, Stamped& out) const {
    if (name.size() < base_.size() + 16 || name.substr(0, base_.size()) != base_ || name[base_.size()] != '.') {
      return false;
    }
    const std::string_view stamp = name.substr(base_.size() + 1, 15);
    for (std::size_t i = 0; i < 15; ++i) {
      const bool ok = i == 8 ? stamp[i] == 'T' : (stamp[i] >= '0' && stamp[i] <= '9');
      if (!ok) return false;
    }
    std::string_view rest = name.substr(base_.size() + 16);
    std::uint64_t k = 0;
    if (!rest.empty()) {
      if (rest[0] != '.' || rest.size() < 2 || rest.size() > 10) return false;
      for (const char c : rest.substr(1)) {
        if (c < '0' || c > '9') return false;
        k = k * 10 + static_cast<std::uint64_t>(c - '0');
      }
      if (k == 0) return false;
    }
    out.stamp.assign(stamp);
    out.k = k;
    out.name.assign(name);
    return true;
  }

  [[nodiscard]] std::vector<Stamped> list_stamped() const {
    std::vector<Stamped> found;
    DIR* d = ::opendir(dir_.c_str());
    if (d == nullptr) return found;  // the rename that follows reports the problem
    // readdir is MT-unsafe only for one DIR* shared between threads; this one is ours alone.
    while (const dirent* e = ::readdir(d)) {  // NOLINT(concurrency-mt-unsafe)
      Stamped s;
      if (parse_stamped(e->d_name, s)) found.push_back(std::move(s));
    }
    ::closedir(d);
    std::sort(found.begin(), found.end(),
              [](const Stamped& a, const Stamped& b) { return a.stamp != b.stamp ? a.stamp < b.stamp : a.k < b.k; });
    return found;
  }

  bool rotate_stamped() {
    const detail::UtcTime t = detail::utc_from_seconds(period_ * cfg_.rotate_every.count());
    std::string stamp(15, '0');
    detail::put_digits(stamp.data(), static_cast<std::uint64_t>(t.year), 4);
    detail::put_digits(stamp.data() + 4, t.month, 2);
    detail::put_digits(stamp.data() + 6, t.day, 2);
    stamp[8] = 'T';
    detail::put_digits(stamp.data() + 9, t.hour, 2);
    detail::put_digits(stamp.data() + 11, t.minute, 2);
    detail::put_digits(stamp.data() + 13, t.second, 2);

    std::vector<Stamped> files = list_stamped();
    bool taken = false;
    std::uint64_t next_k = 0;
    for (const Stamped& s : files) {
      if (s.stamp != stamp) continue;
      taken = true;
      next_k = std::max(next_k, s.k + 1);
    }
    Stamped mine{stamp, taken ? next_k : 0, base_ + "." + stamp};
    if (taken) mine.name += "." + std::to_string(next_k);
    if (!rename_to(path_, dir_ + "/" + mine.name, false)) return false;
    files.push_back(std::move(mine));
    std::sort(files.begin(), files.end(),
              [](const Stamped& a, const Stamped& b) { return a.stamp != b.stamp ? a.stamp < b.stamp : a.k < b.k; });
    for (std::size_t i = 0; i + cfg_.max_files < files.size(); ++i) {
      const std::string victim = dir_ + "/" + files[i].name;
      if (::unlink(victim.c_str()) != 0 && errno != ENOENT) report(errno, "unlink", victim);
    }
    return true;
  }

  std::string path_;
  FileSinkConfig cfg_;
  std::string dir_;
  std::string base_;
  int fd_ = -1;
  std::string buf_;
  std::uint64_t buffered_lines_ = 0;
  std::uint64_t file_bytes_ = 0;  // in the current file, not counting buf_
  std::int64_t period_ = 0;       // time rotation: the period the current file covers
  bool have_period_ = false;
  bool unsynced_ = false;
  bool reported_ = false;
  FileSinkStats stats_{};
};

}  // namespace hft
