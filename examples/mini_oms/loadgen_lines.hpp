// mini_oms/loadgen_lines.hpp: what the load generator (loadgen.hpp) sends and checks: its
// configuration and result, the request lines of each scenario (valid orders, and malformed
// lines with the reply each must get), the reply grammar, and the per-family verification
// that runs once the replies are in. May call: line_protocol.hpp, net.hpp, hft/metrics.
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
#include "line_protocol.hpp"
#include "net.hpp"

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
  // Once a second, a line on stderr: requests sent, replies received, replies/s over the last
  // second (loadgen's command line; the demo and the benchmarks stay quiet).
  bool progress = false;
  // After stop_sending: wait at most this long for the replies owed, then end the run with
  // what is still unanswered counted in LoadResult::unanswered, not as violations (Ctrl-C's
  // partial report). 0: wait for all of them, as long as each comes within timeout_s.
  double stop_wait_s = 0;
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
  bool stopped = false;               // stop_sending ended the run early: a partial result
  std::uint64_t planned = 0;          // requests the run would have sent had it not been stopped
  std::uint64_t unanswered = 0;       // stopped: sent, but no reply within stop_wait_s
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

// 3. Per family (sent on one connection): replies in admission order, seq continuity. A
// stopped run counts a request without a reply as unanswered, not as a violation.
inline void verify_families(const LoadConfig& cfg, const std::vector<std::vector<Req>>& per, LoadResult& res) {
  const auto nconn = static_cast<unsigned>(per.size());
  if (!cfg.echo) {
    for (unsigned c = 0; c < nconn; ++c) {
      std::map<std::int64_t, std::pair<std::uint64_t, int>> fam;  // corr -> (next seq, last reply order)
      for (const Req& r : per[c]) {
        if (r.dash) continue;
        if (r.reply_order < 0) {
          if (res.stopped)
            ++res.unanswered;
          else
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
}

}  // namespace detail_lg

}  // namespace mini_oms
