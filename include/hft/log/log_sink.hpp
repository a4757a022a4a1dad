// hft/log/log_sink.hpp: LogLevel, LogRecordView, the LogSink interface the logger's backend
// writes lines to, and ConsoleSink (buffered stdout/stderr).
//
// What: the types shared by the logger and its sinks. The backend thread decodes a record, lays
//   it out with the logger's LogPattern and hands the sink a LogRecordView: the record's fields
//   (time, level, logger, thread, tid, file, line, message) plus `text`, the whole laid-out line
//   ending in '\n'. A sink writes what it wants of it (ConsoleSink and FileSink write `text`
//   verbatim) and may buffer until flush(). ConsoleSink keeps one buffer of `buffer_bytes` and
//   write(2)s it to fd 1 or 2 when the next line would not fit and on flush(); a line larger
//   than the buffer is written directly (after the buffer), never split across two calls of ours.
// When to use: LogSink to send lines somewhere else (a socket, a ring in shared memory, a test
//   vector); ConsoleSink for a service whose stdout/stderr is collected (systemd, a container).
// When not: files: FileSink (file_sink.hpp) rotates and counts write errors. A sink is not
//   async-signal-safe: writing from a signal handler is the logger's business, not the sink's.
//
// A user sink (the backend calls write() for each line and flush() when it flushes, see
// log_backend.hpp):
//
//   class VectorSink final : public hft::LogSink {
//    public:
//     void write(const hft::LogRecordView& r) override {
//       if (r.level >= hft::LogLevel::Warn) lines_.emplace_back(r.message);   // views die after the call: copy
//     }
//     void flush() override {}
//     std::vector<std::string> lines_;
//   };
//
// Thread-safety: a sink is called by the logger's backend thread only, never concurrently, so a
//   sink needs no locking for write/flush. ConsoleSink::stats() may be called from that thread or
//   after it stopped (the counters are plain integers). log_level_name: any thread.
// Progress: ConsoleSink::write appends to its buffer (no system call) unless the buffer is full;
//   flush blocks in write(2) as long as the terminal or pipe does (a full pipe stalls the backend,
//   never the logging threads, which see their rings fill instead).
// Memory ordering: none (not shared: one thread calls a sink).
// Complexity: write O(line) memcpy; flush one write(2) per buffer (more on a short write). The
//   buffer is allocated once, at construction; nothing after.
// Errors: write/flush never throw (the backend must survive). A failed write(2) (EPIPE with
//   SIGPIPE ignored, EIO, ENOSPC on a redirected stdout, EBADF on a closed fd) is counted in
//   ConsoleSinkStats::write_errors, the lines it carried in lines_lost, and the buffer is dropped:
//   the next flush writes new lines only (memory never grows). EINTR is retried, a short write
//   continues where it stopped. ConsoleSink reports nothing (where would it?). SIGPIPE keeps its
//   process-wide disposition: with the default, a closed stdout pipe ends the process as it would
//   for printf.
// Compared with: spdlog's stdout_sink_mt/st and Quill's ConsoleSink write through a FILE*
//   (fwrite + fflush, stdio's lock and buffer); spdlog's _mt sinks take a mutex per line. Ours
//   calls write(2) on its own buffer, takes no lock (the single backend thread is the contract),
//   and counts the errors that fwrite would leave in ferror(). No colours (Quill's and spdlog's
//   color sinks add ANSI codes per level): put them in the LogPattern or a sink of your own.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace hft {

/// Severity of a log line, in increasing order; Off as a logger's level disables every line.
enum class LogLevel : std::uint8_t { Trace, Debug, Info, Warn, Error, Critical, Off };

/// The upper-case name of `level` ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "CRITICAL", "OFF"), "?" for a
/// value outside the enumeration. Any thread; constexpr.
[[nodiscard]] constexpr std::string_view log_level_name(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::Trace: return "TRACE";
    case LogLevel::Debug: return "DEBUG";
    case LogLevel::Info: return "INFO";
    case LogLevel::Warn: return "WARN";
    case LogLevel::Error: return "ERROR";
    case LogLevel::Critical: return "CRITICAL";
    case LogLevel::Off: return "OFF";
  }
  return "?";
}

/// One line as the backend hands it to a sink. The views are valid during the sink's call only.
struct LogRecordView {
  std::int64_t time_ns = 0;         ///< UTC, nanoseconds since the Unix epoch (negative before 1970).
  LogLevel level = LogLevel::Info;  ///< Severity.
  std::string_view logger;          ///< The logger's name.
  std::string_view thread;          ///< The thread's name (its pthread name at its first log call).
  std::uint32_t tid = 0;            ///< The thread's kernel id (gettid()).
  std::string_view file;            ///< `__FILE__` of the call site, as the compiler spelled it.
  std::uint32_t line = 0;           ///< `__LINE__` of the call site.
  std::string_view message;         ///< The formatted message, without a trailing newline.
  std::string_view text;            ///< The whole line as the logger's LogPattern laid it out, ending in '\n'.
};

/// Where the logger's backend writes lines. Called by the backend thread only, never concurrently.
class LogSink {
 public:
  /// Sinks are owned by the logger and destroyed after its backend stopped.
  virtual ~LogSink() = default;
  /// Takes one line; may buffer it. Backend thread only. Must not throw: report failures through counters.
  virtual void write(const LogRecordView& r) = 0;
  /// Hands everything written so far to the OS (write(2)); FileSink also fdatasyncs if configured. Backend thread
  /// only; must not throw.
  virtual void flush() = 0;
};

namespace detail {

/// The result of write_all: bytes written, and 0 or the errno that stopped it.
struct WriteResult {
  std::size_t written = 0;  ///< Bytes the kernel took (all of them when error == 0).
  int error = 0;            ///< 0, or the errno of the write(2) that failed (EIO for a write that returned 0).
};

/// Writes all `size` bytes at `data` to `fd`: retries EINTR, continues after a short write. Never throws.
[[nodiscard]] inline WriteResult write_all(int fd, const char* data, std::size_t size) noexcept {
  WriteResult res;
  while (res.written < size) {
    const ssize_t n = ::write(fd, data + res.written, size - res.written);
    if (n > 0) {
      res.written += static_cast<std::size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      res.error = n < 0 ? errno : EIO;  // write() returning 0 for a non-empty buffer: no progress possible
      break;
    }
  }
  return res;
}

}  // namespace detail

/// ConsoleSink's counters, returned by value.
struct ConsoleSinkStats {
  std::uint64_t bytes_written = 0;  ///< Bytes write(2) took.
  std::uint64_t lines = 0;          ///< Lines that reached write(2) successfully (whole).
  std::uint64_t write_errors = 0;   ///< write(2) calls that failed (EINTR excepted: it is retried).
  std::uint64_t lines_lost = 0;     ///< Lines of a buffer whose write(2) failed (a prefix of it may have been written).
};

/// A buffered sink that writes each line's `text` to stdout (fd 1) or stderr (fd 2) with write(2).
class ConsoleSink final : public LogSink {
 public:
  /// Which file descriptor the sink writes to.
  enum class Stream : std::uint8_t {
    Stdout,  ///< fd 1
    Stderr,  ///< fd 2
  };

  /// A sink writing to `stream` through a buffer of `buffer_bytes` (0: every line is written on its own). Allocates
  /// the buffer; any thread (before the logger owns it).
  explicit ConsoleSink(Stream stream, std::size_t buffer_bytes = std::size_t{16} * 1024)
      : fd_(stream == Stream::Stdout ? 1 : 2), capacity_(buffer_bytes) {
    buf_.reserve(capacity_);
  }
  /// Flushes what is buffered. The fd itself is not closed.
  ~ConsoleSink() override { flush(); }
  ConsoleSink(const ConsoleSink&) = delete;
  ConsoleSink& operator=(const ConsoleSink&) = delete;
  ConsoleSink(ConsoleSink&&) = delete;
  ConsoleSink& operator=(ConsoleSink&&) = delete;

  /// Appends r.text to the buffer, first writing the buffer out if the line would not fit; a line larger than the
  /// buffer is written directly after it. Backend thread only; never throws.
  void write(const LogRecordView& r) override {
    const std::string_view t = r.text;
    if (buf_.size() + t.size() > capacity_) flush();
    if (t.size() > capacity_) {
      emit(t.data(), t.size(), 1);
      return;
    }
    buf_.append(t);
    ++buffered_lines_;
  }

  /// write(2)s the buffer. Backend thread only; never throws.
  void flush() override {
    if (buffered_lines_ == 0 && buf_.empty()) return;
    emit(buf_.data(), buf_.size(), buffered_lines_);
    buf_.clear();
    buffered_lines_ = 0;
  }

  /// The counters. Backend thread, or after it stopped.
  [[nodiscard]] ConsoleSinkStats stats() const noexcept { return stats_; }
  /// The file descriptor written to: 1 or 2.
  [[nodiscard]] int fd() const noexcept { return fd_; }
  /// The buffer size given at construction.
  [[nodiscard]] std::size_t buffer_bytes() const noexcept { return capacity_; }

 private:
  void emit(const char* data, std::size_t size, std::uint64_t lines) noexcept {
    const detail::WriteResult res = detail::write_all(fd_, data, size);
    stats_.bytes_written += res.written;
    if (res.error == 0) {
      stats_.lines += lines;
    } else {
      ++stats_.write_errors;
      stats_.lines_lost += lines;
    }
  }

  int fd_;
  std::size_t capacity_;
  std::string buf_;
  std::uint64_t buffered_lines_ = 0;
  ConsoleSinkStats stats_{};
};

}  // namespace hft
