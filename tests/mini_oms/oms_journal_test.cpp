// The mini-OMS with --journal (docs/journal.md, "The mini-OMS, journaled"): a re-sent
// request gets its original reply after a restart and executes nothing, numbering
// continues, the books replay, a reply waits until its record is durable, and the whole
// pipeline survives 20 kill -9 / restart cycles under `loadgen --reconnect` with every
// family numbered exactly once and the final books equal to a replay from scratch.
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <future>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "../journal/journal_support.hpp"
#include "../support/catch.hpp"
#include "../support/scale.hpp"
#include "loadgen.hpp"
#include "server.hpp"

using namespace mini_oms;
using hft::test::TempDir;
using mini_oms::detail_lg::try_connect;

namespace {

ServerConfig journaled(const std::string& dir, hft::Durability d = hft::Durability::none) {
  ServerConfig c;
  c.partitions = 2;
  c.workers = 2;
  c.ring_size = 1024;
  c.family_table = 1u << 14;
  c.journal_dir = dir;
  c.durability = d;
  return c;
}

// Sends the lines on one connection and returns the replies, in arrival order.
std::vector<std::string> exchange(std::uint16_t port, const std::vector<std::string>& lines) {
  const int fd = net::connect_tcp("127.0.0.1", port, false);
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  REQUIRE(::send(fd, out.data(), out.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(out.size()));
  std::vector<std::string> replies;
  std::string in;
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char buf[4096];
  while (replies.size() < lines.size()) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    in.append(buf, static_cast<std::size_t>(n));
    for (std::size_t nl; (nl = in.find('\n')) != std::string::npos; in.erase(0, nl + 1))
      replies.push_back(in.substr(0, nl));
  }
  ::close(fd);
  return replies;
}

std::string reply_of(const std::vector<std::string>& replies, const std::string& req_id) {
  for (const auto& r : replies) {
    if (r.rfind(req_id + " ", 0) == 0) return r;
  }
  return "(none)";
}

std::uint64_t duplicates(const Server& s) {
  std::uint64_t n = 0;
  for (unsigned p = 0; p < s.config().partitions; ++p) n += s.partition_counter(p, Count::Duplicates);
  return n;
}

}  // namespace

TEST_CASE("mini-OMS journal: a re-send gets its original reply, numbering continues", "[mini_oms][journal]") {
  const auto policy = GENERATE(hft::Durability::none, hft::Durability::batch, hft::Durability::every);
  CAPTURE(static_cast<int>(policy));
  TempDir t;
  const std::vector<std::string> first = {
      "1 7 AAPL B 300 187.40",  // crosses three venue levels
      "2 7 AAPL B 100 187.40",  // family 7: seq 2
      "3 8 MSFT S 10 500",      // RISK_PRICE: takes seq 1 of family 8
      "4 -1 AAPL S 50 187.00",  // uncorrelated
      "5 9 GOOG S 20 140.05",
  };
  std::vector<std::string> before;
  std::uint64_t digest_before = 0;
  {
    Server s(journaled(t.path(), policy));
    REQUIRE(s.replayed().records == 0);
    s.start();
    before = exchange(s.port(), first);
    REQUIRE(before.size() == first.size());
    REQUIRE(reply_of(before, "2").rfind("2 ACK 2 ", 0) == 0);
    // Within the same run, a re-send is answered from the window too.
    const auto again = exchange(s.port(), {"2 7 AAPL B 100 187.40"});
    REQUIRE(again == std::vector<std::string>{reply_of(before, "2")});
    REQUIRE(duplicates(s) == 1);
    s.stop();
    digest_before = s.book_digest();
  }
  std::uint64_t digest_after = 0;
  {
    Server s(journaled(t.path(), policy));
    REQUIRE(s.replayed().records == 5);  // every execution, rejects included; no duplicate
    REQUIRE(s.replayed().mismatches == 0);
    REQUIRE(s.book_digest() == digest_before);  // the books came back
    s.start();
    const auto after = exchange(s.port(), {"1 7 AAPL B 300 187.40", "3 8 MSFT S 10 500", "5 9 GOOG S 20 140.05",
                                           "6 7 AAPL B 100 187.40", "7 8 MSFT S 10 410.50"});
    REQUIRE(after.size() == 5);
    for (const char* id : {"1", "3", "5"}) REQUIRE(reply_of(after, id) == reply_of(before, id));
    REQUIRE(duplicates(s) == 3);                              // executed nothing
    REQUIRE(reply_of(after, "6").rfind("6 ACK 3 ", 0) == 0);  // family 7 continues at 3
    REQUIRE(reply_of(after, "7").rfind("7 ACK 2 ", 0) == 0);  // family 8: its REJ took 1
    // The uncorrelated request is excluded from the window (docs/protocol.md): a re-send
    // executes again, with its own seq 1.
    REQUIRE(exchange(s.port(), {"4 -1 AAPL S 50 187.00"}).at(0).rfind("4 ACK 1 ", 0) == 0);
    s.stop();
    digest_after = s.book_digest();
  }
  Server replay(journaled(t.path(), policy));  // from scratch, never started
  REQUIRE(replay.replayed().records == 8);
  REQUIRE(replay.replayed().mismatches == 0);
  REQUIRE(replay.book_digest() == digest_after);
}

TEST_CASE("mini-OMS journal batch: a reply leaves only once its record is durable", "[mini_oms][journal]") {
  TempDir t;
  Server s(journaled(t.path(), hft::Durability::batch));
  s.start();
  for (int round = 0; round < 20; ++round) {
    const std::string id = std::to_string(100 + round);
    const auto r = exchange(s.port(), {id + " 11 AAPL B 10 187.40"});
    REQUIRE(r.size() == 1);
    // The reply is in our hands, so its record (the round-th) must already be durable.
    REQUIRE(s.journal()->durable_sequence() >= static_cast<std::uint64_t>(round + 1));
  }
  s.stop();
}

TEST_CASE("mini-OMS journal: a journal that is not the mini-OMS's is refused", "[mini_oms][journal]") {
  TempDir t;
  {
    hft::Journal j(t.path());
    (void)j.append("not an execution record", 23);
  }
  REQUIRE_THROWS_WITH(Server(journaled(t.path())), Catch::Contains("not mini-OMS execution records"));
}

// Journals written by builds before the binary record ("EOM1": the request line and the
// reply text after the header) still replay: the test rewrites a journal of the current
// format ("EOM2") into the old layout and restarts on it.
TEST_CASE("mini-OMS journal: records of the EOM1 text format still replay", "[mini_oms][journal]") {
  TempDir now, old;
  const std::vector<std::string> first = {
      "1 7 AAPL B 300 187.40", "2 7 AAPL B 100 187.40", "3 8 MSFT S 10 500",
      "4 -1 AAPL S 50 187.00", "5 9 GOOG S 20 140.05",  "6 9 GOOG S 20 1x",
  };
  std::vector<std::string> before;
  std::uint64_t digest_before = 0;
  {
    Server s(journaled(now.path()));
    s.start();
    before = exchange(s.port(), first);
    REQUIRE(before.size() == first.size());
    s.stop();
    digest_before = s.book_digest();
  }
  std::size_t converted = 0;
  {
    hft::Journal out(old.path());
    hft::JournalReader in(now.path(), {});
    while (in.poll([&](const hft::JournalRecord& r) {
      const auto v = decode_exec(r.payload);
      REQUIRE(v);
      REQUIRE(v->h.magic == kExecMagic);
      REQUIRE(v->line.empty());
      // The order as the old build wrote it: its line (an invalid order's is `<req> <corr> !`).
      Order o;
      o.req_id = v->h.req_id;
      o.corr = v->h.correlated != 0 ? static_cast<std::int64_t>(v->h.family) : -1;
      o.valid = v->order.has_value();
      if (v->order) o = *v->order;
      char line[kMaxReply], reply[kMaxReply];
      ExecHeader h = v->h;
      h.magic = kExecMagicText;
      h.line_len = static_cast<std::uint16_t>(format_order(line, o));
      h.reply_len = static_cast<std::uint16_t>(format_execution(reply, execution_of(v->h)));
      std::string payload(reinterpret_cast<const char*>(&h), sizeof h);
      payload.append(line, h.line_len).append(reply, h.reply_len);
      (void)out.append(payload.data(), payload.size());
      ++converted;
    }) > 0) {
    }
  }
  REQUIRE(converted == first.size());
  Server s(journaled(old.path()));
  REQUIRE(s.replayed().records == first.size());
  REQUIRE(s.replayed().mismatches == 0);
  REQUIRE(s.book_digest() == digest_before);
  s.start();
  const auto after = exchange(s.port(), {"1 7 AAPL B 300 187.40", "6 9 GOOG S 20 1x", "7 7 AAPL B 100 187.40"});
  REQUIRE(after.size() == 3);
  REQUIRE(reply_of(after, "1") == reply_of(before, "1"));
  REQUIRE(reply_of(after, "6") == reply_of(before, "6"));
  REQUIRE(reply_of(after, "7").rfind("7 ACK 3 ", 0) == 0);  // family 7 continues at 3
  REQUIRE(duplicates(s) == 2);
  s.stop();
}

// A family evicted from the family table and back keeps its re-sends answered from the
// window: the lookup is skipped only for a req_id above every one the family can have used.
TEST_CASE("mini-OMS journal: re-sends after a family's eviction", "[mini_oms][journal]") {
  TempDir t;
  ServerConfig c = journaled(t.path());
  c.partitions = 1;
  c.family_table = 4;
  Server s(c);
  s.start();
  const auto first = exchange(s.port(), {"10 1 AAPL B 10 187.40"});
  REQUIRE(first.size() == 1);
  for (int f = 2; f <= 8; ++f) {  // evicts family 1
    REQUIRE(exchange(s.port(), {std::to_string(100 + f) + " " + std::to_string(f) + " AAPL B 10 187.40"}).size() == 1);
  }
  REQUIRE(exchange(s.port(), {"10 1 AAPL B 10 187.40"}) == first);
  REQUIRE(duplicates(s) == 1);
  s.stop();
}

#ifdef MINI_OMS_BIN
namespace {
pid_t spawn(const std::vector<std::string>& args, const std::string& out_path) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(MINI_OMS_BIN, argv.data());
    ::_exit(127);
  }
  return pid;
}
std::uint16_t free_port() {
  const net::Listener l = net::listen_tcp("127.0.0.1", 0, true);
  ::close(l.fd);
  return l.port;
}
std::string last_line_with(const std::string& path, const std::string& what) {
  std::FILE* f = std::fopen(path.c_str(), "r");
  std::string found;
  if (f == nullptr) return found;
  char line[1024];
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::string(line).find(what) != std::string::npos) found = line;
  }
  (void)std::fclose(f);  // read-only
  return found;
}
}  // namespace

// (Names stay under one console line: Catch2 2.13 can loop forever wrapping some long ones.)
TEST_CASE("mini-OMS journal: 20 kill and restart cycles, effects exactly once", "[mini_oms][journal][process]") {
  TempDir t;
  const std::string dir = t.path() + "/journal", log = t.path() + "/serve.log";
  const std::uint16_t port = free_port();
  const auto serve = [&](const char* durability) {
    return spawn({MINI_OMS_BIN, "serve", "--port", std::to_string(port), "--journal", dir, "--durability", durability,
                  "--stats-interval-ms", "0", "--partitions", "2", "--workers", "2"},
                 log);
  };
  // A cycle kills a server that is serving: it waits until the restarted one (replay
  // first, which a sanitizer build makes slow) accepts connections.
  const auto wait_listening = [&] {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < until) {
      const int fd = try_connect("127.0.0.1", port);
      if (fd >= 0) {
        ::close(fd);
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  };
  pid_t server = serve("none");
  REQUIRE(server > 0);
  REQUIRE(wait_listening());

  std::atomic<bool> stop{false};
  LoadConfig l;
  l.port = port;
  l.reconnect = true;
  l.connections = 4;
  l.rate = 3000 / static_cast<double>(hft::test::stress_divisor > 1 ? 2 : 1);
  l.requests = static_cast<std::uint64_t>(l.rate * 600);  // more than the cycles take; `stop` ends it
  l.timeout_s = 60;
  l.stop_sending = &stop;
  auto load = std::async(std::launch::async, [&l] { return run_load(l); });

  // Kill at random points, 20 times, restarting on the same journal; every other restart
  // uses batch durability (replies held for the group commit). Time-bounded.
  std::mt19937 rng(11);
  const auto budget = std::chrono::steady_clock::now() + std::chrono::seconds(240);
  int cycles = 0;
  for (; cycles < 20 && std::chrono::steady_clock::now() < budget; ++cycles) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250 + rng() % 300));
    REQUIRE(::kill(server, SIGKILL) == 0);
    int status = 0;
    REQUIRE(::waitpid(server, &status, 0) == server);
    REQUIRE(WIFSIGNALED(status));
    server = serve(cycles % 2 == 0 ? "batch" : "none");
    REQUIRE(server > 0);
    REQUIRE(wait_listening());
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the last server serves a while too
  stop.store(true, std::memory_order_release);                  // pairs with the load generator's acquire
  const LoadResult res = load.get();
  REQUIRE(::kill(server, SIGTERM) == 0);
  int status = 0;
  REQUIRE(::waitpid(server, &status, 0) == server);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);

  INFO("cycles " << cycles << ", reconnects " << res.reconnects << ", re-sent " << res.resent << ", " << res.replies
                 << " replies in " << res.seconds << " s\n"
                 << (res.samples.empty() ? std::string() : res.samples.front()));
  REQUIRE(cycles == 20);
  REQUIRE(res.replies == res.requests);
  REQUIRE(res.violations == 0);  // every family numbered 1, 2, 3 ... with no gap or repeat
  REQUIRE(res.reconnects >= 20);
  REQUIRE(res.resent > 0);
  REQUIRE(last_line_with(log, "mismatches").find(" 0 mismatches") != std::string::npos);

  // The books the last server held equal a replay of the whole journal from scratch.
  const std::string served = last_line_with(log, "book_digest");
  REQUIRE_FALSE(served.empty());
  const std::string replay_log = t.path() + "/replay.log";
  const pid_t r = spawn({MINI_OMS_BIN, "replay", "--journal", dir, "--partitions", "2"}, replay_log);
  REQUIRE(::waitpid(r, &status, 0) == r);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  REQUIRE(last_line_with(replay_log, "book_digest") == served);
}
#endif
