// md_fanout: market-data fan-out over a BroadcastRing in shared memory, and how a feed handler
// recovers from a gap.
//
//   md_fanout feed --channel NAME [options]    publish the seeded deep-book L3 stream, with an
//                                              L2 snapshot every N events
//   md_fanout reader --channel NAME [options]  keep a book from the stream, check it at every
//                                              snapshot; --slow-us N makes it lag on purpose
//   md_fanout demo [options]                   a feed and three readers (one slow), one report;
//                                              exit 0 only when it says VERIFIED
//
// Exit status: 0 on success, 1 on a digest mismatch, a protocol error or a failed demo, 2 on a
// usage error.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "cli.hpp"
#include "feed.hpp"
#include "reader.hpp"
#include "util.hpp"

namespace {

constexpr const char* kUsage =
    "usage: md_fanout COMMAND [options]\n"
    "Market-data fan-out over an hft::ipc::BroadcastRing: one feed, any number of readers in other\n"
    "processes, and the recovery of a reader the feed laps (it drops its book and rebuilds it from the\n"
    "next snapshot).\n"
    "\n"
    "commands:\n"
    "  feed     publish the seeded deep-book stream of MarketDataGenerator on --channel NAME\n"
    "  reader   keep a TickWindowBookL2 from --channel NAME; check it against every snapshot\n"
    "  demo     a feed and three readers (one slow), then a report; exit 0 only when VERIFIED\n"
    "\n"
    "md_fanout COMMAND --help lists the options of each.\n";

bool power_of_two(std::uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

void add_ring_option(hft::cli::Parser& cli, std::uint64_t& ring_kib) {
  cli.integer("--ring-kib", ring_kib, 1, 1u << 21,
              "ring capacity in KiB, a power of two (the feed's and every reader's must agree)");
}

void add_feed_options(hft::cli::Parser& cli, md_fanout::FeedOptions& o) {
  cli.integer("--seed", o.seed, 0, UINT64_MAX, "the generator's seed: the same seed, the same stream")
      .integer("--rate", o.rate, 1, 10'000'000, "events per second (paced; sleeps between them)")
      .integer("--snapshot-every", o.snapshot_every, 1, UINT64_MAX, "an L2 snapshot every N events")
      .integer("--warmup", o.warmup, 0, 100'000'000, "generator messages applied before publishing (a deep book)")
      .integer("--corrupt-add", o.corrupt_add, 0, UINT64_MAX,
               "publish the first Add from event N on with a wrong quantity, to see the readers catch it");
  add_ring_option(cli, o.ring_kib);
}

int cmd_feed(int argc, char** argv) {
  md_fanout::FeedOptions o;
  hft::cli::Parser cli("md_fanout feed", "--channel NAME [options]",
                       "Creates the ring NAME and publishes the seeded deep-book stream into it, with an L2\n"
                       "snapshot every N events; removes the ring at the end or on SIGINT/SIGTERM.");
  cli.text("--channel", o.channel, "NAME", "the ring's name (a POSIX shared-memory object; required)")
      .integer("--events", o.events, 0, UINT64_MAX, "events to publish; 0: until SIGINT/SIGTERM")
      .integer("--report-ms", o.report_ms, 1, 3'600'000, "print the rates every N ms");
  add_feed_options(cli, o);
  cli.parse(argc, argv, 2);
  if (o.channel.empty()) cli.fail("--channel is required");
  if (!power_of_two(o.ring_kib)) cli.fail("--ring-kib must be a power of two, got " + std::to_string(o.ring_kib));
  return md_fanout::run_feed(o).status;
}

int cmd_reader(int argc, char** argv) {
  md_fanout::ReaderOptions o;
  hft::cli::Parser cli("md_fanout reader", "--channel NAME [options]",
                       "Keeps a TickWindowBookL2 from the feed on NAME, checks its digest at every snapshot,\n"
                       "prints rates and publish -> applied latency per interval; a lapped reader drops its book\n"
                       "and rebuilds it from the next snapshot. Exit 1 on a digest mismatch or a protocol error.");
  cli.text("--channel", o.channel, "NAME", "the feed's ring (waits up to --open-timeout-ms for it; required)")
      .text("--name", o.name, "LABEL", "the label of this reader's lines")
      .integer("--slow-us", o.slow_us, 0, 1'000'000, "take N us per applied message, to be lapped on purpose")
      .integer("--report-ms", o.report_ms, 1, 3'600'000, "print the rates every N ms")
      .integer("--open-timeout-ms", o.open_timeout_ms, 0, 3'600'000, "wait this long for the feed's ring")
      .flag("--quiet", o.quiet, "no per-interval lines")
      .flag("--busy-poll", o.busy_poll, "poll the ring instead of sleeping on it (a core of its own)");
  add_ring_option(cli, o.ring_kib);
  cli.parse(argc, argv, 2);
  if (o.channel.empty()) cli.fail("--channel is required");
  if (!power_of_two(o.ring_kib)) cli.fail("--ring-kib must be a power of two, got " + std::to_string(o.ring_kib));
  return md_fanout::run_reader(o).status;
}

// A child process that runs `fn` and sends its summary (a trivially copyable struct) back
// through a pipe; fork without exec, so the child runs the same code as `md_fanout reader`.
struct Child {
  pid_t pid = -1;
  int fd = -1;
  int status = -1;  // the exit status once reaped
};

template <class Summary, class Fn>
Child spawn(const char* what, Fn fn) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::system_error(errno, std::generic_category(), "pipe");
  (void)std::fflush(stdout);  // else the child would print the parent's buffered text again
  const pid_t pid = ::fork();
  if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
  if (pid == 0) {
    ::close(fds[0]);
    int status = 1;
    try {
      const Summary s = fn();
      // Under PIPE_BUF bytes: one write, never partial, and it cannot block on an empty pipe.
      if (::write(fds[1], &s, sizeof s) == static_cast<ssize_t>(sizeof s)) status = s.status;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "md_fanout %s: error: %s\n", what, e.what());
    }
    (void)std::fflush(stdout);
    ::_exit(status);  // not exit: the parent's atexit handlers and static objects are not ours
  }
  ::close(fds[1]);
  return {pid, fds[0], -1};
}

template <class Summary>
bool collect(const Child& c, Summary& out) {
  const ssize_t n = ::read(c.fd, &out, sizeof out);
  ::close(c.fd);
  return n == static_cast<ssize_t>(sizeof out);
}

int cmd_demo(int argc, char** argv) {
  md_fanout::FeedOptions fo;
  fo.events = 30'000;
  std::uint64_t slow_us = 250, timeout_s = 60;
  hft::cli::Parser cli("md_fanout demo", "[options]",
                       "Starts a feed and three readers, one of them slow enough to be lapped, waits for all\n"
                       "of them and prints a report. Exit 0 only when it says VERIFIED: every snapshot after a\n"
                       "(re)build matched the feed's digest, and the slow reader lapped and rebuilt its book.");
  cli.integer("--events", fo.events, 1, 100'000'000, "events the feed publishes")
      .integer("--slow-us", slow_us, 1, 1'000'000, "the slow reader's time per applied message")
      .integer("--timeout-s", timeout_s, 1, 3600, "stop every process and fail after this long");
  add_feed_options(cli, fo);
  cli.parse(argc, argv, 2);
  if (!power_of_two(fo.ring_kib)) cli.fail("--ring-kib must be a power of two, got " + std::to_string(fo.ring_kib));
  if (fo.rate * slow_us <= 1'000'000)
    cli.fail("--slow-us " + std::to_string(slow_us) + " keeps up with --rate " + std::to_string(fo.rate) +
             ": the slow reader would never be lapped");

  // The pid makes the name unique per run: two demos (g++ and clang++ builds under ctest -j)
  // never open each other's ring.
  fo.channel = "hft_md_fanout_" + std::to_string(::getpid());
  std::printf(
      "md_fanout demo: a feed and 3 readers on %s: ring %llu KiB, %llu events at %llu/s, a snapshot every %llu "
      "events; reader \"slow\" takes %llu us per message (%llu/s)\n",
      fo.channel.c_str(), static_cast<unsigned long long>(fo.ring_kib), static_cast<unsigned long long>(fo.events),
      static_cast<unsigned long long>(fo.rate), static_cast<unsigned long long>(fo.snapshot_every),
      static_cast<unsigned long long>(slow_us), static_cast<unsigned long long>(1'000'000 / slow_us));

  const std::array<const char*, 3> names{"fast-1", "fast-2", "slow"};
  std::vector<Child> readers;
  // Readers first: they wait for the ring, so none misses the feed's first snapshot.
  for (const char* name : names) {
    md_fanout::ReaderOptions ro;
    ro.channel = fo.channel;
    ro.name = name;
    ro.ring_kib = fo.ring_kib;
    ro.slow_us = std::string(name) == "slow" ? slow_us : 0;
    readers.push_back(spawn<md_fanout::ReaderSummary>(name, [ro] { return md_fanout::run_reader(ro); }));
  }
  Child feed = spawn<md_fanout::FeedSummary>("feed", [fo] { return md_fanout::run_feed(fo); });

  // Wait for all, bounded: a hung child must fail the demo, not the CI job's timeout.
  std::vector<Child*> all{&feed};
  for (Child& r : readers) all.push_back(&r);
  const std::uint64_t deadline = md_fanout::now_ns() + timeout_s * 1'000'000'000ULL;
  bool timed_out = false;
  for (std::size_t left = all.size(); left > 0;) {
    for (Child* c : all) {
      int st = 0;
      if (c->status == -1 && ::waitpid(c->pid, &st, WNOHANG) == c->pid) {
        c->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        --left;
      }
    }
    if (left == 0) break;
    if (!timed_out && md_fanout::now_ns() > deadline) {
      timed_out = true;
      std::printf("md_fanout demo: still running after %llu s: stopping every process\n",
                  static_cast<unsigned long long>(timeout_s));
      for (Child* c : all) {
        if (c->status == -1) (void)::kill(c->pid, SIGKILL);  // only our own children, by pid
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  (void)hft::ipc::SharedRegion::remove(fo.channel);  // the feed removed it unless it died

  md_fanout::FeedSummary fs{};
  const bool feed_ok = collect(feed, fs) && feed.status == 0;
  std::vector<std::string> failures;
  if (timed_out) failures.push_back("timed out");
  if (!feed_ok) failures.push_back("the feed failed (exit " + std::to_string(feed.status) + ")");

  std::printf("\nreport\n");
  std::printf("  feed: %llu events, %llu snapshots, %llu messages (%.2f MB) in %.2f s; final book %llu levels\n",
              static_cast<unsigned long long>(fs.events), static_cast<unsigned long long>(fs.snapshots),
              static_cast<unsigned long long>(fs.messages), static_cast<double>(fs.bytes) * 1e-6, fs.seconds,
              static_cast<unsigned long long>(fs.levels));
  std::printf("  %-7s %9s %9s %8s %7s %9s %9s %5s %10s %9s %9s  %s\n", "reader", "messages", "applied", "skipped",
              "builds", "rebuilds", "verified", "laps", "lost msgs", "p50 us", "p99 us", "result");
  std::uint64_t slow_laps = 0, slow_rebuilds = 0, slow_lost = 0, slow_after = 0;
  for (std::size_t i = 0; i < readers.size(); ++i) {
    md_fanout::ReaderSummary s{};
    const bool got = collect(readers[i], s);
    const bool slow = std::string(names[i]) == "slow";
    std::string why;
    // The most telling reason first: a mismatch also makes the reader exit 1.
    if (got && s.mismatches != 0)
      why = "digest mismatch";
    else if (!got || readers[i].status != 0)
      why = "exit " + std::to_string(readers[i].status);
    else if (!s.end_seen)
      why = "no end of stream";
    else if (s.builds == 0)
      why = "never built a book";
    else if (!slow && s.verified == 0)
      why = "no snapshot verified";
    else if (slow && s.laps == 0)
      why = "never lapped";
    else if (slow && s.recoveries == 0)
      why = "never rebuilt after a lap";
    if (slow) {
      slow_laps = s.laps;
      slow_rebuilds = s.recoveries;
      slow_lost = s.messages_lost;
      slow_after = s.verified_after_rebuild;
    }
    if (!why.empty()) failures.push_back(std::string(names[i]) + ": " + why);
    std::printf("  %-7s %9llu %9llu %8llu %7llu %9llu %9llu %5llu %10llu %9.1f %9.1f  %s\n", names[i],
                static_cast<unsigned long long>(s.messages), static_cast<unsigned long long>(s.applied),
                static_cast<unsigned long long>(s.skipped), static_cast<unsigned long long>(s.builds),
                static_cast<unsigned long long>(s.rebuilds), static_cast<unsigned long long>(s.verified),
                static_cast<unsigned long long>(s.laps), static_cast<unsigned long long>(s.messages_lost),
                static_cast<double>(s.p50_ns) * 1e-3, static_cast<double>(s.p99_ns) * 1e-3,
                why.empty() ? "ok" : why.c_str());
  }
  if (!failures.empty()) {
    std::printf("FAILED:");
    for (const std::string& f : failures) std::printf(" %s;", f.c_str());
    std::printf("\n");
    return 1;
  }
  std::printf(
      "VERIFIED: every snapshot after a (re)build matched the feed's digest; \"slow\" was lapped %llu times (%llu "
      "messages lost), rebuilt its book %llu times from the next snapshot, and matched the feed again at %llu later "
      "snapshots\n",
      static_cast<unsigned long long>(slow_laps), static_cast<unsigned long long>(slow_lost),
      static_cast<unsigned long long>(slow_rebuilds), static_cast<unsigned long long>(slow_after));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Line-buffered: each process's lines reach the shared stdout whole and in time.
  (void)std::setvbuf(stdout, nullptr, _IOLBF, 0);
  try {
    const std::string cmd = argc > 1 ? argv[1] : "";
    if (cmd == "--help" || cmd == "-h" || cmd == "help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (cmd == "feed") return cmd_feed(argc, argv);
    if (cmd == "reader") return cmd_reader(argc, argv);
    if (cmd == "demo") return cmd_demo(argc, argv);
    std::fprintf(stderr, "md_fanout: error: %s\n%s",
                 cmd.empty() ? "a COMMAND is required" : ("unknown command '" + cmd + "'").c_str(), kUsage);
    return 2;
  } catch (const std::exception& e) {
    return hft::cli::report_fatal("md_fanout", e);
  }
}
