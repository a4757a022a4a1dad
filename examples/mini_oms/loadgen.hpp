// mini_oms/loadgen.hpp: the load generator and verifier (oms_loadgen), and the minimal
// epoll echo server that gives the TCP round-trip floor.
//
// One client thread drives every connection with poll(): closed loop (a window of requests
// in flight per connection) or open loop (a fixed total rate; latency is measured from the
// intended send time, so a stalled server cannot hide queueing: coordinated omission is
// corrected). It verifies, and reports as violations: exactly one reply per request, reply
// grammar, per-family order and seq_in_family continuity (each family is sent on one
// connection), seq 1 for uncorrelated ACKs, BAD_MSG for every malformed line, echo equality.
// With `reconnect` it survives a server restart (a journaled server, docs/journal.md): it
// reconnects, re-sends every request it has no reply for, and then requires each family's
// numbering to continue with no gap and no repeat, which is what exactly-once execution
// looks like from the client (a second execution of a request would take a second number).
#pragma once

#include <poll.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <optional>
#include <ostream>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "hft/metrics/histogram_log.hpp"
#include "hft/metrics/latency_histogram.hpp"
#include "net.hpp"
#include "protocol.hpp"

namespace mini_oms {

struct LoadConfig {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::string scenario = "mixed";  // mixed | hot-family | uncorrelated | bad-input | burst
  unsigned connections = 4;
  std::uint64_t requests = 20'000;  // hot-family: 30,000 hot + requests/3 others
  unsigned window = 32;             // closed loop: in flight per connection
  double rate = 0;                  // open loop: requests/s over all connections (0 = closed)
  std::uint64_t id_base = 1;        // req_ids and correlation ids start here: the verifier
                                    // expects families this server has not numbered before
  bool echo = false;                // the target is the echo server
  double timeout_s = 20;            // for the last replies
  std::uint64_t seed = 1;
  bool reconnect = false;  // survive a server restart: reconnect, re-send every request without a reply
  // When it turns true: send nothing new, wait for the replies owed, verify what was sent
  // (a caller that runs the load for as long as something else takes). Null: never.
  const std::atomic<bool>* stop_sending = nullptr;
  // --hlog: the round trips, one HdrHistogram interval per hlog_interval_ms, go here
  // (hft/metrics/histogram_log.hpp); every round trip of `rtt` is in exactly one interval.
  std::ostream* hlog = nullptr;
  std::uint32_t hlog_interval_ms = 1000;
};

struct LoadResult {
  std::string scenario;
  std::uint64_t requests = 0, replies = 0;
  std::map<std::string, std::uint64_t> by_type;  // "ACK", "REJ:BUSY", ...
  std::uint64_t violations = 0;
  std::uint64_t family_restarts = 0;  // seq back to 1: the server evicted an idle family
  std::uint64_t reconnects = 0;       // --reconnect: connections lost and made again
  std::uint64_t resent = 0;           // --reconnect: requests sent again after a reconnect
  std::vector<std::string> samples;   // first violations, for the report
  double seconds = 0;
  hft::LatencyHistogram rtt{};
  hft::LatencyHistogram rtt_cold{};  // hot-family: the other families
  [[nodiscard]] double throughput() const { return seconds > 0 ? static_cast<double>(replies) / seconds : 0; }
  void violation(const std::string& what) {
    ++violations;
    if (samples.size() < 8) samples.push_back(what);
  }
};

namespace detail_lg {

struct Req {
  std::string line;         // without '\n'
  std::int64_t corr = -1;   // family (-1: none); known-bad lines keep the intended one
  bool expect_bad = false;  // a malformed line: must get BAD_MSG
  bool dash = false;        // no valid req_id: the reply is "- REJ:BAD_MSG"
  bool hot = false;
  std::uint64_t id = 0;
  std::uint64_t sent_ns = 0;
  int reply_order = -1;  // arrival index on its connection
  std::string reply;
};

inline const char* kSymbols[] = {"AAPL", "MSFT", "GOOG", "AMZN", "TSLA", "XYZ"};
inline const double kRefs[] = {187.25, 410.50, 140.10, 178.30, 175.40, 100.00};

inline std::string price_text(double px) {
  char b[32];
  (void)std::snprintf(b, sizeof b, "%.2f", px);  // test prices: a few digits
  return b;
}

inline std::string valid_line(std::uint64_t id, std::int64_t corr, std::mt19937_64& rng) {
  const std::size_t s = rng() % 6;
  const bool buy = rng() % 2;
  // Within +-0.8% of the reference: most orders cross a few venue levels (5 bp apart).
  const double px = kRefs[s] * (1.0 + (static_cast<double>(rng() % 161) - 80.0) / 10'000.0);
  const std::uint64_t qty = 1 + rng() % 400;
  std::string l = std::to_string(id) + " " + std::to_string(corr) + " " + kSymbols[s] + (buy ? " B " : " S ") +
                  std::to_string(qty) + " " + price_text(px);
  if (rng() % 100 == 0) l = std::to_string(id) + " " + std::to_string(corr) + " AAPL B 2000000 187.25";  // RISK_QTY
  if (rng() % 100 == 1) l = std::to_string(id) + " " + std::to_string(corr) + " MSFT S 10 500";          // RISK_PRICE
  return l;
}

// Malformed lines, each with what the reply must be.
inline Req bad_line(std::uint64_t id, std::mt19937_64& rng) {
  Req r;
  r.expect_bad = true;
  const std::string ids = std::to_string(id);
  switch (rng() % 14) {
    case 0:
      r.line = "";
      r.dash = true;
      break;  // empty line
    case 1:
      r.line = "garbage \x01\x7f\xfe bytes";
      r.dash = true;
      break;
    case 2:
      r.line = ids + " 777000000000 AA" + std::string(1, '\0') + "PL B 1 100";
      break;  // embedded NUL
    case 3:
      r.line = ids + " 777000000000 AAPL B 100 " + std::string(300, '1');
      break;  // over-long, valid id
    case 4:
      r.line = std::string(300, 'x');
      r.dash = true;
      break;  // over-long, no id
    case 5:
      r.line = ids + " 777000000000 AAPL B 100";
      break;  // missing field
    case 6:
      r.line = ids + " 777000000000 AAPL B abc 187.25";
      break;  // non-numeric qty
    case 7:
      r.line = ids + " 777000000000 AAPL B -5 187.25";
      break;  // negative qty
    case 8:
      r.line = ids + " 777000000000 AAPL B 0 187.25";
      break;  // zero qty
    case 9:
      r.line = ids + " 777000000000 AAPL X 10 187.25";
      break;  // bad side
    case 10:
      r.line = ids + " 777000000000 aapl B 10 187.25";
      break;  // lowercase symbol
    case 11:
      r.line = ids + " 777000000000 AAPL B 10 187.25001";
      break;  // 5 decimals
    case 12:
      r.line = ids + "  777000000000 AAPL B 10 187.25";
      break;  // double space
    default:
      r.line = ids + " x777000000000 AAPL B 10 187.25";
      break;  // bad correlation id
  }
  r.id = r.dash ? 0 : id;
  return r;
}

inline bool parse_reply(const std::string& line, std::optional<std::uint64_t>& id, std::string& type,
                        std::uint64_t& seq) {
  const std::size_t sp = line.find(' ');
  if (sp == std::string::npos) return false;
  const std::string head = line.substr(0, sp);
  if (head == "-") {
    id.reset();
  } else {
    id = parse_u64(head);
    if (!id) return false;
  }
  const std::string rest = line.substr(sp + 1);
  if (rest.rfind("REJ:", 0) == 0) {
    type = rest;
    for (const char* r : {"REJ:BUSY", "REJ:BAD_MSG", "REJ:RISK_QTY", "REJ:RISK_PRICE", "REJ:RISK_NOTIONAL",
                          "REJ:RISK_RATE", "REJ:FAMILY_FULL", "REJ:SHUTDOWN"}) {
      if (rest == r) return true;
    }
    return false;
  }
  std::string_view f[4];
  if (split(rest, f) != 4 || f[0] != "ACK") return false;
  const auto s = parse_u64(f[1]);
  const auto filled = parse_u64(f[2]);
  if (!s || !filled || *s == 0) return false;
  if (*filled == 0) {
    if (f[3] != "0") return false;
  } else {
    const auto px = hft::parse_price(f[3], kTick);
    if (!px || px->ticks() <= 0) return false;
    if (f[3].find('.') != std::string_view::npos && f[3].back() == '0') return false;  // trailing zero
  }
  type = "ACK";
  seq = *s;
  return true;
}

// A connection, or -1 while nobody listens (--reconnect waits for the server to return).
inline int try_connect(const std::string& host, std::uint16_t port) {
  try {
    return net::connect_tcp(host, port, true);
  } catch (const std::exception&) {
    return -1;
  }
}

inline std::uint64_t now_ns() {
  return static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
}

}  // namespace detail_lg

/// Runs one scenario against host:port and verifies every reply.
inline LoadResult run_load(const LoadConfig& cfg) {
  using namespace detail_lg;
  LoadResult res;
  res.scenario = cfg.scenario;
  std::mt19937_64 rng(cfg.seed);
  const unsigned nconn = std::max(1u, cfg.connections);

  // 1. The requests, per connection, in send order. A family always uses one connection.
  std::vector<std::vector<Req>> per(nconn);
  std::uint64_t next_id = cfg.id_base;
  const auto fam_conn = [&](std::int64_t corr) {
    return static_cast<unsigned>(static_cast<std::uint64_t>(corr) % nconn);
  };
  auto add_valid = [&](std::int64_t corr, unsigned conn, bool hot) {
    Req r;
    r.id = next_id++;
    r.corr = corr;
    r.hot = hot;
    r.line = valid_line(r.id, corr, rng);
    per[conn].push_back(std::move(r));
  };
  const auto base = static_cast<std::int64_t>(cfg.id_base);
  if (cfg.scenario == "hot-family") {
    const std::uint64_t hot_n = 30'000, others = std::max<std::uint64_t>(cfg.requests / 3, 300);
    const std::uint64_t total = hot_n + others;
    for (std::uint64_t i = 0; i < total; ++i) {
      // Spread the cold requests evenly through the hot stream.
      const bool cold = (i * others) / total != ((i + 1) * others) / total;
      const std::int64_t corr = cold ? base + 1 + static_cast<std::int64_t>(rng() % 100) : base;
      add_valid(corr, fam_conn(corr), !cold);
    }
  } else {
    for (std::uint64_t i = 0; i < cfg.requests; ++i) {
      // The first and third branches look alike but differ in whether rng is drawn: merged,
      // the request stream (and every recorded run) would change.
      if (cfg.scenario == "uncorrelated") {  // NOLINT(bugprone-branch-clone)
        add_valid(-1, static_cast<unsigned>(i % nconn), false);
      } else if (cfg.scenario == "bad-input" && rng() % 3 == 0) {
        Req r = bad_line(next_id++, rng);
        per[static_cast<unsigned>(i % nconn)].push_back(std::move(r));
      } else if (rng() % 5 == 0) {  // mixed/burst: 20% uncorrelated
        add_valid(-1, static_cast<unsigned>(i % nconn), false);
      } else {
        const std::int64_t corr = base + static_cast<std::int64_t>(rng() % 1000);
        add_valid(corr, fam_conn(corr), false);
      }
    }
  }
  for (const auto& v : per) res.requests += v.size();

  // 2. Drive: poll() over every connection.
  struct Conn {
    int fd = -1;
    std::size_t next_send = 0, replied = 0, dash_expected = 0, dash_seen = 0;
    std::string in;
    std::unordered_map<std::uint64_t, std::size_t> by_id;
    std::string out;
    std::size_t out_off = 0;
  };
  std::vector<Conn> conns(nconn);
  for (unsigned c = 0; c < nconn; ++c) {
    conns[c].fd = cfg.reconnect ? try_connect(cfg.host, cfg.port) : net::connect_tcp(cfg.host, cfg.port, true);
    for (std::size_t i = 0; i < per[c].size(); ++i) {
      if (per[c][i].dash)
        ++conns[c].dash_expected;
      else
        conns[c].by_id[per[c][i].id] = i;
    }
  }
  const bool open_loop = cfg.rate > 0;
  const double gap_ns = open_loop ? 1e9 / cfg.rate : 0;
  const std::uint64_t t0 = now_ns();
  std::uint64_t sent_total = 0, replied_total = 0;
  std::vector<pollfd> pfds(nconn);
  std::uint64_t last_progress = t0;
  char buf[65536];
  std::uint64_t next_reconnect = 0;
  // --reconnect: the server went away. Replies it owed this connection are lost; a request
  // without one is re-sent, in order, on the next connection.
  const auto lost = [&](Conn& k) {
    ::close(k.fd);
    k.fd = -1;
    k.in.clear();
    k.out.clear();
    k.out_off = 0;
    ++res.reconnects;
  };
  bool stopped = false;
  std::optional<hft::HistogramLogWriter> hlog;
  std::optional<hft::LatencyHistogram> interval;
  std::uint64_t interval_start = t0;
  const auto write_interval = [&](std::uint64_t now) {
    hlog->write_interval(static_cast<double>(interval_start - t0) / 1e9,
                         static_cast<double>(now - interval_start) / 1e9, *interval);
    hlog->flush();
    interval->reset();
    interval_start = now;
  };
  if (cfg.hlog != nullptr) {
    hlog.emplace(*cfg.hlog);
    interval.emplace(res.rtt.config());
    hlog->write_comment("[mini_oms loadgen: round-trip latency, ns; scenario " + cfg.scenario + "]");
    hlog->write_header(static_cast<double>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                               std::chrono::system_clock::now().time_since_epoch())
                                               .count()) /
                       1e3);
  }
  const auto record_rtt = [&](std::uint64_t rtt) {
    res.rtt.record(rtt);
    if (interval) interval->record(rtt);
  };
  while (replied_total < res.requests) {
    const std::uint64_t now = now_ns();
    if (hlog && now - interval_start >= std::uint64_t{cfg.hlog_interval_ms} * 1'000'000) write_interval(now);
    // Acquire pairs with the caller's release store: what it did before stopping happened first.
    if (!stopped && cfg.stop_sending != nullptr && cfg.stop_sending->load(std::memory_order_acquire)) {
      stopped = true;
      res.requests = 0;
      for (unsigned c = 0; c < nconn; ++c) {
        per[c].resize(conns[c].next_send);  // what was never sent is not part of this run
        res.requests += per[c].size();
      }
      if (replied_total >= res.requests) break;
    }
    if (cfg.reconnect && now >= next_reconnect) {
      next_reconnect = now + 20'000'000;  // try every 20 ms
      for (unsigned c = 0; c < nconn; ++c) {
        Conn& k = conns[c];
        if (k.fd >= 0) continue;
        k.fd = try_connect(cfg.host, cfg.port);
        if (k.fd < 0) continue;
        last_progress = now;
        for (std::size_t i = 0; i < k.next_send; ++i) {
          if (per[c][i].reply_order >= 0) continue;
          k.out += per[c][i].line;
          k.out += '\n';
          ++res.resent;
        }
      }
    }
    // Send what the window (closed loop) or the schedule (open loop) allows.
    for (unsigned c = 0; c < nconn; ++c) {
      Conn& k = conns[c];
      if (k.fd < 0) continue;
      while (k.next_send < per[c].size()) {
        Req& r = per[c][k.next_send];
        if (open_loop) {
          const auto intended = t0 + static_cast<std::uint64_t>(static_cast<double>(sent_total) * gap_ns);
          if (intended > now) break;
          r.sent_ns = intended;  // from the intended time: coordinated omission corrected
        } else {
          if (k.next_send - k.replied >= cfg.window) break;
          r.sent_ns = now;
        }
        k.out += r.line;
        k.out += '\n';
        ++k.next_send;
        ++sent_total;
        if (open_loop) break;  // round-robin the schedule over connections
      }
      if (k.out_off < k.out.size()) {
        const ssize_t w = ::send(k.fd, k.out.data() + k.out_off, k.out.size() - k.out_off, MSG_NOSIGNAL);
        if (w > 0) k.out_off += static_cast<std::size_t>(w);
        if (w < 0 && cfg.reconnect && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
          lost(k);
          continue;
        }
        if (k.out_off == k.out.size()) {
          k.out.clear();
          k.out_off = 0;
        }
      }
    }
    for (unsigned c = 0; c < nconn; ++c) {
      pfds[c].fd = conns[c].fd;
      pfds[c].events = static_cast<short>(POLLIN | (conns[c].out_off < conns[c].out.size() ? POLLOUT : 0));
      pfds[c].revents = 0;
    }
    const bool more_to_send = sent_total < res.requests;
    ::poll(pfds.data(), nconn, open_loop && more_to_send ? 0 : 2);
    for (unsigned c = 0; c < nconn; ++c) {
      if (!(pfds[c].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      Conn& k = conns[c];
      if (k.fd < 0) continue;
      bool gone = false;
      for (;;) {
        const ssize_t got = ::recv(k.fd, buf, sizeof buf, 0);
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) break;
        if (got <= 0) {
          gone = true;  // the server closed or died; what was read is still parsed below
          break;
        }
        k.in.append(buf, static_cast<std::size_t>(got));
      }
      std::size_t pos = 0;
      for (;;) {
        const std::size_t nl = k.in.find('\n', pos);
        if (nl == std::string::npos) break;
        const std::string line = k.in.substr(pos, nl - pos);
        pos = nl + 1;
        const std::uint64_t t = now_ns();
        ++replied_total;
        ++res.replies;
        last_progress = t;
        if (cfg.echo) {
          // The echo floor answers every line, malformed ones included, in order.
          if (k.replied >= per[c].size() || per[c][k.replied].line != line) {
            res.violation("echo mismatch: " + line.substr(0, 60));
            ++k.replied;
            continue;
          }
          Req& r = per[c][k.replied];
          r.reply_order = static_cast<int>(k.replied++);
          record_rtt(t - r.sent_ns);
          ++res.by_type["ECHO"];
          continue;
        }
        std::optional<std::uint64_t> id;
        std::string type;
        std::uint64_t seq = 0;
        if (!parse_reply(line, id, type, seq)) {
          res.violation("reply grammar: '" + line.substr(0, 80) + "'");
          continue;
        }
        ++res.by_type[type];
        if (!id) {
          if (type != "REJ:BAD_MSG") res.violation("a '-' reply that is not BAD_MSG: " + line);
          if (++k.dash_seen > k.dash_expected) res.violation("more '- REJ:BAD_MSG' replies than id-less lines");
          ++k.replied;
          continue;
        }
        const auto it = k.by_id.find(*id);
        if (it == k.by_id.end()) {
          res.violation("reply for an unknown req_id: " + line);
          continue;
        }
        Req& r = per[c][it->second];
        if (r.reply_order >= 0) {
          res.violation("two replies for req_id " + std::to_string(*id));
          continue;
        }
        r.reply_order = static_cast<int>(k.replied++);
        r.reply = type == "ACK" ? "ACK " + std::to_string(seq) : type;
        record_rtt(t - r.sent_ns);
        if (cfg.scenario == "hot-family" && !r.hot) res.rtt_cold.record(t - r.sent_ns);
        if (r.expect_bad && type != "REJ:BAD_MSG" && type != "REJ:BUSY" && type != "REJ:SHUTDOWN") {
          res.violation("malformed line '" + r.line.substr(0, 40) + "' answered " + type);
        }
        if (type == "ACK" && r.corr == -1 && seq != 1)
          res.violation("uncorrelated ACK with seq " + std::to_string(seq));
      }
      k.in.erase(0, pos);
      if (gone && cfg.reconnect) lost(k);
    }
    if (now_ns() - last_progress > static_cast<std::uint64_t>(cfg.timeout_s * 1e9)) {
      res.violation("timed out with " + std::to_string(res.requests - replied_total) + " replies missing");
      break;
    }
  }
  res.seconds = static_cast<double>(now_ns() - t0) / 1e9;
  if (hlog) write_interval(now_ns());  // the rest of the last interval
  for (auto& k : conns) {
    if (k.fd >= 0) ::close(k.fd);
  }

  // 3. Per family (sent on one connection): replies in admission order, seq continuity.
  if (!cfg.echo) {
    for (unsigned c = 0; c < nconn; ++c) {
      std::map<std::int64_t, std::pair<std::uint64_t, int>> fam;  // corr -> (next seq, last reply order)
      for (const Req& r : per[c]) {
        if (r.dash) continue;
        if (r.reply_order < 0) {
          res.violation("no reply for req_id " + std::to_string(r.id));
          continue;
        }
        if (r.corr == -1 || r.expect_bad) continue;
        const bool admission = r.reply == "REJ:BUSY" || r.reply == "REJ:FAMILY_FULL" || r.reply == "REJ:SHUTDOWN";
        if (admission) continue;  // takes no number, may overtake
        auto& [next_seq, last_order] = fam.try_emplace(r.corr, std::pair<std::uint64_t, int>{0, -1}).first->second;
        ++next_seq;
        if (r.reply_order < last_order) {
          res.violation("family " + std::to_string(r.corr) + ": req " + std::to_string(r.id) +
                        " answered out of order");
        }
        last_order = r.reply_order;
        if (r.reply.rfind("ACK ", 0) == 0 && r.reply != "ACK " + std::to_string(next_seq)) {
          if (r.reply == "ACK 1" && !cfg.reconnect) {
            next_seq = 1;  // the server evicted the idle family (its table was full): restart
            ++res.family_restarts;
          } else {
            res.violation("family " + std::to_string(r.corr) + ": " + r.reply + ", expected seq " +
                          std::to_string(next_seq));
          }
        }
      }
    }
  }
  return res;
}

/// The TCP floor: a single-threaded epoll server that writes back every byte it reads.
class EchoServer {
 public:
  EchoServer() {
    const net::Listener l = net::listen_tcp("127.0.0.1", 0, false, 128);
    lfd_ = l.fd;
    port_ = l.port;
    thread_ = std::thread([this] { run(); });
    if (::pthread_getcpuclockid(thread_.native_handle(), &cpu_clock_) != 0) cpu_clock_ = CLOCK_THREAD_CPUTIME_ID;
  }
  ~EchoServer() {
    stop_.store(true);
    thread_.join();
    ::close(lfd_);
  }
  [[nodiscard]] std::uint16_t port() const { return port_; }
  /// CPU time its thread has used so far (ns).
  [[nodiscard]] std::uint64_t cpu_ns() const {
    timespec ts{};
    if (::clock_gettime(cpu_clock_, &ts) != 0) return 0;
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<std::uint64_t>(ts.tv_nsec);
  }

 private:
  void run() {
    const int ep = ::epoll_create1(0);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = lfd_;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, lfd_, &ev);
    epoll_event evs[64];
    char buf[65536];
    while (!stop_.load()) {
      const int n = ::epoll_wait(ep, evs, 64, 20);
      for (int i = 0; i < n; ++i) {
        const int fd = evs[i].data.fd;
        if (fd == lfd_) {
          const int c = ::accept(lfd_, nullptr, nullptr);
          if (c < 0) continue;
          net::set_nodelay(c);
          ev.events = EPOLLIN;
          ev.data.fd = c;
          ::epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
          continue;
        }
        const ssize_t got = ::recv(fd, buf, sizeof buf, 0);
        if (got <= 0) {
          ::epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
          ::close(fd);
          continue;
        }
        for (ssize_t off = 0; off < got;) {  // blocking socket: the client reads
          const ssize_t w = ::send(fd, buf + off, static_cast<std::size_t>(got - off), MSG_NOSIGNAL);
          if (w <= 0) break;
          off += w;
        }
      }
    }
    ::close(ep);
  }
  int lfd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  clockid_t cpu_clock_{};
};

}  // namespace mini_oms
