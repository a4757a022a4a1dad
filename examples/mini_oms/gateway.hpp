// mini_oms/gateway.hpp: the I/O stage. One Gateway per I/O thread owns its connections:
// accept, read, frame lines, route each to its partition (Pipeline::admit), answer the
// admission rejects (BUSY, BAD_MSG, SHUTDOWN) itself, and write back the replies.
//
// Replies reach a gateway two ways: deliver() from its own thread (a task that ran inline,
// a local reject) appends to the connection's buffer at once; from another thread (a
// worker) it goes through the gateway's MpscQueue and an eventfd wake-up, sent only when
// the gateway is not already awake (one flag exchange per reply). Either way every
// connection with new replies is flushed once per loop iteration: one send() for all the
// replies a recv() batch produced. A client whose unsent replies exceed out_buffer is cut
// (slow reader); a half-closed client gets every reply it is owed before the close.
//
// Connection limits: past --max-connections (all gateways together) a new connection is
// answered "- REJ:CONN_LIMIT" and closed. When accept() fails for want of a descriptor
// (EMFILE/ENFILE) the listening socket stays readable, and a level-triggered loop would
// spin on it at 100% CPU: instead the gateway closes a reserve descriptor it holds for
// this, accepts and refuses every pending connection the same way, and takes the reserve
// back. If even that fails it stops polling the listener for 100 ms. Either way it counts
// the event and logs one line per second at most; accepted connections are served on.
#pragma once

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "hft/core/clock.hpp"
#include "hft/core/thread.hpp"
#include "hft/queue/mpsc_queue.hpp"
#include "net.hpp"
#include "records.hpp"

namespace mini_oms {

template <class Pipeline>
class Gateway {
 public:
  Gateway(Pipeline& pipeline, unsigned index, std::size_t reply_capacity)
      : pipeline_(pipeline), index_(index), replies_(reply_capacity) {
    const ServerConfig& cfg = pipeline.config();
    conns_.resize(cfg.max_connections);
    for (std::size_t s = cfg.max_connections; s-- > 0;) free_slots_.push_back(static_cast<std::uint32_t>(s));
    dirty_.reserve(cfg.max_connections);
    is_dirty_.assign(cfg.max_connections, false);
    rbuf_.resize(64 * 1024);
    if (!cfg.journal_dir.empty()) held_.resize(reply_capacity);  // every reply that can be in flight
  }
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;
  ~Gateway() {
    if (epfd_ >= 0) ::close(epfd_);
    if (evfd_ >= 0) ::close(evfd_);
    if (reserve_fd_ >= 0) ::close(reserve_fd_);
  }

  /// Before the thread starts: the epoll set (the shared listener, the reply eventfd).
  void open(int listen_fd) {
    listen_fd_ = listen_fd;
    epfd_ = ::epoll_create1(0);
    evfd_ = ::eventfd(0, EFD_NONBLOCK);
    reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);  // spent when descriptors run out
    if (epfd_ < 0 || evfd_ < 0 || reserve_fd_ < 0) net::fail("epoll_create1/eventfd/open(/dev/null)");
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLEXCLUSIVE;
    ev.data.u64 = kListenTag;
    ::epoll_ctl(epfd_, EPOLL_CTL_ADD, listen_fd_, &ev);
    ev.events = EPOLLIN;
    ev.data.u64 = kWakeTag;
    ::epoll_ctl(epfd_, EPOLL_CTL_ADD, evfd_, &ev);
  }
  void start_thread() {
    thread_ = std::thread([this] { run(); });
  }
  /// After Pipeline says stopping: wakes the loop, which flushes what is owed and returns.
  void stop_thread() {
    wake();
    if (thread_.joinable()) thread_.join();
  }

  /// Any thread. Hands a reply to the connection it belongs to.
  void deliver(const Reply& r) {
    if (current() == this) {
      // Replies a worker queued for this gateway go first: a family's earlier task may have
      // run on a worker (its reply queued here before the family went idle) and this one
      // inline; writing this one at once would overtake it on the connection.
      drain_replies();
      write_reply(r);
      return;
    }
    while (!replies_.try_push(r)) std::this_thread::yield();  // sized so this never waits
    // acq_rel pairs with the loop's exchange(false): either it sees our push in its next
    // drain, or we see false and wake it.
    if (!wake_pending_.exchange(true, std::memory_order_acq_rel)) wake();
  }

  /// This gateway's own thread: a reject the gateway answers itself.
  void reply_local(std::uint32_t slot, std::optional<std::uint64_t> req_id, Reason why) {
    char out[kMaxReply];
    send_local(slot, out, format_rej(out, req_id, why));
  }

  [[nodiscard]] unsigned index() const noexcept { return index_; }
  [[nodiscard]] const hft::LatencyHistogram& recv_to_route() const noexcept { return recv_to_route_; }
  [[nodiscard]] const hft::LatencyHistogram& built_to_written() const noexcept { return built_to_written_; }
  /// The gateway whose loop runs on the calling thread, if any.
  static Gateway*& current() noexcept {
    static thread_local Gateway* g = nullptr;
    return g;
  }

 private:
  static constexpr std::uint64_t kListenTag = ~0ULL, kWakeTag = ~1ULL;

  struct Conn {
    int fd = -1;
    std::uint32_t gen = 0;
    LineFramer framer;
    std::unique_ptr<char[]> out;
    std::size_t out_head = 0, out_tail = 0;
    bool want_out = false;
    bool read_closed = false;     // the client half-closed: answer what it sent, then close
    std::uint32_t in_flight = 0;  // requests admitted and not yet answered
  };

  void wake() noexcept {
    const std::uint64_t one = 1;
    (void)!::write(evfd_, &one, sizeof one);
  }

  void run() {
    const ServerConfig& cfg = pipeline_.config();
    current() = this;
    pipeline_.thread_started();
    hft::set_current_thread_name("oms-io-" + std::to_string(index_));
    if (cfg.busy_spin && !cfg.cpus.empty()) {
      try {
        hft::pin_current_thread(cfg.cpus[index_ % cfg.cpus.size()]);
      } catch (...) {
      }
    }
    epoll_event events[64];
    bool draining = false;
    int drain_rounds = 0;
    for (;;) {
      if (listen_paused_) resume_listening_if_due();
      // Held replies wait for the journal's group commit (batch: about a millisecond).
      const int timeout = cfg.busy_spin ? 0 : (draining || held_count_ != 0 ? 1 : 50);
      const int n = ::epoll_wait(epfd_, events, 64, timeout);
      for (int e = 0; e < n; ++e) {
        const std::uint64_t tag = events[e].data.u64;
        if (tag == kListenTag) {
          accept_all();
        } else if (tag == kWakeTag) {
          std::uint64_t v;
          (void)!::read(evfd_, &v, sizeof v);  // the replies are drained below
        } else {
          on_events(static_cast<std::uint32_t>(tag), events[e].events);
        }
      }
      // Reset before draining, acq_rel so a worker's push before its exchange(true) is
      // visible to the drain. Pairs with deliver()'s exchange.
      wake_pending_.exchange(false, std::memory_order_acq_rel);
      drain_replies();
      release_held();
      flush_dirty();
      if (pipeline_.io_stopping()) {
        // Flush what is owed; a client that does not read gets at most ~2 s (2,000 rounds
        // of a 1 ms wait), then everything closes.
        draining = true;
        bool pending = false;
        for (auto& c : conns_) pending |= c.fd >= 0 && c.out_tail > c.out_head;
        pending |= held_count_ != 0;
        if (!pending || ++drain_rounds > 2000) break;
      }
    }
    drain_replies();
    release_held();
    flush_dirty();
    for (std::uint32_t s = 0; s < conns_.size(); ++s) {
      if (conns_[s].fd >= 0) close_conn(s);
    }
    current() = nullptr;
  }

  void accept_all() {
    const ServerConfig& cfg = pipeline_.config();
    for (;;) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno == EMFILE || errno == ENFILE) out_of_descriptors(errno);
        break;  // EAGAIN: nothing pending
      }
      if (pipeline_.shutdown_requested()) {
        ::close(fd);
        continue;
      }
      if (free_slots_.empty() || !pipeline_.try_open_connection()) {
        refuse(fd);
        continue;
      }
      net::set_nodelay(fd);
      const std::uint32_t s = free_slots_.back();
      free_slots_.pop_back();
      Conn& c = conns_[s];
      c.fd = fd;
      ++c.gen;
      c.framer.reset();
      if (!c.out) c.out.reset(new char[cfg.out_buffer]);
      c.out_head = c.out_tail = 0;
      c.want_out = false;
      c.read_closed = false;
      c.in_flight = 0;
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = s;
      ::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
      bump(pipeline_.gateway_counters(), Count::Connections);
    }
  }

  void on_events(std::uint32_t s, std::uint32_t events) {
    Conn& c = conns_[s];
    if (c.fd < 0) return;
    if (events & EPOLLOUT) {
      flush(s);
      close_if_done(s);
    }
    if (c.fd < 0 || c.read_closed || !(events & (EPOLLIN | EPOLLHUP | EPOLLERR))) return;
    for (;;) {
      const ssize_t got = ::read(c.fd, rbuf_.data(), rbuf_.size());
      if (got > 0) {
        const std::uint64_t t_recv = hft::TscClock::ticks();
        c.framer.feed(
            rbuf_.data(), static_cast<std::size_t>(got), [&](std::string_view line) { handle_line(s, line, t_recv); },
            [&](std::string_view prefix) {
              bump(pipeline_.gateway_counters(), Count::RejectedBadMsg);
              reply_local(s, overlong_req_id(prefix), Reason::BadMsg);
            });
        if (c.fd < 0) return;  // cut while answering (slow reader)
        mark_dirty(s);         // flushed once, after this iteration's events
        if (static_cast<std::size_t>(got) < rbuf_.size()) return;
        continue;
      }
      if (got == 0) {  // half-close: stop reading, still answer everything it sent
        c.read_closed = true;
        update_events(s);
        close_if_done(s);
      } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        close_conn(s);
      }
      return;
    }
  }

  void handle_line(std::uint32_t slot, std::string_view line, std::uint64_t t_recv) {
    const Header h = parse_header(line);
    if (!h.req_id) {
      bump(pipeline_.gateway_counters(), Count::RejectedBadMsg);
      reply_local(slot, std::nullopt, Reason::BadMsg);
      return;
    }
    if (pipeline_.shutdown_requested()) {
      bump(pipeline_.gateway_counters(), Count::RejectedShutdown);
      reply_local(slot, h.req_id, Reason::Shutdown);
      return;
    }
    const FamilyKey fk = family_key(h.corr, index_, ++uncorrelated_seq_);
    Conn& c = conns_[slot];
    ++c.in_flight;  // before admit: an inline task may be answered inside it
    const Reason why = pipeline_.admit(*this, ConnRef{index_, slot, c.gen}, *h.req_id, fk, line, t_recv);
    if (why != Reason::None) {
      --c.in_flight;
      reply_local(slot, h.req_id, why);
      return;
    }
    recv_to_route_.record(pipeline_.clock().delta_to_ns(hft::TscClock::ticks() - t_recv));
  }

  // A reply for one of our connections (our own thread). With --journal, a reply whose
  // record is not yet durable waits, in arrival order, behind the ones already waiting; a
  // reply that depends on no record (an admission reject) may overtake them, as the
  // protocol allows. Under `none` a record is durable once committed, so nothing waits.
  void write_reply(const Reply& r) {
    if (r.durable_after != 0 && (held_count_ != 0 || r.durable_after > durable_seen_)) {
      if (held_count_ == 0) durable_seen_ = pipeline_.journal()->durable_sequence();
      if (held_count_ != 0 || r.durable_after > durable_seen_) {
        hold(r);
        return;
      }
    }
    send_reply(r);
  }
  void hold(const Reply& r) {
    if (held_count_ == held_.size()) {
      // Cannot happen (held_ fits every reply in flight); if it did, sync now rather than
      // drop a reply or send it early.
      pipeline_.journal()->flush();
      release_held();
    }
    held_[(held_head_ + held_count_) % held_.size()] = r;
    ++held_count_;
  }
  void release_held() {
    if (held_count_ == 0) return;
    durable_seen_ = pipeline_.journal()->durable_sequence();
    while (held_count_ != 0 && held_[held_head_].durable_after <= durable_seen_) {
      send_reply(held_[held_head_]);
      held_head_ = (held_head_ + 1) % held_.size();
      --held_count_;
    }
  }
  void send_reply(const Reply& r) {
    Conn& c = conns_[r.conn.slot];
    if (c.fd < 0 || c.gen != r.conn.gen) {
      bump(pipeline_.gateway_counters(), Count::RepliesDropped);  // its connection is gone
      return;
    }
    --c.in_flight;
    send_local(r.conn.slot, r.text, r.len);
    if (c.fd >= 0) {
      built_to_written_.record(pipeline_.clock().delta_to_ns(hft::TscClock::ticks() - r.t_built));
      mark_dirty(r.conn.slot);
    }
  }

  void drain_replies() {
    Reply r;
    while (replies_.try_pop(r)) write_reply(r);
  }

  void mark_dirty(std::uint32_t s) {
    if (!is_dirty_[s]) {
      is_dirty_[s] = true;
      dirty_.push_back(s);
    }
  }
  void flush_dirty() {
    for (const std::uint32_t s : dirty_) {
      is_dirty_[s] = false;
      if (conns_[s].fd >= 0) flush(s);
      close_if_done(s);
    }
    dirty_.clear();
  }

  void send_local(std::uint32_t slot, const char* text, std::size_t len) {
    const ServerConfig& cfg = pipeline_.config();
    Conn& c = conns_[slot];
    if (c.fd < 0) return;
    if (c.out_tail + len > cfg.out_buffer) {  // compact
      std::memmove(c.out.get(), c.out.get() + c.out_head, c.out_tail - c.out_head);
      c.out_tail -= c.out_head;
      c.out_head = 0;
    }
    if (c.out_tail + len > cfg.out_buffer) {  // a client that does not read: cut it
      bump(pipeline_.gateway_counters(), Count::SlowDisconnects);
      std::fprintf(stderr, "mini_oms: closing connection fd %d: %zu bytes of replies unread (slow reader)\n", c.fd,
                   c.out_tail - c.out_head);
      close_conn(slot);
      return;
    }
    std::memcpy(c.out.get() + c.out_tail, text, len);
    c.out_tail += len;
    bump(pipeline_.gateway_counters(), Count::RepliesWritten);
  }

  void flush(std::uint32_t slot) {
    Conn& c = conns_[slot];
    while (c.out_tail > c.out_head) {
      const ssize_t w = ::send(c.fd, c.out.get() + c.out_head, c.out_tail - c.out_head, MSG_NOSIGNAL);
      if (w > 0) {
        c.out_head += static_cast<std::size_t>(w);
        continue;
      }
      if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (!c.want_out) {  // the socket is full: wait for EPOLLOUT, do not block
          c.want_out = true;
          update_events(slot);
        }
        return;
      }
      if (w < 0 && errno == EINTR) continue;
      close_conn(slot);
      return;
    }
    c.out_head = c.out_tail = 0;
    if (c.want_out) {
      c.want_out = false;
      update_events(slot);
    }
  }

  void update_events(std::uint32_t slot) {
    Conn& c = conns_[slot];
    epoll_event ev{};
    ev.events = (c.read_closed ? 0u : static_cast<std::uint32_t>(EPOLLIN)) |
                (c.want_out ? static_cast<std::uint32_t>(EPOLLOUT) : 0u);
    ev.data.u64 = slot;
    ::epoll_ctl(epfd_, EPOLL_CTL_MOD, c.fd, &ev);
  }

  void close_if_done(std::uint32_t slot) {
    Conn& c = conns_[slot];
    if (c.fd >= 0 && c.read_closed && c.in_flight == 0 && c.out_tail == c.out_head) close_conn(slot);
  }

  void close_conn(std::uint32_t slot) {
    Conn& c = conns_[slot];
    if (c.fd < 0) return;
    ::epoll_ctl(epfd_, EPOLL_CTL_DEL, c.fd, nullptr);
    ::close(c.fd);
    c.fd = -1;
    c.out_head = c.out_tail = 0;
    free_slots_.push_back(slot);
    pipeline_.connection_closed();
  }

  // A connection the server will not serve: one line, then close. Whatever the client
  // already sent is read first, so the close is a FIN and the line is not lost to a reset.
  void refuse(int fd) {
    static constexpr char kLine[] = "- REJ:CONN_LIMIT\n";
    char discard[4096];
    for (int i = 0; i < 16 && ::recv(fd, discard, sizeof discard, MSG_DONTWAIT) > 0; ++i) {
    }
    bump(pipeline_.gateway_counters(), Count::RefusedConnLimit);  // before the client can see the close
    (void)!::send(fd, kLine, sizeof kLine - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    ::close(fd);
  }

  // accept() found no descriptor: spend the reserve to take every pending connection off
  // the backlog (each refused), so the level-triggered listener stops firing; if the
  // reserve cannot be had back, stop polling the listener for a while instead.
  void out_of_descriptors(int err) {
    bump(pipeline_.gateway_counters(), Count::AcceptFdExhausted);
    if (reserve_fd_ >= 0) {
      ::close(reserve_fd_);
      reserve_fd_ = -1;
      for (;;) {
        const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) break;
        refuse(fd);
      }
      reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    }
    if (reserve_fd_ < 0) pause_listening();
    const std::uint64_t now = pipeline_.clock().now_ns();
    if (now - last_fd_log_ns_ >= 1'000'000'000ULL || last_fd_log_ns_ == 0) {
      last_fd_log_ns_ = now;
      rlimit lim{};
      ::getrlimit(RLIMIT_NOFILE, &lim);
      std::fprintf(stderr,
                   "mini_oms: accept: %s (RLIMIT_NOFILE %llu): refusing new connections, serving the %zu open; "
                   "%llu refused so far%s\n",
                   std::strerror(err), static_cast<unsigned long long>(lim.rlim_cur), pipeline_.open_connections(),
                   static_cast<unsigned long long>(get(pipeline_.gateway_counters(), Count::RefusedConnLimit)),
                   listen_paused_ ? "; listener paused 100 ms" : "");
    }
  }
  // EPOLLEXCLUSIVE registrations cannot be modified: pausing is a delete, resuming an add.
  void pause_listening() {
    if (listen_paused_) return;
    ::epoll_ctl(epfd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
    listen_paused_ = true;
    listen_resume_ns_ = pipeline_.clock().now_ns() + 100'000'000ULL;
  }
  void resume_listening_if_due() {
    if (pipeline_.clock().now_ns() < listen_resume_ns_) return;
    if (reserve_fd_ < 0) reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLEXCLUSIVE;
    ev.data.u64 = kListenTag;
    ::epoll_ctl(epfd_, EPOLL_CTL_ADD, listen_fd_, &ev);
    listen_paused_ = false;
  }

  Pipeline& pipeline_;
  unsigned index_;
  int listen_fd_ = -1, epfd_ = -1, evfd_ = -1;
  int reserve_fd_ = -1;  // /dev/null, closed to make room for refusing when descriptors run out
  bool listen_paused_ = false;
  std::uint64_t listen_resume_ns_ = 0, last_fd_log_ns_ = 0;
  std::vector<Conn> conns_;
  std::vector<std::uint32_t> free_slots_;
  std::vector<std::uint32_t> dirty_;
  std::vector<bool> is_dirty_;
  std::vector<char> rbuf_;
  hft::MpscQueue<Reply> replies_;
  std::vector<Reply> held_;  // --journal: replies waiting for their record to be durable (a FIFO ring)
  std::size_t held_head_ = 0, held_count_ = 0;
  std::uint64_t durable_seen_ = 0;  // the journal's durable_sequence() when last read
  std::atomic<bool> wake_pending_{false};
  std::uint64_t uncorrelated_seq_ = 0;
  hft::LatencyHistogram recv_to_route_ = stage_histogram();
  hft::LatencyHistogram built_to_written_ = stage_histogram();
  std::thread thread_;
};

}  // namespace mini_oms
