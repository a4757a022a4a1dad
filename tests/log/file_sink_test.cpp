// FileSink: buffering and the direct write of a long line, size rotation (exactly max_files
// files, whole lines, in order, none lost among the kept ones), time rotation driven by the
// records' times (stamped names, retention, time going back, a file found at open), both
// together, write errors (/dev/full, a directory removed under the sink) and construction errors.
#include "hft/log/file_sink.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "../support/catch.hpp"

using hft::FileSink;
using hft::LogRecordView;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

constexpr std::int64_t kSec = 1'000'000'000;

class TempDir {
  static int next_id() {
    static int n = 0;
    return n++;
  }

 public:
  TempDir() : path_("/tmp/hft_file_sink_" + std::to_string(::getpid()) + "_" + std::to_string(next_id())) {
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] std::string sub(const std::string& name) const { return path_ + "/" + name; }
  // The names in the directory, sorted.
  [[nodiscard]] std::vector<std::string> names() const {
    std::vector<std::string> v;
    for (const auto& e : fs::directory_iterator(path_)) v.push_back(e.path().filename().string());
    std::sort(v.begin(), v.end());
    return v;
  }

 private:
  std::string path_;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Line i: a number and a length that varies with i, so a lost, repeated or split line shows.
std::string text_of(std::size_t i) { return "line " + std::to_string(i) + " " + std::string(i % 23, '.') + "\n"; }

LogRecordView rec(std::string_view text, std::int64_t time_ns = 0) {
  LogRecordView r;
  r.text = text;
  r.time_ns = time_ns;
  return r;
}

void put(FileSink& s, const std::string& text, std::int64_t time_ns = 0) { s.write(rec(text, time_ns)); }

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at < s.size()) {
    const std::size_t nl = s.find('\n', at);
    REQUIRE(nl != std::string::npos);  // every file ends with a whole line
    out.push_back(s.substr(at, nl - at + 1));
    at = nl + 1;
  }
  return out;
}

// 2024-02-29T23:58:00Z, a minute boundary on a leap day.
constexpr std::int64_t kLeapMinute = 1'709'251'080;

}  // namespace

TEST_CASE("FileSink buffers lines and writes them in order at flush") {
  TempDir dir;
  const std::string path = dir.sub("app.log");
  FileSink sink(path);
  CHECK(sink.path() == path);
  CHECK(sink.config().buffer_bytes == std::size_t{64} * 1024);
  CHECK(sink.config().max_files == 5);
  CHECK(fs::exists(path));  // created at construction
  put(sink, "one\n");
  put(sink, "two\n");
  CHECK(slurp(path).empty());
  CHECK(sink.file_bytes() == 8);
  sink.flush();
  CHECK(slurp(path) == "one\ntwo\n");
  const hft::FileSinkStats st = sink.stats();
  CHECK(st.lines == 2);
  CHECK(st.bytes_written == 8);
  CHECK(st.rotations == 0);
  CHECK(st.write_errors == 0);
  CHECK(st.lines_lost == 0);
}

TEST_CASE("FileSink appends to an existing file and the destructor flushes") {
  TempDir dir;
  const std::string path = dir.sub("app.log");
  { std::ofstream(path) << "old\n"; }
  {
    FileSink sink(path);
    CHECK(sink.file_bytes() == 4);
    put(sink, "new\n");
  }
  CHECK(slurp(path) == "old\nnew\n");
}

TEST_CASE("FileSink creates the file with cfg.mode less the umask") {
  TempDir dir;
  const mode_t old = ::umask(022);
  {
    FileSink a(dir.sub("a.log"), {.mode = 0600});
    FileSink b(dir.sub("b.log"), {.mode = 0666});
  }
  ::umask(old);
  struct stat st {};
  REQUIRE(::stat(dir.sub("a.log").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE(::stat(dir.sub("b.log").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0644);
}

TEST_CASE("FileSink writes the buffer when full and a line larger than the buffer directly, in order") {
  TempDir dir;
  const std::string path = dir.sub("app.log");
  FileSink sink(path, {.buffer_bytes = 16});
  put(sink, "0123456789\n");  // 11: buffered
  CHECK(slurp(path).empty());
  put(sink, "abcdef\n");  // 18 > 16: the first goes out
  CHECK(slurp(path) == "0123456789\n");
  const std::string big(100, 'B');
  put(sink, big + "\n");  // the buffer, then this line, directly
  CHECK(slurp(path) == "0123456789\nabcdef\n" + big + "\n");
  put(sink, "tail\n");
  CHECK(slurp(path) == "0123456789\nabcdef\n" + big + "\n");
  sink.flush();
  CHECK(slurp(path) == "0123456789\nabcdef\n" + big + "\ntail\n");
  CHECK(sink.stats().lines == 4);
}

TEST_CASE("FileSink with a zero buffer writes each line at once") {
  TempDir dir;
  const std::string path = dir.sub("app.log");
  FileSink sink(path, {.buffer_bytes = 0});
  put(sink, "a\n");
  CHECK(slurp(path) == "a\n");
  put(sink, "b\n");
  CHECK(slurp(path) == "a\nb\n");
}

TEST_CASE("size rotation keeps exactly max_files whole-line files, newest in path.1, none lost among them") {
  TempDir dir;
  const std::string path = dir.sub("app.log");
  constexpr std::uint64_t kMax = 120;
  const std::size_t n = 500;
  {
    FileSink sink(path, {.buffer_bytes = 64, .max_bytes = kMax, .max_files = 3});
    for (std::size_t i = 0; i < n; ++i) put(sink, text_of(i));
    sink.flush();
    CHECK(sink.stats().lines == n);
    CHECK(sink.stats().rotations > 3);
    CHECK(sink.stats().write_errors == 0);
  }
  CHECK(dir.names() == std::vector<std::string>{"app.log", "app.log.1", "app.log.2", "app.log.3"});
  // Oldest first: path.3, path.2, path.1, path.
  const std::vector<std::string> order{path + ".3", path + ".2", path + ".1", path};
  std::vector<std::vector<std::string>> files;
  for (const std::string& f : order) {
    const std::string body = slurp(f);
    INFO(f);
    CHECK(!body.empty());
    CHECK(body.size() <= kMax);
    files.push_back(split_lines(body));
  }
  // The kept lines are the last ones written, consecutive, in order.
  std::vector<std::string> kept;
  for (const auto& f : files) kept.insert(kept.end(), f.begin(), f.end());
  REQUIRE(kept.size() <= n);
  for (std::size_t j = 0; j < kept.size(); ++j) CHECK(kept[j] == text_of(n - kept.size() + j));
  // Each rotated file was rotated because its successor's first line would not fit.
  for (std::size_t k = 0; k + 1 < files.size(); ++k) {
    std::size_t size = 0;
    for (const auto& l : files[k]) size += l.size();
    CHECK(size + files[k + 1].front().size() > kMax);
  }
}

TEST_CASE("size rotation with max_files 1 keeps path and path.1") {
  TempDir dir;
  const std::string path = dir.sub("app.log");
  FileSink sink(path, {.max_bytes = 10, .max_files = 1});
  put(sink, "aaaaaaa\n");
  put(sink, "bbbbbbb\n");  // 16 > 10: rotate
  put(sink, "ccccccc\n");  // rotate again: path.1 (a) is replaced by b
  sink.flush();
  CHECK(dir.names() == std::vector<std::string>{"app.log", "app.log.1"});
  CHECK(slurp(path + ".1") == "bbbbbbb\n");
  CHECK(slurp(path) == "ccccccc\n");
  CHECK(sink.stats().rotations == 2);
}

TEST_CASE("a line larger than max_bytes gets a file of its own, and an oversized file found at open rotates first") {
  TempDir dir;
  const std::string path = dir.sub("app.log");
  { std::ofstream(path) << std::string(50, 'o') << "\n"; }
  FileSink sink(path, {.max_bytes = 20, .max_files = 5});
  CHECK(sink.file_bytes() == 51);
  put(sink, "small\n");  // the existing 51 bytes are rotated away first
  put(sink, std::string(30, 'L') + "\n");
  put(sink, "after\n");
  sink.flush();
  CHECK(slurp(path + ".3") == std::string(50, 'o') + "\n");
  CHECK(slurp(path + ".2") == "small\n");
  CHECK(slurp(path + ".1") == std::string(30, 'L') + "\n");
  CHECK(slurp(path) == "after\n");
  CHECK(sink.stats().rotations == 3);
}

TEST_CASE("an empty file is never rotated, by size or by time") {
  TempDir dir;
  const std::string path = dir.sub("app.log");
  FileSink sink(path, {.max_bytes = 5, .max_files = 3, .rotate_every = 60s});
  put(sink, std::string(10, 'x') + "\n", kLeapMinute * kSec);  // larger than max_bytes, into the empty file
  sink.flush();
  CHECK(sink.stats().rotations == 0);
  CHECK(dir.names() == std::vector<std::string>{"app.log"});
}

TEST_CASE("time rotation renames the file after the UTC start of the period it covered") {
  TempDir dir;
  const std::string path = dir.sub("app.log");
  {
    FileSink sink(path, {.max_files = 10, .rotate_every = 60s});
    // 23:58:00 .. 00:01:50 across the leap day's midnight, one line every 10 s.
    for (std::int64_t t = 0; t < 240; t += 10) put(sink, "t+" + std::to_string(t) + "\n", (kLeapMinute + t) * kSec);
    sink.flush();
    CHECK(sink.stats().rotations == 3);
    CHECK(sink.stats().lines == 24);
  }
  CHECK(dir.names() == std::vector<std::string>{"app.log", "app.log.20240229T235800", "app.log.20240229T235900",
                                                "app.log.20240301T000000"});
  CHECK(slurp(path + ".20240229T235800") == "t+0\nt+10\nt+20\nt+30\nt+40\nt+50\n");
  CHECK(slurp(path + ".20240229T235900") == "t+60\nt+70\nt+80\nt+90\nt+100\nt+110\n");
  CHECK(slurp(path + ".20240301T000000") == "t+120\nt+130\nt+140\nt+150\nt+160\nt+170\n");
  CHECK(slurp(path) == "t+180\nt+190\nt+200\nt+210\nt+220\nt+230\n");
}

TEST_CASE("time rotation: a day period starts at 00:00Z, skipped periods, and times going back") {
  TempDir dir;
  const std::string path = dir.sub("d.log");
  FileSink sink(path, {.max_files = 10, .rotate_every = 24h});
  const std::int64_t day = 86'400;
  const std::int64_t d0 = 19'782 * day;  // 2024-02-29T00:00:00Z
  put(sink, "a\n", (d0 + 3600) * kSec);
  put(sink, "b\n", (d0 + 5 * day + 10) * kSec);  // five days later: one rotation, named after day 0
  put(sink, "c\n", (d0 + 2 * day) * kSec);       // back in time: stays in the current file
  sink.flush();
  CHECK(dir.names() == std::vector<std::string>{"d.log", "d.log.20240229T000000"});
  CHECK(slurp(path + ".20240229T000000") == "a\n");
  CHECK(slurp(path) == "b\nc\n");
  CHECK(sink.stats().rotations == 1);
}

TEST_CASE("time rotation before 1970 names the period by its proleptic UTC start") {
  TempDir dir;
  const std::string path = dir.sub("old.log");
  FileSink sink(path, {.max_files = 3, .rotate_every = 60s});
  put(sink, "x\n", -30 * kSec);  // 1969-12-31T23:59:30
  put(sink, "y\n", 5 * kSec);
  sink.flush();
  CHECK(dir.names() == std::vector<std::string>{"old.log", "old.log.19691231T235900"});
  CHECK(slurp(path + ".19691231T235900") == "x\n");
}

TEST_CASE("time rotation keeps the newest max_files stamped files") {
  TempDir dir;
  const std::string path = dir.sub("app.log");
  {
    std::ofstream(dir.sub("app.log.notastamp")) << "keep\n";  // not ours: never deleted
    std::ofstream(dir.sub("other.log.20000101T000000")) << "keep\n";
  }
  FileSink sink(path, {.max_files = 2, .rotate_every = 60s});
  for (int m = 0; m < 6; ++m) put(sink, "m" + std::to_string(m) + "\n", (kLeapMinute + std::int64_t{60} * m) * kSec);
  sink.flush();
  CHECK(dir.names() == std::vector<std::string>{"app.log", "app.log.20240301T000100", "app.log.20240301T000200",
                                                "app.log.notastamp", "other.log.20000101T000000"});
  CHECK(slurp(path + ".20240301T000100") == "m3\n");
  CHECK(slurp(path + ".20240301T000200") == "m4\n");
  CHECK(slurp(path) == "m5\n");
  CHECK(sink.stats().rotations == 5);
}

TEST_CASE("a non-empty file found at open covers the period of its mtime") {
  TempDir dir;
  const std::string path = dir.sub("app.log");
  { std::ofstream(path) << "yesterday\n"; }
  const std::array<timespec, 2> times{timespec{kLeapMinute + 5, 0}, timespec{kLeapMinute + 5, 0}};
  REQUIRE(::utimensat(AT_FDCWD, path.c_str(), times.data(), 0) == 0);
  FileSink sink(path, {.max_files = 3, .rotate_every = 60s});
  put(sink, "same minute\n", (kLeapMinute + 30) * kSec);  // no rotation: the file's period
  put(sink, "next minute\n", (kLeapMinute + 60) * kSec);
  sink.flush();
  CHECK(slurp(path + ".20240229T235800") == "yesterday\nsame minute\n");
  CHECK(slurp(path) == "next minute\n");
}

TEST_CASE("size and time rotation together: STAMP, STAMP.1, STAMP.2 within a period, oldest deleted in that order") {
  TempDir dir;
  const std::string path = dir.sub("app.log");
  {
    FileSink sink(path, {.max_bytes = 12, .max_files = 4, .rotate_every = 60s});
    // Minute 0: five 6-byte lines -> files of two lines each; minute 1: one line.
    for (int i = 0; i < 5; ++i) put(sink, "a" + std::to_string(i) + "xxx\n", (kLeapMinute + i) * kSec);
    put(sink, "b0xxx\n", (kLeapMinute + 60) * kSec);
    sink.flush();
    CHECK(sink.stats().rotations == 3);
  }
  CHECK(dir.names() == std::vector<std::string>{"app.log", "app.log.20240229T235800", "app.log.20240229T235800.1",
                                                "app.log.20240229T235800.2"});
  CHECK(slurp(path + ".20240229T235800") == "a0xxx\na1xxx\n");
  CHECK(slurp(path + ".20240229T235800.1") == "a2xxx\na3xxx\n");
  CHECK(slurp(path + ".20240229T235800.2") == "a4xxx\n");
  CHECK(slurp(path) == "b0xxx\n");
  {
    // A second run: max_files 2 drops the oldest by (stamp, K). The file's mtime puts it in
    // minute 1, as if the first run had just written it (the test drives times in 2024).
    const std::array<timespec, 2> times{timespec{kLeapMinute + 60, 0}, timespec{kLeapMinute + 60, 0}};
    REQUIRE(::utimensat(AT_FDCWD, path.c_str(), times.data(), 0) == 0);
    FileSink sink(path, {.max_bytes = 12, .max_files = 2, .rotate_every = 60s});
    put(sink, "b1xxx\n", (kLeapMinute + 61) * kSec);
    put(sink, "b2xxx\n", (kLeapMinute + 62) * kSec);  // 18 > 12: rotate within minute 1
    sink.flush();
  }
  CHECK(dir.names() == std::vector<std::string>{"app.log", "app.log.20240229T235800.2", "app.log.20240229T235900"});
  CHECK(slurp(path + ".20240229T235900") == "b0xxx\nb1xxx\n");
}

TEST_CASE("a stamped name taken by an earlier run gets the next K instead of being overwritten") {
  TempDir dir;
  const std::string path = dir.sub("app.log");
  { std::ofstream(path + ".20240229T235800") << "earlier run\n"; }
  FileSink sink(path, {.max_files = 5, .rotate_every = 60s});
  put(sink, "x\n", kLeapMinute * kSec);
  put(sink, "y\n", (kLeapMinute + 60) * kSec);
  sink.flush();
  CHECK(slurp(path + ".20240229T235800") == "earlier run\n");
  CHECK(slurp(path + ".20240229T235800.1") == "x\n");
  CHECK(slurp(path) == "y\n");
}

namespace {
// Redirects fd 2 to a file while alive.
class StderrCapture {
 public:
  explicit StderrCapture(std::string path) : path_(std::move(path)) {
    file_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    REQUIRE(file_ >= 0);
    saved_ = ::dup(2);
    ::dup2(file_, 2);
  }
  ~StderrCapture() { restore(); }
  StderrCapture(const StderrCapture&) = delete;
  StderrCapture& operator=(const StderrCapture&) = delete;
  void restore() {
    if (saved_ < 0) return;
    ::dup2(saved_, 2);
    ::close(saved_);
    ::close(file_);
    saved_ = -1;
  }
  [[nodiscard]] std::string contents() const { return slurp(path_); }

 private:
  std::string path_;
  int file_ = -1;
  int saved_ = -1;
};

std::size_t count(const std::string& hay, std::string_view needle) {
  std::size_t n = 0;
  for (std::size_t at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + 1)) ++n;
  return n;
}
}  // namespace

TEST_CASE("write errors on /dev/full are counted, lines lost, reported once on stderr, and the sink goes on") {
  TempDir dir;
  StderrCapture err(dir.sub("stderr.txt"));
  {
    FileSink sink("/dev/full", {.buffer_bytes = 32, .fsync_on_flush = true});
    put(sink, "a\n");
    put(sink, "b\n");
    sink.flush();                            // one write: ENOSPC, two lines lost; fdatasync of a device is not an error
    put(sink, std::string(40, 'x') + "\n");  // larger than the buffer: a direct write, fails
    for (int i = 0; i < 10; ++i) put(sink, "more\n");  // some fill the buffer: another failed write
    sink.flush();
    const hft::FileSinkStats st = sink.stats();
    CHECK(st.lines == 0);
    CHECK(st.lines_lost == 13);
    CHECK(st.write_errors >= 3);
    CHECK(st.bytes_written == 0);
    CHECK(sink.file_bytes() == 0);  // nothing buffered: memory did not grow
  }
  err.restore();
  const std::string msg = err.contents();
  CHECK(count(msg, "hft::FileSink: ") == 1);
  CHECK(msg.find("hft::FileSink: write to '/dev/full' failed: No space left on device") == 0);
}

TEST_CASE("fsync_on_flush on a device that cannot be synced is not an error") {
  FileSink sink("/dev/null", {.fsync_on_flush = true});
  put(sink, "gone\n");
  sink.flush();
  CHECK(sink.stats().lines == 1);
  CHECK(sink.stats().write_errors == 0);
}

TEST_CASE("fsync_on_flush on a regular file: data in place, no error") {
  TempDir dir;
  const std::string path = dir.sub("sync.log");
  FileSink sink(path, {.fsync_on_flush = true});
  put(sink, "durable\n");
  sink.flush();
  sink.flush();  // nothing new: no sync needed
  CHECK(slurp(path) == "durable\n");
  CHECK(sink.stats().write_errors == 0);
}

TEST_CASE("a directory removed under the sink: errors counted, lines lost, then it recovers") {
  TempDir dir;
  const std::string sub = dir.sub("logs");
  fs::create_directories(sub);
  const std::string path = sub + "/app.log";
  StderrCapture err(dir.sub("stderr.txt"));
  FileSink sink(path, {.buffer_bytes = 1024, .max_bytes = 100, .max_files = 2});
  put(sink, "before\n");
  sink.flush();
  fs::remove_all(sub);
  put(sink, "into the unlinked file\n");  // the open fd still takes it
  sink.flush();
  CHECK(sink.stats().write_errors == 0);
  put(sink, std::string(90, 'r') + "\n");  // 29 + 91 > 100: rotate: rename fails, reopen fails
  CHECK(sink.stats().write_errors == 2);
  put(sink, "lost\n");
  sink.flush();  // no file: one more failed open, both buffered lines lost
  CHECK(sink.stats().write_errors == 3);
  CHECK(sink.stats().lines_lost == 2);
  fs::create_directories(sub);
  put(sink, "back\n");
  sink.flush();  // the open works again
  err.restore();
  CHECK(slurp(path) == "back\n");
  CHECK(sink.stats().lines == 3);
  CHECK(sink.stats().lines_lost == 2);
  CHECK(sink.stats().write_errors == 3);
  CHECK(count(err.contents(), "hft::FileSink: ") == 1);
  CHECK(err.contents().find("No such file or directory") != std::string::npos);
}

TEST_CASE("construction errors") {
  TempDir dir;
  SECTION("a missing directory: std::system_error naming the path") {
    const std::string path = dir.sub("missing/app.log");
    try {
      const FileSink sink(path);
      FAIL("no exception");
    } catch (const std::system_error& e) {
      CHECK(e.code() == std::errc::no_such_file_or_directory);
      CHECK(std::string(e.what()).find("hft::FileSink: cannot open '" + path + "'") == 0);
    }
  }
  SECTION("a directory as the path") { CHECK_THROWS_AS(FileSink(dir.path()), std::system_error); }
  SECTION("max_files 0 with rotation refuses to start") {
    CHECK_THROWS_WITH(FileSink(dir.sub("a.log"), {.max_bytes = 100, .max_files = 0}),
                      Catch::Matchers::StartsWith("hft::FileSink: max_files must be >= 1 when rotating"));
    CHECK_THROWS_AS(FileSink(dir.sub("a.log"), {.max_files = 0, .rotate_every = 1h}), std::invalid_argument);
    CHECK(!fs::exists(dir.sub("a.log")));                         // refused before opening
    CHECK_NOTHROW(FileSink(dir.sub("b.log"), {.max_files = 0}));  // no rotation: max_files unused
  }
  SECTION("a negative rotate_every") {
    CHECK_THROWS_WITH(FileSink(dir.sub("a.log"), {.rotate_every = -5s}),
                      "hft::FileSink: rotate_every must be >= 0 s, got -5 s");
  }
}
