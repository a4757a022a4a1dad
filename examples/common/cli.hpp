// examples/common/cli.hpp: the one command-line parser of every hft binary (examples,
// benchmarks, tools), so that all of them behave like good command-line tools:
//   - `--help` (or -h) prints the usage to stdout and exits 0;
//   - `--opt value` and `--opt=value` both work; a boolean flag takes no value;
//   - numbers are parsed whole and range-checked, and an error names the flag
//     ("--port: 70000 is out of range 0..65535");
//   - an unknown option, a missing value or a bad one prints "PROGRAM: error: ..." and the
//     usage to stderr and exits 2;
//   - an output file (`output()`) is opened while parsing, before any work starts, and a
//     failure to open it exits 2 with the path and strerror; OutputFile::finish() reports
//     a failed write the same way (exit 1). It is written to `PATH.tmp.<pid>` and renamed
//     over PATH only by finish(): a run that is killed or fails never leaves a short or
//     0-byte file over an earlier result;
//   - `config_file()` adds `--config FILE`: INI-style `key = value` lines, where a key is a
//     long option's name without `--` (`port = 9000`, `busy-spin = true`). `#` or `;` at the
//     start of a line is a comment; values are taken whole (no trailing comments; surrounding
//     double quotes are removed). A `[section]` header prefixes the keys under it:
//     `[fix]` + `port = 9001` is `fix-port` (`[]` ends the section). A repeatable option
//     (--ref) may appear on several lines. Every value goes through the flag's own check, and
//     an error names the file and line: "PROGRAM: error: FILE:3: --port: 70000 is out of range
//     0..65535" (exit 2), as does an unknown key, a line without '=' or a missing file. The
//     command line overrides the file wherever --config appears on it;
//   - `dump()` prints every option's current value in the file's syntax, so the effective
//     configuration of a run can be pasted back as its --config file (a value is quoted
//     where the loader would otherwise trim or unquote it; one with a line break cannot be
//     shown and is a comment);
//   - `version(text)` adds `--version`: the text on stdout, exit 0.
// Not part of the library (no hft header includes it): the binaries' shared front end.
// Its std::exit calls (concurrency-mt-unsafe) happen on the main thread while parsing or
// after the work's threads have joined: no other thread can be inside exit's handlers.
#pragma once

#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

namespace hft::cli {

/// Thrown by option handlers for a bad value; the parser adds the flag's name.
struct BadValue : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

/// The handler of a main's function-try-block: an exception that escapes the program's work
/// becomes "PROGRAM: error: what" on stderr and exit status 1, not std::terminate's abort.
inline int report_fatal(const char* program, const std::exception& e) noexcept {
  std::fprintf(stderr, "%s: error: %s\n", program, e.what());
  return 1;
}

/// A file named on the command line, opened when the option is parsed. The bytes go to
/// `PATH.tmp.<pid>` (opened, so created, while parsing: an unwritable directory is refused
/// before any work); finish() renames it over PATH. A run that never reaches finish() (killed,
/// interrupted before it, failed) leaves PATH as it was.
class OutputFile {
 public:
  OutputFile() = default;
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;
  /// Removes the temporary file of an output never finished (an exception, an early return).
  ~OutputFile() { discard(); }
  /// Closes and removes the temporary file, leaving PATH as it was (Parser::fail calls it).
  void discard() noexcept {
    if (tmp_path_.empty()) return;
    out_.close();
    (void)std::remove(tmp_path_.c_str());
    tmp_path_.clear();
  }
  [[nodiscard]] bool is_set() const noexcept { return !path_.empty(); }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  [[nodiscard]] std::ofstream& stream() noexcept { return out_; }
  /// Writes `text` and closes; a failed write exits 1 naming the path.
  void write_and_close(std::string_view text) {
    out_.write(text.data(), static_cast<std::streamsize>(text.size()));
    finish();
  }
  /// Flushes, closes and renames the temporary file over the path; exits 1 with the path and
  /// strerror if anything failed (the temporary file is removed, the path left as it was).
  void finish() {
    if (!is_set() || tmp_path_.empty()) return;
    errno = 0;
    out_.flush();
    const bool ok = out_.good();
    out_.close();
    int err = errno;
    bool failed = !ok || out_.fail();
    if (!failed && std::rename(tmp_path_.c_str(), path_.c_str()) != 0) {
      err = errno;
      failed = true;
    }
    if (failed) {
      (void)std::remove(tmp_path_.c_str());
      std::fprintf(stderr, "error: writing %s failed: %s\n", path_.c_str(),
                   err ? std::generic_category().message(err).c_str() : "I/O error");
      std::exit(1);  // NOLINT(concurrency-mt-unsafe): see the file's opening comment
    }
    tmp_path_.clear();
  }
  /// Used by the parser: opens `path`'s temporary file now. Returns the error text, or "" on
  /// success. A second call (the command line overriding a config file) drops the first file.
  std::string open(const std::string& path) {
    discard();
    path_ = path;
    std::string tmp = path;
    tmp += ".tmp.";
    tmp += std::to_string(::getpid());
    errno = 0;
    out_.open(tmp, std::ios::out | std::ios::trunc | std::ios::binary);
    if (!out_)
      return "cannot open " + path +
             " for writing: " + (errno ? std::generic_category().message(errno) : "unknown error");
    tmp_path_ = std::move(tmp);
    return {};
  }

 private:
  std::string path_;
  std::string tmp_path_;  // non-empty while a temporary file exists
  std::ofstream out_;
};

/// `true`/`yes`/`on`/`1` or `false`/`no`/`off`/`0` (a flag's value in a config file).
inline bool parse_bool(std::string_view v) {
  if (v == "true" || v == "yes" || v == "on" || v == "1") return true;
  if (v == "false" || v == "no" || v == "off" || v == "0") return false;
  throw BadValue("'" + std::string(v) + "' is not true or false");
}

/// Parses an integer of type T in [lo, hi]; throws BadValue with a readable message.
template <class T>
T parse_integer(std::string_view text, T lo, T hi) {
  static_assert(std::is_integral_v<T>);
  using Wide = std::conditional_t<std::is_signed_v<T>, long long, unsigned long long>;
  Wide v{};
  if constexpr (std::is_unsigned_v<T>) {
    if (!text.empty() && text[0] == '-' && text.size() > 1) {
      throw BadValue(std::string(text) + " is out of range " + std::to_string(lo) + ".." + std::to_string(hi));
    }
  }
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec == std::errc::invalid_argument || p != text.data() + text.size()) {
    throw BadValue("'" + std::string(text) + "' is not an integer");
  }
  if (ec == std::errc::result_out_of_range || v < static_cast<Wide>(lo) || v > static_cast<Wide>(hi)) {
    throw BadValue(std::string(text) + " is out of range " + std::to_string(lo) + ".." + std::to_string(hi));
  }
  return static_cast<T>(v);
}

/// Comma-separated integers, each in [lo, hi].
inline std::vector<int> parse_integer_list(std::string_view v, int lo, int hi) {
  std::vector<int> out;
  for (std::size_t start = 0;;) {
    const std::size_t comma = v.find(',', start);
    out.push_back(
        parse_integer<int>(v.substr(start, comma == std::string_view::npos ? v.npos : comma - start), lo, hi));
    if (comma == std::string_view::npos) return out;
    start = comma + 1;
  }
}

/// Throws BadValue unless every CPU in `cpus` is in this process's affinity mask
/// (sched_getaffinity: online, and allowed by taskset or the container's cpuset), so --cpus
/// with a CPU that does not exist is refused before the run rather than failing to pin later.
inline void check_cpus(const std::vector<int>& cpus) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) != 0) return;  // unknown: pinning reports it
  std::string allowed;
  for (int c = 0, run = -1; c <= CPU_SETSIZE; ++c) {  // the allowed CPUs as ranges: "0-3,6"
    const bool in = c < CPU_SETSIZE && CPU_ISSET(static_cast<std::size_t>(c), &set);
    if (in && run < 0) run = c;
    if (!in && run >= 0) {
      if (!allowed.empty()) allowed += ',';
      allowed += std::to_string(run);
      if (c - 1 > run) {
        allowed += '-';
        allowed += std::to_string(c - 1);
      }
      run = -1;
    }
  }
  for (const int c : cpus) {
    if (c < 0 || c >= CPU_SETSIZE || !CPU_ISSET(static_cast<std::size_t>(c), &set)) {
      std::string what = "CPU ";
      what += std::to_string(c);
      what += " does not exist or is not in this process's affinity mask (allowed: ";
      what += allowed;
      what += ')';
      throw BadValue(what);
    }
  }
}

inline double parse_real(std::string_view text, double lo, double hi) {
  const std::string s(text);
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(s.c_str(), &end);
  // ERANGE with a non-zero result is a subnormal (underflow, rounded): dump() prints one so,
  // and it must read back. Overflow (inf) and an underflow to 0 are refused.
  const bool range = errno == ERANGE && (v == 0 || std::isinf(v));
  if (s.empty() || end != s.c_str() + s.size() || range) throw BadValue("'" + s + "' is not a number");
  if (!(v >= lo && v <= hi)) {
    throw BadValue(s + " is out of range " + std::to_string(lo) + ".." + std::to_string(hi));
  }
  return v;
}

class Parser {
 public:
  /// An option's current value(s) for dump(): empty when not set.
  using Shown = std::vector<std::string>;

  /// `usage_line`: after "usage: PROGRAM ", e.g. "[options]". `summary`: one or two lines.
  Parser(std::string program, std::string usage_line, std::string summary)
      : program_(std::move(program)), usage_line_(std::move(usage_line)), summary_(std::move(summary)) {}

  Parser& flag(std::string name, bool& target, std::string help) {
    add({std::move(name), "", std::move(help), false,
         [&target](std::string_view v) { target = v.empty() || parse_bool(v); },
         [&target] { return Shown{target ? "true" : "false"}; }});
    return *this;
  }
  Parser& text(std::string name, std::string& target, std::string metavar, std::string help) {
    if (!target.empty()) help = with_default(std::move(help), target);
    // An empty value over a non-empty default is shown (dumped as ""): a comment would
    // read back as the default.
    add({std::move(name), std::move(metavar), std::move(help), true, [&target](std::string_view v) { target = v; },
         [&target, def = target] { return target.empty() && def.empty() ? Shown{} : Shown{target}; }});
    return *this;
  }
  template <class T>
  Parser& integer(std::string name, T& target, std::type_identity_t<T> lo, std::type_identity_t<T> hi,
                  std::string help) {
    help = with_default(std::move(help), std::to_string(target));
    add({std::move(name), "N", std::move(help), true,
         [&target, lo, hi](std::string_view v) { target = parse_integer<T>(v, lo, hi); },
         [&target] { return Shown{std::to_string(target)}; }});
    return *this;
  }
  Parser& real(std::string name, double& target, double lo, double hi, std::string help) {
    char buf[32];
    (void)std::snprintf(buf, sizeof buf, "%g", target);  // %g: 13 characters at most
    help = with_default(std::move(help), buf);
    add({std::move(name), "X", std::move(help), true,
         [&target, lo, hi](std::string_view v) { target = parse_real(v, lo, hi); },
         [&target] {
           char b[40];
           (void)std::snprintf(b, sizeof b, "%.17g", target);  // round-trips a double; 24 characters at most
           return Shown{b};
         }});
    return *this;
  }
  /// Comma-separated integers in [lo, hi], e.g. --cpus 0,1.
  Parser& integer_list(std::string name, std::vector<int>& target, int lo, int hi, std::string help) {
    add({std::move(name), "A,B,...", std::move(help), true,
         [&target, lo, hi](std::string_view v) { target = parse_integer_list(v, lo, hi); },
         [&target] {
           std::string t;
           for (const int c : target) {
             if (!t.empty()) t += ',';
             t += std::to_string(c);
           }
           return t.empty() ? Shown{} : Shown{t};
         }});
    return *this;
  }
  /// One of `choices`.
  Parser& choice(std::string name, std::string& target, std::vector<std::string> choices, std::string help) {
    std::string meta;
    for (const auto& c : choices) meta += (meta.empty() ? "" : "|") + c;
    if (!target.empty()) help = with_default(std::move(help), target);
    add({std::move(name), meta, std::move(help), true,
         [&target, choices](std::string_view v) {
           for (const auto& c : choices) {
             if (v == c) {
               target = c;
               return;
             }
           }
           throw BadValue("'" + std::string(v) + "' is not one of " + [&] {
             std::string s;
             for (const auto& c : choices) s += (s.empty() ? "" : ", ") + c;
             return s;
           }());
         },
         [&target] { return target.empty() ? Shown{} : Shown{target}; }});
    return *this;
  }
  /// A file written by the program: opened while parsing (see the header).
  Parser& output(std::string name, OutputFile& target, std::string help) {
    outputs_.push_back(&target);
    add({std::move(name), "FILE", std::move(help), true,
         [&target](std::string_view v) {
           const std::string err = target.open(std::string(v));
           if (!err.empty()) throw BadValue(err);
         },
         [&target] { return target.is_set() ? Shown{target.path()} : Shown{}; }});
    return *this;
  }
  /// Anything else: `fn(value)` may throw BadValue. `show` gives the current value(s) for
  /// dump(), in the syntax `fn` accepts (one entry per line of a repeatable option; none:
  /// not set); without it the option is left out of dump().
  Parser& custom(std::string name, std::string metavar, std::string help, std::function<void(std::string_view)> fn,
                 std::function<Shown()> show = {}) {
    add({std::move(name), std::move(metavar), std::move(help), true, std::move(fn), std::move(show)});
    return *this;
  }
  /// Adds `--config FILE` (see the header for the syntax).
  Parser& config_file() {
    config_enabled_ = true;
    return *this;
  }
  /// Adds `--version`: prints `text` (and a newline) to stdout and exits 0.
  Parser& version(std::string text) {
    version_ = std::move(text);
    return *this;
  }
  /// A line of text in the usage after the options (examples, notes).
  Parser& note(std::string text) {
    notes_.push_back(std::move(text));
    return *this;
  }

  /// Parses argv[first..argc). On --help prints the usage and exits 0; on an error prints
  /// it with the usage to stderr and exits 2.
  void parse(int argc, char** argv, int first = 1) {
    std::vector<std::string_view> args;
    for (int i = first; i < argc; ++i) args.emplace_back(argv[i]);
    parse(args);
  }
  void parse(const std::vector<std::string_view>& args) {
    std::vector<std::string_view> rest;
    std::string config;
    bool help = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
      const std::string_view a = args[i];
      help = help || a == "--help" || a == "-h" || (a == "--version" && !version_.empty());
      const bool is_config = config_enabled_ && (a == "--config" || a.starts_with("--config="));
      if (!is_config) {
        rest.push_back(a);
      } else if (a == "--config") {
        if (i + 1 >= args.size()) fail("--config needs a value (FILE)");
        config = args[++i];
      } else {
        config = a.substr(9);
      }
    }
    if (!config.empty() && !help) load_config(config);  // first: the command line overrides it
    for (std::size_t i = 0; i < rest.size(); ++i) {
      std::string_view a = rest[i];
      if (a == "--help" || a == "-h") {
        std::fputs(usage().c_str(), stdout);
        std::exit(0);  // NOLINT(concurrency-mt-unsafe): see the file's opening comment
      }
      if (a == "--version" && !version_.empty()) {
        std::printf("%s\n", version_.c_str());
        std::exit(0);  // NOLINT(concurrency-mt-unsafe): see the file's opening comment
      }
      std::string_view value;
      bool inline_value = false;
      if (const std::size_t eq = a.find('='); a.rfind("--", 0) == 0 && eq != std::string_view::npos) {
        value = a.substr(eq + 1);
        a = a.substr(0, eq);
        inline_value = true;
      }
      const Option* opt = find(a);
      if (opt == nullptr) fail("unknown option '" + std::string(a) + "'");
      if (!opt->takes_value && inline_value) fail(opt->name + " takes no value");
      if (opt->takes_value && !inline_value) {
        if (i + 1 >= rest.size()) fail(opt->name + " needs a value (" + opt->metavar + ")");
        value = rest[++i];
      }
      try {
        opt->apply(value);
      } catch (const BadValue& e) {
        fail(opt->name + ": " + e.what());
      }
    }
  }

  /// Reads a config file (see the header): every `key = value` goes through its option's
  /// check; any error exits 2 naming the file and line.
  void load_config(const std::string& path) {
    errno = 0;
    std::ifstream in(path);
    if (!in) {
      fail("--config: cannot read " + path + ": " +
           (errno ? std::generic_category().message(errno) : std::string("unknown error")));
    }
    std::string line, prefix;
    for (int no = 1; std::getline(in, line); ++no) {
      const std::string where = path + ":" + std::to_string(no) + ": ";
      const std::string_view t = trim(line);
      if (t.empty() || t[0] == '#' || t[0] == ';') continue;
      if (t.front() == '[') {
        if (t.back() != ']') fail(where + "a section header must end with ']': '" + std::string(t) + "'");
        const std::string_view sec = trim(t.substr(1, t.size() - 2));
        prefix = sec.empty() ? std::string() : std::string(sec) + "-";
        continue;
      }
      const std::size_t eq = t.find('=');
      if (eq == std::string_view::npos) fail(where + "expected 'key = value', got '" + std::string(t) + "'");
      const std::string key = prefix + std::string(trim(t.substr(0, eq)));
      std::string_view value = trim(t.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
      const Option* opt = key.starts_with("-") ? nullptr : find("--" + key);
      if (opt == nullptr) {
        std::string what = where;
        what += "unknown key '";
        what += key;
        what += '\'';
        fail(what);
      }
      try {
        opt->apply(value);
      } catch (const BadValue& e) {
        fail(where + opt->name + ": " + e.what());
      }
    }
    if (in.bad()) fail("--config: reading " + path + " failed");
  }

  /// Every option's current value as config-file lines (`key = value`), in the order they
  /// were declared; an option with no value is a comment (`# key =`), so the text is itself
  /// a valid --config file. Options declared without a way to show their value are left out.
  [[nodiscard]] std::string dump() const {
    std::string s;
    for (const Option& o : options_) {
      if (!o.show) continue;
      const std::string key = o.name.substr(2);
      const Shown values = o.show();
      if (values.empty()) s += "# " + key + " =\n";
      for (const auto& v : values) {
        if (v.find('\n') != std::string::npos) {  // no line of the file can hold it
          s += "# " + key + " = (a value with a line break: not representable)\n";
          continue;
        }
        s += key;
        s += " = ";
        // Quoted when reading it back would change it: the loader trims blanks and removes
        // one pair of surrounding quotes, so an empty value, blanks at an end, or quotes at
        // both ends need a pair of their own.
        const bool quote =
            v.empty() || trim(v).size() != v.size() || (v.size() >= 2 && v.front() == '"' && v.back() == '"');
        if (quote) s += '"';
        s += v;
        if (quote) s += '"';
        s += '\n';
      }
    }
    return s;
  }

  [[nodiscard]] std::string usage() const {
    std::string s = "usage: " + program_ + " " + usage_line_ + "\n";
    if (!summary_.empty()) s += summary_ + "\n";
    s += "\noptions:\n";
    constexpr std::size_t kIndent = 30, kWidth = 100;
    for (const Option& o : options_) {
      std::string left = "  " + o.name + (o.takes_value ? " " + o.metavar : "");
      if (left.size() < kIndent)
        left.resize(kIndent, ' ');
      else
        left += "\n" + std::string(kIndent, ' ');
      // Wrap the help at word boundaries, continuation lines under its first column.
      std::string line;
      std::size_t start = 0;
      while (start < o.help.size()) {
        std::size_t end = o.help.find(' ', start);
        if (end == std::string::npos) end = o.help.size();
        const std::string word = o.help.substr(start, end - start);
        if (!line.empty() && kIndent + line.size() + 1 + word.size() > kWidth) {
          left += line + "\n" + std::string(kIndent, ' ');
          line.clear();
        }
        line += (line.empty() ? "" : " ") + word;
        start = end + 1;
      }
      s += left + line + "\n";
    }
    if (config_enabled_)
      s += "  --config FILE               read options from FILE (`key = value` lines; flags override it)\n";
    if (!version_.empty()) s += "  --version                   print the version and exit\n";
    s += "  --help                      this text\n";
    for (const auto& n : notes_) s += n + "\n";
    return s;
  }
  [[nodiscard]] const std::string& program() const noexcept { return program_; }

  /// Prints "PROGRAM: error: what" and the usage to stderr; exits 2.
  [[noreturn]] void fail(const std::string& what) const {
    for (OutputFile* o : outputs_) o->discard();  // std::exit runs no destructor: no PATH.tmp.<pid> left
    std::fprintf(stderr, "%s: error: %s\n\n%s", program_.c_str(), what.c_str(), usage().c_str());
    std::exit(2);  // NOLINT(concurrency-mt-unsafe): see the file's opening comment
  }

 private:
  struct Option {
    std::string name, metavar, help;
    bool takes_value;
    std::function<void(std::string_view)> apply;
    std::function<Shown()> show;  // empty: not in dump()
  };
  static std::string_view trim(std::string_view t) {
    while (!t.empty() && (t.front() == ' ' || t.front() == '\t' || t.front() == '\r')) t.remove_prefix(1);
    while (!t.empty() && (t.back() == ' ' || t.back() == '\t' || t.back() == '\r')) t.remove_suffix(1);
    return t;
  }
  // Appends "(default X)" unless the help already says what the default is.
  static std::string with_default(std::string help, const std::string& value) {
    if (help.find("default") != std::string::npos) return help;
    return help + " (default " + value + ")";
  }
  void add(Option o) {
    if (find(o.name) != nullptr) throw std::logic_error("cli: option " + o.name + " declared twice");
    options_.push_back(std::move(o));
  }
  [[nodiscard]] const Option* find(std::string_view name) const {
    for (const Option& o : options_) {
      if (o.name == name) return &o;
    }
    return nullptr;
  }

  std::string program_, usage_line_, summary_, version_;
  bool config_enabled_ = false;
  std::vector<Option> options_;
  std::vector<std::string> notes_;
  std::vector<OutputFile*> outputs_;  // output() targets: fail() removes their temporary files
};

}  // namespace hft::cli
