// Fuzz target: the --config FILE parser of examples/common/cli.hpp (Parser::load_config), the
// input being the file's bytes, read through an option set with one option of every kind the
// binaries declare (integers of each width and sign, flags, text with and without a default,
// reals, an integer list, a choice, a repeatable custom option, a custom option without a
// shown value), checked against a slow reference of the syntax in cli.hpp's opening comment.
// load_config reports a bad file the way every cli error is reported: a message and exit(2).
// A file the reference refuses is therefore loaded in a forked child (its stderr piped back,
// an atexit handler turning the exit into a known status), and the lines before the refused
// one are loaded here, in process, where coverage is recorded.
// Invariants:
//   - load_config accepts exactly the files the reference accepts, with the same values, and
//     every accepted value lies within its option's declared range;
//   - a refused file ends the child through cli's fail (exit, no crash, hang or sanitizer
//     report) with "fuzz_config: error: FILE:N: " naming the line the reference refuses;
//   - dump() of an accepted file is itself a file the reference and load_config accept, and
//     loading it into fresh defaults gives the same effective values (cli.hpp: "the
//     effective configuration of a run can be pasted back as its --config file").
// It found three values dump() printed so that they read back differently (an empty text
// over a non-empty default, values needing quotes, subnormal reals); the corpus keeps one
// seed of each (known_bug_*), fixed in cli.hpp.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "../../examples/common/cli.hpp"
#include "fuzz_check.hpp"

namespace {

constexpr int kExitedThroughExit = 97;  // the child's status when cli called std::exit
constexpr const char* kProgram = "fuzz_config";

struct Values {
  std::uint16_t port = 7000;
  int fix_port = -1;
  int io_threads = 2;
  std::size_t ring = 1024;
  std::uint32_t log_sample = 0;
  std::int64_t offset = 0;
  std::uint64_t max_bytes = 0;
  bool busy_spin = false;
  bool colour = true;
  std::string host = "127.0.0.1";
  std::string journal;
  double rate = 0;
  double ratio = 0.5;
  std::vector<int> cpus;
  std::string dispatch = "auto";
  std::vector<std::pair<std::string, std::string>> refs;
  int secret = 0;  // a custom option without a shown value: left out of dump()
  bool operator==(const Values&) const = default;
};

constexpr std::size_t kRingMax = std::size_t{1} << 26;

void declare(hft::cli::Parser& p, Values& v) {
  p.config_file();
  p.integer("--port", v.port, 0, 65535, "port")
      .integer("--fix-port", v.fix_port, -1, 65535, "FIX port (-1: off)")
      .integer("--io-threads", v.io_threads, 1, 64, "I/O threads")
      .integer("--ring", v.ring, 2, kRingMax, "ring slots")
      .integer("--log-sample", v.log_sample, 0, std::numeric_limits<std::uint32_t>::max(), "log every Nth")
      .integer("--offset", v.offset, std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max(),
               "any int64")
      .integer("--log-file-max-bytes", v.max_bytes, 0, std::numeric_limits<std::uint64_t>::max(), "any uint64")
      .flag("--busy-spin", v.busy_spin, "spin")
      .flag("--colour", v.colour, "colour, on by default")
      .text("--host", v.host, "ADDR", "host")
      .text("--journal", v.journal, "DIR", "journal directory")
      .real("--rate", v.rate, 0, 1e9, "requests/s")
      .real("--ratio", v.ratio, -1, 1, "a ratio")
      .integer_list("--cpus", v.cpus, 0, 1023, "CPUs")
      .choice("--dispatch", v.dispatch, {"auto", "ring", "inline"}, "dispatch")
      .custom(
          "--ref", "SYM=PRICE", "repeatable",
          [&v](std::string_view kv) {
            const auto eq = kv.find('=');
            if (eq == std::string_view::npos || eq == 0 || eq + 1 == kv.size()) {
              throw hft::cli::BadValue("'" + std::string(kv) + "' is not SYM=PRICE");
            }
            v.refs.emplace_back(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
          },
          [&v] {
            hft::cli::Parser::Shown out;
            for (const auto& [sym, px] : v.refs) {
              std::string kv = sym;
              kv += '=';
              kv += px;
              out.push_back(std::move(kv));
            }
            return out;
          })
      .custom("--secret", "N", "not shown by dump()",
              [&v](std::string_view s) { v.secret = hft::cli::parse_integer<int>(s, 0, 9); });
}

// ---- the reference: cli.hpp's opening comment, written the slow way ----

using i128 = __int128;

template <class T>
std::optional<T> ref_integer(std::string_view s, T lo, T hi) {
  const bool neg = !s.empty() && s.front() == '-';
  const std::string_view digits = s.substr(neg ? 1 : 0);
  if (digits.empty()) return std::nullopt;
  i128 mag = 0;
  for (const char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    if (mag < (i128{1} << 100)) mag = mag * 10 + (c - '0');
  }
  if (neg && std::is_unsigned_v<T>) return std::nullopt;
  const i128 v = neg ? -mag : mag;
  if (v < static_cast<i128>(lo) || v > static_cast<i128>(hi)) return std::nullopt;
  return static_cast<T>(v);
}

std::optional<double> ref_real(std::string_view s, double lo, double hi) {
  if (s.empty()) return std::nullopt;
  const std::string t(s);
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(t.c_str(), &end);
  // ERANGE: refused for an overflow or an underflow to 0; a subnormal result is a value.
  const bool range = errno == ERANGE && (v == 0 || std::isinf(v));
  if (end != t.c_str() + t.size() || range || !(v >= lo && v <= hi)) return std::nullopt;
  return v;
}

template <class T>
bool set_integer(T& out, std::string_view s, T lo, T hi) {
  const auto v = ref_integer<T>(s, lo, hi);
  if (v) out = *v;
  return v.has_value();
}

// Applies one `key = value` (key without "--", value unquoted); false: the option refuses it.
bool ref_apply(Values& v, std::string_view key, std::string_view value, bool& known) {
  known = true;
  if (key == "port") return set_integer<std::uint16_t>(v.port, value, 0, 65535);
  if (key == "fix-port") return set_integer(v.fix_port, value, -1, 65535);
  if (key == "io-threads") return set_integer(v.io_threads, value, 1, 64);
  if (key == "ring") return set_integer<std::size_t>(v.ring, value, 2, kRingMax);
  if (key == "log-sample") return set_integer<std::uint32_t>(v.log_sample, value, 0, UINT32_MAX);
  if (key == "offset") return set_integer<std::int64_t>(v.offset, value, INT64_MIN, INT64_MAX);
  if (key == "log-file-max-bytes") return set_integer<std::uint64_t>(v.max_bytes, value, 0, UINT64_MAX);
  if (key == "busy-spin" || key == "colour") {
    bool& b = key == "busy-spin" ? v.busy_spin : v.colour;
    if (value.empty() || value == "true" || value == "yes" || value == "on" || value == "1") {
      b = true;
    } else if (value == "false" || value == "no" || value == "off" || value == "0") {
      b = false;
    } else {
      return false;
    }
    return true;
  }
  if (key == "host" || key == "journal") {
    (key == "host" ? v.host : v.journal) = value;
    return true;
  }
  if (key == "rate" || key == "ratio") {
    const auto r = key == "rate" ? ref_real(value, 0, 1e9) : ref_real(value, -1, 1);
    if (r) (key == "rate" ? v.rate : v.ratio) = *r;
    return r.has_value();
  }
  if (key == "cpus") {
    std::vector<int> list;
    for (std::size_t start = 0;;) {
      const std::size_t comma = value.find(',', start);
      const auto c =
          ref_integer<int>(value.substr(start, comma == std::string_view::npos ? value.npos : comma - start), 0, 1023);
      if (!c) return false;
      list.push_back(*c);
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
    v.cpus = std::move(list);
    return true;
  }
  if (key == "dispatch") {
    if (value != "auto" && value != "ring" && value != "inline") return false;
    v.dispatch = value;
    return true;
  }
  if (key == "ref") {
    const std::size_t eq = value.find('=');
    if (eq == std::string_view::npos || eq == 0 || eq + 1 == value.size()) return false;
    v.refs.emplace_back(std::string(value.substr(0, eq)), std::string(value.substr(eq + 1)));
    return true;
  }
  if (key == "secret") return set_integer(v.secret, value, 0, 9);
  known = false;
  return false;
}

bool blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }
std::string_view ref_trim(std::string_view t) {
  while (!t.empty() && blank(t.front())) t.remove_prefix(1);
  while (!t.empty() && blank(t.back())) t.remove_suffix(1);
  return t;
}

struct RefResult {
  int bad_line = 0;           // 0: accepted
  std::size_t bad_start = 0;  // the refused line's first byte
};

RefResult ref_load(std::string_view file, Values& v) {
  std::string prefix;
  int no = 0;
  for (std::size_t pos = 0; pos < file.size();) {  // std::getline's lines
    const std::size_t start = pos;
    const std::size_t nl = file.find('\n', pos);
    const std::string_view line = file.substr(pos, nl == std::string_view::npos ? file.npos : nl - pos);
    pos = nl == std::string_view::npos ? file.size() : nl + 1;
    ++no;
    const std::string_view t = ref_trim(line);
    if (t.empty() || t[0] == '#' || t[0] == ';') continue;
    if (t[0] == '[') {
      if (t.size() < 2 || t.back() != ']') return {no, start};
      const std::string_view sec = ref_trim(t.substr(1, t.size() - 2));
      prefix = sec.empty() ? std::string() : std::string(sec) + "-";
      continue;
    }
    const std::size_t eq = t.find('=');
    if (eq == std::string_view::npos) return {no, start};
    std::string key = prefix;
    key += ref_trim(t.substr(0, eq));
    std::string_view value = ref_trim(t.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    bool known = false;
    if (!ref_apply(v, key, value, known)) return {no, start};
  }
  return {};
}

void check_ranges(const Values& v) {
  FUZZ_CHECK(v.fix_port >= -1 && v.fix_port <= 65535, "--fix-port %d", v.fix_port);
  FUZZ_CHECK(v.io_threads >= 1 && v.io_threads <= 64, "--io-threads %d", v.io_threads);
  FUZZ_CHECK(v.ring >= 2 && v.ring <= kRingMax, "--ring %zu", v.ring);
  FUZZ_CHECK(v.rate >= 0 && v.rate <= 1e9, "--rate %g", v.rate);
  FUZZ_CHECK(v.ratio >= -1 && v.ratio <= 1, "--ratio %g", v.ratio);
  for (const int c : v.cpus) FUZZ_CHECK(c >= 0 && c <= 1023, "--cpus has %d", c);
  FUZZ_CHECK(v.dispatch == "auto" || v.dispatch == "ring" || v.dispatch == "inline", "--dispatch '%s'",
             v.dispatch.c_str());
  for (const auto& [sym, px] : v.refs) FUZZ_CHECK(!sym.empty() && !px.empty(), "--ref with an empty side");
  FUZZ_CHECK(v.secret >= 0 && v.secret <= 9, "--secret %d", v.secret);
}

// ---- the file: a memfd, read back through /proc/self/fd (no file on disk) ----

class MemFile {
 public:
  explicit MemFile(std::string_view bytes) : fd_(::memfd_create("fuzz_config", MFD_CLOEXEC)) {
    FUZZ_CHECK(fd_ >= 0, "memfd_create failed");
    for (std::size_t at = 0; at < bytes.size();) {
      const ssize_t n = ::write(fd_, bytes.data() + at, bytes.size() - at);
      FUZZ_CHECK(n > 0, "write to the memfd failed");
      at += static_cast<std::size_t>(n);
    }
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  MemFile(const MemFile&) = delete;
  MemFile& operator=(const MemFile&) = delete;
  ~MemFile() { ::close(fd_); }
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  int fd_;
  std::string path_;
};

// `dumped`: the parser's dump() after the load, as the binaries print their effective
// configuration (the parser that knows the defaults).
Values load_here(std::string_view bytes, std::string* dumped = nullptr) {
  const MemFile f(bytes);
  Values v;
  hft::cli::Parser p(kProgram, "[options]", "");
  declare(p, v);
  p.load_config(f.path());  // a refusal exits: libFuzzer reports "fuzz target exited"
  if (dumped != nullptr) *dumped = p.dump();
  return v;
}

// Loads a file the reference refuses in a child; returns its stderr after checking that it
// ended through std::exit.
std::string load_refused(const std::string& path) {
  int pipe_fds[2];
  FUZZ_CHECK(::pipe2(pipe_fds, O_CLOEXEC) == 0, "pipe2 failed");
  (void)std::fflush(stderr);
  const pid_t pid = ::fork();
  FUZZ_CHECK(pid >= 0, "fork failed");
  if (pid == 0) {
    ::dup2(pipe_fds[1], STDERR_FILENO);
    (void)std::signal(SIGALRM, SIG_DFL);  // not libFuzzer's handler: a hang kills the child
    ::alarm(10);
    // Runs before libFuzzer's own atexit handler (registered earlier), which would report
    // "fuzz target exited"; cli's fail always exits 2, see cli.hpp.
    (void)std::atexit([] {
      (void)std::fflush(stderr);
      ::_exit(kExitedThroughExit);
    });
    Values v;
    hft::cli::Parser p(kProgram, "[options]", "");
    declare(p, v);
    p.load_config(path);
    ::_exit(0);  // load_config returned: the file was accepted
  }
  ::close(pipe_fds[1]);
  std::string err;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(pipe_fds[0], buf, sizeof buf);
    if (n > 0) {
      err.append(buf, static_cast<std::size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  ::close(pipe_fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != kExitedThroughExit) {
    std::fprintf(stderr, "the child's stderr:\n%s\n", err.c_str());
    FUZZ_CHECK(false, "a refused file: child %s %d, not cli's exit", WIFEXITED(status) ? "exited" : "killed by signal",
               WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
  }
  return err;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view file(reinterpret_cast<const char*>(data), size);
  Values want;
  const RefResult ref = ref_load(file, want);
  if (ref.bad_line != 0) {
    // The lines before the refused one load here, to the reference's values at that point.
    Values before;
    const std::string_view head = file.substr(0, ref.bad_start);
    FUZZ_CHECK(ref_load(head, before).bad_line == 0, "the reference refuses a prefix it accepted");
    const Values got = load_here(head);
    FUZZ_CHECK(got == before, "the lines before line %d load to other values than the reference's", ref.bad_line);
    check_ranges(got);
    const MemFile f(file);
    const std::string err = load_refused(f.path());
    std::string expect = kProgram;
    expect += ": error: ";
    expect += f.path();
    expect += ':';
    expect += std::to_string(ref.bad_line);
    expect += ": ";
    if (!err.starts_with(expect)) std::fprintf(stderr, "the child's stderr:\n%s\n", err.c_str());
    FUZZ_CHECK(err.starts_with(expect), "the error does not start with '%s'", expect.c_str());
    FUZZ_CHECK(err.find("\n\nusage: ") != std::string::npos, "the error is not followed by the usage");
    return 0;
  }
  std::string dumped;
  const Values got = load_here(file, &dumped);
  FUZZ_CHECK(got == want, "load_config and the reference disagree on an accepted file");
  check_ranges(got);

  // The effective configuration, pasted back as a --config file over fresh defaults.
  Values again_ref;
  const RefResult again = ref_load(dumped, again_ref);
  if (again.bad_line != 0) std::fprintf(stderr, "dump():\n%s\n", dumped.c_str());
  FUZZ_CHECK(again.bad_line == 0, "dump() is not a valid --config file: line %d", again.bad_line);
  Values expect = got;
  expect.secret = Values{}.secret;  // not shown: keeps its default
  FUZZ_CHECK(again_ref == expect, "dump() read back (reference) differs from the effective values:\n%s",
             dumped.c_str());
  const Values reloaded = load_here(dumped);
  FUZZ_CHECK(reloaded == expect, "dump() read back by load_config differs from the effective values:\n%s",
             dumped.c_str());
  return 0;
}
