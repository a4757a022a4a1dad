// mini_oms/loadgen.hpp: the load generator and verifier (run_load). Its lines and checks are
// in loadgen_lines.hpp, the echo floor in echo_server.hpp (included here for the callers).
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
// With `progress` it prints a line a second on stderr; stopped (stop_sending) it waits at
// most stop_wait_s for the replies owed and marks the result partial (LoadResult::stopped).
// May call: loadgen_lines.hpp, echo_server.hpp, net.hpp, hft/metrics.
#pragma once

#pragma once

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "echo_server.hpp"
#include "hft/metrics/histogram_log.hpp"
#include "loadgen_lines.hpp"
#include "net.hpp"

namespace mini_oms {

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
  res.planned = res.requests;

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
  std::uint64_t stop_deadline = 0;  // stopped with stop_wait_s: the end of the wait for replies
  std::uint64_t progress_at = t0, progress_replies = 0;
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
    if (cfg.progress && now - progress_at >= 1'000'000'000) {
      std::fprintf(
          stderr, "loadgen: %6.1f s  sent %llu  received %llu  %.0f replies/s over the last second\n",
          static_cast<double>(now - t0) / 1e9, static_cast<unsigned long long>(sent_total),
          static_cast<unsigned long long>(replied_total),
          static_cast<double>(replied_total - progress_replies) * 1e9 / static_cast<double>(now - progress_at));
      progress_at = now;
      progress_replies = replied_total;
    }
    if (stop_deadline != 0 && now >= stop_deadline) break;  // stopped: the replies still owed are unanswered
    // Acquire pairs with the caller's release store: what it did before stopping happened first.
    if (!stopped && cfg.stop_sending != nullptr && cfg.stop_sending->load(std::memory_order_acquire)) {
      stopped = true;
      res.stopped = true;
      if (cfg.stop_wait_s > 0) stop_deadline = now + static_cast<std::uint64_t>(cfg.stop_wait_s * 1e9);
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
  detail_lg::verify_families(cfg, per, res);
  return res;
}

}  // namespace mini_oms
