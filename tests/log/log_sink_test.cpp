// LogLevel names, LogSink as a user implements it, and ConsoleSink: buffering, the direct
// write of a long line, stdout vs stderr, write errors (counted, the sink survives), and
// write_all's handling of EINTR and short writes (a pipe interrupted by a timer signal).
#include "hft/log/log_sink.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "../support/catch.hpp"

using hft::ConsoleSink;
using hft::LogLevel;
using hft::LogRecordView;

namespace {

// Redirects fd `target` (1 or 2) to a temporary file while alive; contents() reads the file back.
class Capture {
 public:
  explicit Capture(int target)
      : target_(target), path_("/tmp/hft_log_sink_" + std::to_string(::getpid()) + "_" + std::to_string(target)) {
    file_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    REQUIRE(file_ >= 0);
    (void)std::fflush(nullptr);  // Catch2's buffered output must not land in the file
    saved_ = ::dup(target_);
    REQUIRE(saved_ >= 0);
    REQUIRE(::dup2(file_, target_) == target_);
  }
  ~Capture() {
    restore();
    ::close(file_);
    ::unlink(path_.c_str());
  }
  Capture(const Capture&) = delete;
  Capture& operator=(const Capture&) = delete;

  void restore() {
    if (saved_ < 0) return;
    ::dup2(saved_, target_);
    ::close(saved_);
    saved_ = -1;
  }
  // Points the target fd somewhere else (an fd that fails writes), keeping the restore.
  void redirect(int fd) const { REQUIRE(::dup2(fd, target_) == target_); }
  void redirect_back() const { REQUIRE(::dup2(file_, target_) == target_); }

  [[nodiscard]] std::string contents() const {
    std::string s;
    std::vector<char> buf(1 << 16);
    ssize_t n = 0;
    off_t at = 0;
    while ((n = ::pread(file_, buf.data(), buf.size(), at)) > 0) {
      s.append(buf.data(), static_cast<std::size_t>(n));
      at += n;
    }
    return s;
  }

 private:
  int target_;
  std::string path_;
  int file_ = -1;
  int saved_ = -1;
};

LogRecordView line(std::string_view text) {
  LogRecordView r;
  r.text = text;
  return r;
}

}  // namespace

TEST_CASE("log_level_name spells every level, in increasing severity") {
  static_assert(hft::log_level_name(LogLevel::Info) == "INFO");  // constexpr
  CHECK(hft::log_level_name(LogLevel::Trace) == "TRACE");
  CHECK(hft::log_level_name(LogLevel::Debug) == "DEBUG");
  CHECK(hft::log_level_name(LogLevel::Info) == "INFO");
  CHECK(hft::log_level_name(LogLevel::Warn) == "WARN");
  CHECK(hft::log_level_name(LogLevel::Error) == "ERROR");
  CHECK(hft::log_level_name(LogLevel::Critical) == "CRITICAL");
  CHECK(hft::log_level_name(LogLevel::Off) == "OFF");
  CHECK(hft::log_level_name(static_cast<LogLevel>(42)) == "?");
  CHECK(LogLevel::Trace < LogLevel::Debug);
  CHECK(LogLevel::Debug < LogLevel::Info);
  CHECK(LogLevel::Info < LogLevel::Warn);
  CHECK(LogLevel::Warn < LogLevel::Error);
  CHECK(LogLevel::Error < LogLevel::Critical);
  CHECK(LogLevel::Critical < LogLevel::Off);
  static_assert(sizeof(LogLevel) == 1);
}

TEST_CASE("LogRecordView defaults") {
  const LogRecordView r;
  CHECK(r.time_ns == 0);
  CHECK(r.level == LogLevel::Info);
  CHECK(r.tid == 0);
  CHECK(r.line == 0);
  CHECK(r.logger.empty());
  CHECK(r.thread.empty());
  CHECK(r.file.empty());
  CHECK(r.message.empty());
  CHECK(r.text.empty());
}

namespace {
// The example of the header comment, as a user writes it.
class VectorSink final : public hft::LogSink {
 public:
  void write(const hft::LogRecordView& r) override {
    if (r.level >= hft::LogLevel::Warn) lines_.emplace_back(r.message);
  }
  void flush() override { ++flushes_; }
  std::vector<std::string> lines_;
  int flushes_ = 0;
};
}  // namespace

TEST_CASE("a user sink through the LogSink interface") {
  VectorSink v;
  hft::LogSink& sink = v;
  LogRecordView r;
  r.level = LogLevel::Info;
  r.message = "quiet";
  sink.write(r);
  r.level = LogLevel::Error;
  r.message = "loud";
  sink.write(r);
  sink.flush();
  CHECK(v.lines_ == std::vector<std::string>{"loud"});
  CHECK(v.flushes_ == 1);
}

TEST_CASE("ConsoleSink buffers until flush and writes r.text verbatim to stdout") {
  Capture cap(1);
  ConsoleSink sink(ConsoleSink::Stream::Stdout);
  CHECK(sink.fd() == 1);
  CHECK(sink.buffer_bytes() == std::size_t{16} * 1024);
  LogRecordView r = line("first line\n");
  r.message = "not this";
  sink.write(r);
  sink.write(line("second\n"));
  const std::string before = cap.contents();
  sink.flush();
  const std::string after = cap.contents();
  cap.restore();
  CHECK(before.empty());
  CHECK(after == "first line\nsecond\n");
  CHECK(sink.stats().lines == 2);
  CHECK(sink.stats().bytes_written == after.size());
  CHECK(sink.stats().write_errors == 0);
  CHECK(sink.stats().lines_lost == 0);
}

TEST_CASE("ConsoleSink to stderr writes fd 2") {
  Capture cap(2);
  {
    ConsoleSink sink(ConsoleSink::Stream::Stderr);
    CHECK(sink.fd() == 2);
    sink.write(line("to stderr\n"));
  }  // the destructor flushes
  const std::string got = cap.contents();
  cap.restore();
  CHECK(got == "to stderr\n");
}

TEST_CASE("ConsoleSink writes the buffer out when the next line would not fit") {
  Capture cap(1);
  ConsoleSink sink(ConsoleSink::Stream::Stdout, 16);
  sink.write(line("0123456789\n"));  // 11 bytes: buffered
  const std::string one = cap.contents();
  sink.write(line("abcde\n"));  // 17 > 16: the first line goes out, this one is buffered
  const std::string two = cap.contents();
  sink.write(line("abcdefghijklmnopqrstuvwxyz\n"));  // larger than the buffer: buffer, then this, directly
  const std::string three = cap.contents();
  sink.write(line("tail\n"));
  const std::string four = cap.contents();
  sink.flush();
  const std::string five = cap.contents();
  cap.restore();
  CHECK(one.empty());
  CHECK(two == "0123456789\n");
  CHECK(three == "0123456789\nabcde\nabcdefghijklmnopqrstuvwxyz\n");
  CHECK(four == three);
  CHECK(five == three + "tail\n");
  CHECK(sink.stats().lines == 4);
}

TEST_CASE("ConsoleSink with a zero buffer writes each line at once") {
  Capture cap(1);
  ConsoleSink sink(ConsoleSink::Stream::Stdout, 0);
  sink.write(line("a\n"));
  const std::string one = cap.contents();
  sink.write(line("b\n"));
  const std::string two = cap.contents();
  cap.restore();
  CHECK(one == "a\n");
  CHECK(two == "a\nb\n");
  CHECK(sink.stats().lines == 2);
}

TEST_CASE("ConsoleSink counts write errors and lost lines, drops them, and goes on") {
  Capture cap(1);
  const int full = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
  REQUIRE(full >= 0);
  ConsoleSink sink(ConsoleSink::Stream::Stdout, 64);
  sink.write(line("lost 1\n"));
  sink.write(line("lost 2\n"));
  cap.redirect(full);
  sink.flush();                                    // ENOSPC
  sink.write(line(std::string(100, 'x') + "\n"));  // direct write of a long line: fails too
  cap.redirect_back();
  sink.write(line("kept\n"));
  sink.flush();
  const std::string got = cap.contents();
  cap.restore();
  ::close(full);
  CHECK(got == "kept\n");  // the failed buffer was dropped, not retried
  CHECK(sink.stats().write_errors == 2);
  CHECK(sink.stats().lines_lost == 3);
  CHECK(sink.stats().lines == 1);
  CHECK(sink.stats().bytes_written == 5);
}

TEST_CASE("ConsoleSink counts EBADF on a closed descriptor") {
  (void)std::fflush(nullptr);
  const int saved = ::dup(1);
  REQUIRE(saved >= 0);
  ConsoleSink sink(ConsoleSink::Stream::Stdout, 0);
  ::close(1);
  sink.write(line("nowhere\n"));
  ::dup2(saved, 1);
  ::close(saved);
  CHECK(sink.stats().write_errors == 1);
  CHECK(sink.stats().lines_lost == 1);
}

namespace {
std::atomic<int> g_alarms{0};
extern "C" void on_alarm(int /*sig*/) { g_alarms.fetch_add(1, std::memory_order_relaxed); }
}  // namespace

TEST_CASE("write_all retries EINTR and continues after short writes") {
  // A blocking pipe drained slowly by a reader thread, and a 200 us timer whose handler is
  // installed without SA_RESTART: write(2) returns short counts (signal after some bytes) or
  // EINTR (before any). Every byte must arrive once, in order, with no error.
  std::array<int, 2> fds{};
  REQUIRE(::pipe(fds.data()) == 0);
  struct sigaction sa {};
  sa.sa_handler = on_alarm;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART
  struct sigaction old {};
  REQUIRE(::sigaction(SIGALRM, &sa, &old) == 0);

  std::string payload(4 << 20, '\0');
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>('a' + i % 23);
  std::string received;
  std::thread reader([&] {
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGALRM);
    pthread_sigmask(SIG_BLOCK, &block, nullptr);  // the signal goes to the writer
    std::vector<char> buf(4096);
    ssize_t n = 0;
    int chunks = 0;
    while ((n = ::read(fds[0], buf.data(), buf.size())) > 0) {
      received.append(buf.data(), static_cast<std::size_t>(n));
      if (++chunks % 16 == 0) std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  });
  itimerval tv{};
  tv.it_interval.tv_usec = 200;
  tv.it_value.tv_usec = 200;
  REQUIRE(::setitimer(ITIMER_REAL, &tv, nullptr) == 0);
  const hft::detail::WriteResult res = hft::detail::write_all(fds[1], payload.data(), payload.size());
  itimerval off{};
  ::setitimer(ITIMER_REAL, &off, nullptr);
  ::sigaction(SIGALRM, &old, nullptr);
  ::close(fds[1]);
  reader.join();
  ::close(fds[0]);
  CHECK(res.error == 0);
  CHECK(res.written == payload.size());
  CHECK(received == payload);
  CHECK(g_alarms.load() > 0);  // the signals did interrupt the write
}
