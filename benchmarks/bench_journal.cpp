// bench_journal: hft::Journal next to the append loops people write instead: write(2) of
// each record to an O_APPEND file, and stdio fwrite (buffered). Every implementation writes
// the same bytes per record (a 24-byte header and the payload); only the journal also
// computes a CRC32C and makes each record visible to readers in other processes as it is
// committed. See docs/journal.md.
//
// Cases:
//   append_<N>B      ns per record and GB/s, durability none, inside one preallocated
//                    segment (a segment roll is measured on its own: segment_roll)
//   segment_roll     the append that rolls to a new 64 MiB segment: with the spare the
//                    background thread prepared, and creating it on the writer's thread
//   tail_latency     writer -> tailer in another process, half of a ping-pong round trip
//                    through two journals (both sides busy-spin: two threads, two cores),
//                    next to the same ping-pong over two pipes
//   durable_256B     records/s with batch (group commit every 1 ms) and every (msync per
//                    record), and this disk's cost of one fdatasync
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"
#include "hft/core/cpu.hpp"
#include "hft/journal/journal.hpp"
#include "hft/journal/journal_reader.hpp"

namespace {

using hft::bench::Metrics;

std::string scratch_dir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/hft_bench_journal_XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  return tmpl;
}

struct Scratch {
  std::string path = scratch_dir();
  ~Scratch() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

constexpr std::size_t kHeader = 24;

Metrics append_metrics(double ns, std::size_t payload) {
  return {{"", ns}, {"GB/s", static_cast<double>(kHeader + payload) / ns}};
}

// The bytes per round, so every size writes about the same volume.
std::uint64_t records_for(std::size_t payload, bool quick) {
  return (quick ? (8u << 20) : (64u << 20)) / (kHeader + payload);
}

// caller_ts: the caller supplies the timestamp (commit(len, ts)), as a system that stamps
// every message on receipt would; otherwise the journal reads the TSC per record.
Metrics journal_append(std::size_t payload, bool quick, bool caller_ts) {
  Scratch dir;
  const std::uint64_t n = records_for(payload, quick);
  hft::Journal j(dir.path, {.segment_size = (n * hft::detail::record_size(payload) + (1u << 20)) & ~std::size_t{4095}});
  std::vector<std::byte> p(payload, std::byte{0x42});
  const double ns = hft::bench::ns_per_call(n, [&](std::uint64_t i) {
    p[0] = static_cast<std::byte>(i);
    if (caller_ts) {
      auto dst = j.claim(payload);
      std::memcpy(dst.data(), p.data(), payload);
      (void)j.commit(payload, i);
    } else {
      (void)j.append(p);
    }
  });
  if (j.stats().segments_created != 1) throw std::logic_error("bench_journal: the timed loop rolled a segment");
  return append_metrics(ns, payload);
}

Metrics write_append(std::size_t payload, bool quick) {
  Scratch dir;
  const std::uint64_t n = records_for(payload, quick);
  const std::string path = dir.path + "/log";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("open " + path + ": " + std::strerror(errno));
  std::vector<std::byte> rec(kHeader + payload, std::byte{0x42});
  const double ns = hft::bench::ns_per_call(n, [&](std::uint64_t i) {
    std::memcpy(rec.data() + 8, &i, 8);
    if (::write(fd, rec.data(), rec.size()) != static_cast<ssize_t>(rec.size())) std::abort();
  });
  ::close(fd);
  return append_metrics(ns, payload);
}

Metrics fwrite_append(std::size_t payload, bool quick) {
  Scratch dir;
  const std::uint64_t n = records_for(payload, quick);
  const std::string path = dir.path + "/log";
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) throw std::runtime_error("fopen " + path);
  std::vector<std::byte> rec(kHeader + payload, std::byte{0x42});
  const auto t0 = std::chrono::steady_clock::now();
  for (std::uint64_t i = 0; i < n; ++i) {
    std::memcpy(rec.data() + 8, &i, 8);
    if (std::fwrite(rec.data(), 1, rec.size(), f) != rec.size()) std::abort();
  }
  std::fflush(f);  // the records reach the kernel (what the journal's commit gives readers)
  const double ns =
      std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() / static_cast<double>(n);
  std::fclose(f);
  return append_metrics(ns, payload);
}

// The one append that rolls to a new 64 MiB segment, timed on the writer's thread: with
// the spare the background thread prepared (a rename), or without (the whole creation).
Metrics segment_roll(bool prepared) {
  Scratch dir;
  constexpr std::size_t kSegment = std::size_t{64} << 20;
  hft::Journal j(dir.path, {.segment_size = kSegment, .prepare_next = prepared});
  std::vector<std::byte> p(60'000, std::byte{1});  // about 1,100 records per segment
  while (prepared && !j.next_segment_ready()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  for (;;) {
    const auto t0 = std::chrono::steady_clock::now();
    (void)j.append(p);
    const auto t1 = std::chrono::steady_clock::now();
    if (j.stats().rolls == 1) {
      if (prepared && j.stats().rolls_unprepared != 0) throw std::logic_error("bench_journal: the spare was not ready");
      return {{"", std::chrono::duration<double, std::micro>(t1 - t0).count()}};
    }
  }
}

// ---- cross-process ping-pong ----------------------------------------------------------------

// The child echoes every record of `in` into `out` until it sees `n` records.
[[noreturn]] void journal_echo(const std::string& in, const std::string& out, std::uint64_t n, int cpu) {
  try {
    hft::pin_current_thread(cpu);
    hft::Journal j(out, {.segment_size = 64u << 20});
    hft::JournalReader r(in);
    std::uint64_t seen = 0;
    while (seen < n) {
      seen += r.poll([&](const hft::JournalRecord& rec) { (void)j.append(rec.payload); });
      hft::cpu_relax();
    }
  } catch (...) {
    ::_exit(3);
  }
  ::_exit(0);
}

Metrics journal_ping_pong(bool quick, const std::vector<int>& cpus) {
  Scratch dir;
  const std::uint64_t n = quick ? 5'000 : 100'000;
  const std::string a = dir.path + "/a", b = dir.path + "/b";
  hft::Journal out(a, {.segment_size = 64u << 20});  // exists before the child reads it
  std::filesystem::create_directories(b);
  const pid_t child = ::fork();
  if (child < 0) throw std::runtime_error("fork failed");
  if (child == 0) journal_echo(a, b, n, cpus[1]);
  hft::pin_current_thread(cpus[0]);
  hft::JournalReader in(b);
  std::vector<std::uint64_t> ticks;
  ticks.reserve(n);
  std::byte payload[64] = {};
  for (std::uint64_t i = 0; i < n; ++i) {
    const std::uint64_t t0 = hft::bench::TickTimer::now();
    (void)out.append(payload, sizeof payload);
    while (in.poll([](const hft::JournalRecord&) {}, 1) == 0) hft::cpu_relax();
    ticks.push_back((hft::bench::TickTimer::now() - t0) / 2);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw std::runtime_error("journal echo child failed");
  auto m = hft::bench::round_trip_metrics(ticks);
  m.resize(2);  // p50, p99
  return m;
}

Metrics pipe_ping_pong(bool quick, const std::vector<int>& cpus) {
  const std::uint64_t n = quick ? 5'000 : 100'000;
  int there[2], back[2];
  if (::pipe(there) != 0 || ::pipe(back) != 0) throw std::runtime_error("pipe failed");
  const pid_t child = ::fork();
  if (child < 0) throw std::runtime_error("fork failed");
  char buf[64 + kHeader] = {};
  if (child == 0) {
    hft::pin_current_thread(cpus[1]);
    for (std::uint64_t i = 0; i < n; ++i) {
      std::size_t got = 0;
      while (got < sizeof buf) got += static_cast<std::size_t>(::read(there[0], buf + got, sizeof buf - got));
      if (::write(back[1], buf, sizeof buf) != static_cast<ssize_t>(sizeof buf)) ::_exit(3);
    }
    ::_exit(0);
  }
  hft::pin_current_thread(cpus[0]);
  std::vector<std::uint64_t> ticks;
  ticks.reserve(n);
  for (std::uint64_t i = 0; i < n; ++i) {
    const std::uint64_t t0 = hft::bench::TickTimer::now();
    if (::write(there[1], buf, sizeof buf) != static_cast<ssize_t>(sizeof buf)) std::abort();
    std::size_t got = 0;
    while (got < sizeof buf) got += static_cast<std::size_t>(::read(back[0], buf + got, sizeof buf - got));
    ticks.push_back((hft::bench::TickTimer::now() - t0) / 2);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  for (int fd : {there[0], there[1], back[0], back[1]}) ::close(fd);
  auto m = hft::bench::round_trip_metrics(ticks);
  m.resize(2);
  return m;
}

// ---- durable policies -----------------------------------------------------------------------

Metrics durable_records_per_sec(hft::Durability d, bool quick) {
  Scratch dir;
  const std::uint64_t n = d == hft::Durability::every ? (quick ? 200 : 2'000) : (quick ? 20'000 : 200'000);
  std::vector<std::byte> p(256, std::byte{7});
  const auto t0 = std::chrono::steady_clock::now();
  {
    hft::Journal j(dir.path,
                   {.segment_size = 256u << 20, .durability = d, .batch_interval = std::chrono::milliseconds(1)});
    for (std::uint64_t i = 0; i < n; ++i) (void)j.append(p);
    while (j.durable_sequence() < n) std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return {{"", static_cast<double>(n) / s}};
}

Metrics one_fdatasync(bool quick) {
  Scratch dir;
  const std::string path = dir.path + "/sync";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("open " + path);
  char block[4096] = {};
  const int n = quick ? 50 : 500;
  const double us =
      hft::bench::ns_per_call(static_cast<std::uint64_t>(n),
                              [&](std::uint64_t i) {
                                block[0] = static_cast<char>(i);
                                if (::pwrite(fd, block, sizeof block, 0) != sizeof block || ::fdatasync(fd) != 0)
                                  std::abort();
                              }) /
      1000.0;
  ::close(fd);
  return {{"", us}};
}

}  // namespace

int main(int argc, char** argv) {
  return hft::bench::run_suite(argc, argv, "bench_journal", [](hft::bench::Suite& suite) {
    const bool quick = suite.options().quick;
    const auto cpus = suite.options().cpus;
    for (std::size_t size : {64u, 256u, 1024u}) {
      const std::string c = "append_" + std::to_string(size) + "B";
      suite.add_case(c, {{"", "ns/record", false}, {"GB/s", "GB/s", true}},
                     {
                         {"hft::Journal (none)", [=] { return journal_append(size, quick, false); }},
                         {"hft::Journal (none, caller's timestamp)", [=] { return journal_append(size, quick, true); }},
                         {"write(2) per record", [=] { return write_append(size, quick); }},
                         {"fwrite (stdio buffer)", [=] { return fwrite_append(size, quick); }},
                     });
    }
    suite.add_case("segment_roll", {{"", "us (the append that rolls, 64 MiB)", false}},
                   {
                       {"hft::Journal, spare prepared (default)", [] { return segment_roll(true); }},
                       {"hft::Journal, prepare_next = false", [] { return segment_roll(false); }},
                   });
    suite.add_case(
        "tail_latency", {{"p50", "ns", false}, {"p99", "ns", false}},
        {
            {"hft::Journal -> JournalReader (other process)", [=] { return journal_ping_pong(quick, cpus); }},
            {"pipe (other process)", [=] { return pipe_ping_pong(quick, cpus); }},
        });
    suite.add_case(
        "durable_256B", {{"", "records/s", true}},
        {
            {"hft::Journal batch (1 ms)", [=] { return durable_records_per_sec(hft::Durability::batch, quick); }},
            {"hft::Journal every", [=] { return durable_records_per_sec(hft::Durability::every, quick); }},
        });
    suite.add_case("fdatasync", {{"", "us", false}},
                   {{"pwrite 4 KiB + fdatasync", [=] { return one_fdatasync(quick); }}});

    suite.add_absolute("append_64B", "hft::Journal (none)", hft::bench::Target::at_most(30.0), "append 64 B, ns");
    suite.add_absolute("append_64B", "hft::Journal (none, caller's timestamp)", hft::bench::Target::at_most(30.0),
                       "append 64 B with the caller's timestamp, ns");
    suite.add_ratio("append_256B/GB/s", "hft::Journal (none)", "write(2) per record", hft::bench::Target::at_least(1.5),
                    "256 B throughput: Journal / write(2) loop");
    suite.add_ratio("append_256B/GB/s", "hft::Journal (none)", "fwrite (stdio buffer)",
                    hft::bench::Target::at_least(1.0), "256 B throughput: Journal / fwrite");
    suite.add_absolute("tail_latency/p50", "hft::Journal -> JournalReader (other process)",
                       hft::bench::Target::at_most(1000.0), "cross-process tail latency p50, ns");
    suite.add_ratio("durable_256B", "hft::Journal batch (1 ms)", "hft::Journal every",
                    hft::bench::Target::at_least(10.0), "records/s: batch / every");
    suite.run_and_report();
  });
}
