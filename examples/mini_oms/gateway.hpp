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
//
// FIX (--fix-port): a connection on the FIX listener speaks FIX 4.4 through an
// hft::fix::Session instead of lines. Its first message must be a Logon to our CompID; the
// peer's CompID selects its session state (FixRegistry: store and numbers survive its
// reconnects). A NewOrderSingle becomes the same request line the line protocol sends,
// admitted into the same pipeline; its reply comes back here and leaves as
// ExecutionReports (fix_acceptor.hpp). With --fix-peers only the listed CompIDs may log
// on; another's connection is closed without a reply. A value-level problem the session's
// dictionary finds in an order or cancel is answered with a business-level reject
// (fix_invalid_app_message). docs/fix.md, "The mini-OMS FIX acceptor".
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "fix_acceptor.hpp"
#include "hft/core/clock.hpp"
#include "hft/core/thread.hpp"
#include "hft/fix/dictionary.hpp"
#include "hft/fix/session.hpp"
#include "hft/queue/mpsc_queue.hpp"
#include "logging.hpp"
#include "net.hpp"
#include "records.hpp"

namespace mini_oms {

template <class Pipeline>
class Gateway {
 public:
  Gateway(Pipeline& pipeline, unsigned index, std::size_t reply_capacity)
      : pipeline_(pipeline),
        index_(index),
        admit_lat_(pipeline.stage(Stage::Admit).rec.register_writer()),
        write_lat_(pipeline.stage(Stage::Write).rec.register_writer()),
        fix_report_lat_(pipeline.stage(Stage::FixReport).rec.register_writer()),
        replies_(reply_capacity) {
    const ServerConfig& cfg = pipeline.config();
    conns_.resize(cfg.max_connections);
    for (std::size_t s = cfg.max_connections; s-- > 0;) free_slots_.push_back(static_cast<std::uint32_t>(s));
    dirty_.reserve(cfg.max_connections);
    is_dirty_.assign(cfg.max_connections, false);
    rbuf_.resize(std::size_t{64} * 1024);
    if (!cfg.journal_dir.empty()) held_.resize(reply_capacity);  // every reply that can be in flight
    fix_closed_.reserve(cfg.max_connections);
  }
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;
  ~Gateway() {
    if (epfd_ >= 0) ::close(epfd_);
    if (evfd_ >= 0) ::close(evfd_);
    if (reserve_fd_ >= 0) ::close(reserve_fd_);
  }

  /// Before the thread starts: the epoll set (the shared listeners, the reply eventfd).
  /// `fix_listen_fd` < 0: no FIX port.
  void open(int listen_fd, int fix_listen_fd = -1) {
    listen_fd_ = listen_fd;
    fix_listen_fd_ = fix_listen_fd;
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
    if (fix_listen_fd_ >= 0) {
      ev.events = EPOLLIN | EPOLLEXCLUSIVE;
      ev.data.u64 = kFixListenTag;
      ::epoll_ctl(epfd_, EPOLL_CTL_ADD, fix_listen_fd_, &ev);
    }
  }
  /// Before the thread starts, with a FIX port: the OrderID base of this start
  /// (fix_id_base), unique across starts; this gateway's OrderIDs are "<base><index>-<n>".
  void set_fix_id_base(const std::string& base) {
    id_prefix_ = base + std::to_string(index_) + "-";
    local_nonce_ = fnv1a(id_prefix_);
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
  /// The gateway whose loop runs on the calling thread, if any.
  static Gateway*& current() noexcept {
    static thread_local Gateway* g = nullptr;
    return g;
  }

 private:
  static constexpr std::uint64_t kListenTag = ~0ULL, kWakeTag = ~1ULL, kFixListenTag = ~2ULL;
  static constexpr std::size_t kFixMaxMessage = 8192;
  static constexpr std::size_t kFixInFlight = 4096;          // orders awaiting their reply, per connection
  static constexpr std::uint64_t kFixTimerNs = 100'000'000;  // heartbeats and timeouts, checked this often
  static constexpr std::uint64_t kFixLogonTimeoutNs = 10'000'000'000;

  // The session's handler: its callbacks run on this gateway's thread, inside on_bytes,
  // on_timer or send_app.
  struct FixHandler {
    Gateway* gw = nullptr;
    std::uint32_t slot = 0;
    void send(std::string_view wire) {
      gw->send_local(slot, wire.data(), wire.size());
      gw->mark_dirty(slot);
    }
    void on_app_message(const hft::fix::Message& m) { gw->fix_app_message(slot, m); }
    void on_event(const hft::fix::SessionEvent& e) { gw->fix_event(slot, e); }
    // A value-level violation in an application message: a business-level reject.
    void on_invalid_app_message(const hft::fix::Message& m, const hft::fix::Violation& v) {
      gw->fix_invalid_app_message(slot, m,
                                  {v.tag, v.text, v.reason == hft::fix::SessionRejectReason::RequiredTagMissing});
    }
  };
  using FixSession = hft::fix::Session<FixHandler, hft::fix::UtcClock>;
  struct FixPending {
    std::uint64_t req_id = 0;
    std::uint64_t key = 0;  // its ClOrdID's (ClOrdIdWindow::key)
    bool remember = false;  // admitted under its ClOrdID: --journal journals its outcome
    FixOrder order;
    // A reject decided here (a malformed or duplicate order of an Account): it travels the
    // pipeline as a line the worker refuses, so it keeps its place among the Account's reports.
    OrdRejReason local_reason = OrdRejReason::Other;
    std::string_view local_text;  // a string literal; empty: the pipeline's reply decides
    bool local_field = false;     // local_text is the problem of field local_tag (invalid_field_text)
    std::uint32_t local_tag = 0;
    std::uint64_t t_recv = 0;  // TSC ticks of the read that brought it (Stage::FixReport)
  };
  // One per FIX connection, allocated when it is accepted (buffers, the in-flight table).
  struct FixConn {
    FixConn() {
      free_pending.reserve(kFixInFlight);
      for (std::uint32_t i = kFixInFlight; i-- > 0;) free_pending.push_back(i);
    }
    FixHandler handler;
    FixSessionState* state = nullptr;  // the peer's, from the registry once its Logon is read
    std::optional<FixSession> session;
    std::vector<char> pre = std::vector<char>(kFixMaxMessage + 64);  // bytes before the Logon identified the peer
    std::size_t pre_len = 0;
    std::uint64_t accepted_ns = 0;
    bool logged_on = false;  // the session accepted the Logon
    // Orders awaiting their reply: req_ids are hashes (fix_req_id), hence the index.
    std::vector<FixPending> pending = std::vector<FixPending>(kFixInFlight);
    hft::FlatIndex pending_index{kFixInFlight};  // req_id -> pending entry
    std::vector<std::uint32_t> free_pending;
  };

  struct Conn {
    int fd = -1;
    std::uint32_t gen = 0;
    LineFramer framer;
    std::unique_ptr<char[]> out;
    std::size_t out_head = 0, out_tail = 0;
    bool want_out = false;
    bool read_closed = false;      // the client half-closed: answer what it sent, then close
    std::uint32_t in_flight = 0;   // requests admitted and not yet answered
    std::unique_ptr<FixConn> fix;  // a FIX connection; null for the line protocol
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
    // The thread's log ring now: a line logged later (a slow reader, out of descriptors)
    // allocates nothing, and needs no descriptor (the thread name is read from /proc now).
    (void)pipeline_.log().io().backend().preallocate();
    if (!cfg.cpus.empty()) {  // Server checked every CPU at construction: a failure here is loud
      try {
        hft::pin_current_thread(cfg.cpus[index_ % cfg.cpus.size()]);
      } catch (const std::exception& e) {
        HFT_LOG_ERROR(pipeline_.log().main(), "--cpus: {}; this thread runs unpinned", e.what());
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
          accept_all(listen_fd_, false);
        } else if (tag == kFixListenTag) {
          accept_all(fix_listen_fd_, true);
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
      if (fix_conns_ != 0) fix_timers();
      flush_dirty();
      release_fix_states();
      if (pipeline_.io_stopping()) {
        if (!draining) fix_logout_all("server shutting down");
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
    release_fix_states();
    current() = nullptr;
  }

  void accept_all(int lfd, bool fix) {
    const ServerConfig& cfg = pipeline_.config();
    for (;;) {
      const int fd = ::accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
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
      c.fix.reset();  // a FIX connection's session outlives its close until the slot is reused
      if (fix) {
        c.fix = std::make_unique<FixConn>();
        c.fix->handler = FixHandler{this, s};
        c.fix->accepted_ns = steady_.now_ns();
        ++fix_conns_;
      }
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = s;
      ::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
      bump(pipeline_.gateway_counters(), GwCount::Connections);
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
      if (got > 0 && c.fix) {
        t_recv_ = hft::TscClock::ticks();
        fix_bytes(s, std::string_view(rbuf_.data(), static_cast<std::size_t>(got)));
        if (c.fd < 0) return;
        mark_dirty(s);
        if (static_cast<std::size_t>(got) < rbuf_.size()) return;
        continue;
      }
      if (got > 0) {
        const std::uint64_t t_recv = hft::TscClock::ticks();
        c.framer.feed(
            rbuf_.data(), static_cast<std::size_t>(got), [&](std::string_view line) { handle_line(s, line, t_recv); },
            [&](std::string_view prefix) {
              bump(pipeline_.gateway_counters(), GwCount::Requests);
              bump(pipeline_.gateway_counters(), GwCount::RejectedBadMsg);
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

  // The line codec's decode side: a framed line becomes an Order, admitted like any other.
  void handle_line(std::uint32_t slot, std::string_view line, std::uint64_t t_recv) {
    bump(pipeline_.gateway_counters(), GwCount::Requests);
    const std::optional<Order> o = decode_line(line);
    if (!o) {
      bump(pipeline_.gateway_counters(), GwCount::RejectedBadMsg);
      reply_local(slot, std::nullopt, Reason::BadMsg);
      return;
    }
    if (pipeline_.shutdown_requested()) {
      bump(pipeline_.gateway_counters(), GwCount::RejectedShutdown);
      reply_local(slot, o->req_id, Reason::Shutdown);
      return;
    }
    const FamilyKey fk = family_key(o->corr, index_, ++uncorrelated_seq_);
    Conn& c = conns_[slot];
    ++c.in_flight;  // before admit: an inline task may be answered inside it
    const Reason why = pipeline_.admit(ConnRef{index_, slot, c.gen}, fk, *o, t_recv);
    if (why != Reason::None) {
      --c.in_flight;
      reply_local(slot, o->req_id, why);
      return;
    }
    admit_lat_.record(pipeline_.clock().delta_to_ns(hft::TscClock::ticks() - t_recv));
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
      bump(pipeline_.gateway_counters(), GwCount::RepliesDropped);  // its connection is gone
      return;
    }
    --c.in_flight;
    if (c.fix) {
      fix_reply(r.conn.slot, r.exec);
    } else {  // the line codec's encode side
      char text[kMaxReply];
      send_local(r.conn.slot, text, format_execution(text, r.exec));
    }
    if (c.fd >= 0) {
      write_lat_.record(pipeline_.clock().delta_to_ns(hft::TscClock::ticks() - r.t_built));
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
      bump(pipeline_.gateway_counters(), GwCount::SlowDisconnects);
      HFT_LOG_WARN(pipeline_.log().io(), "closing connection fd {}: {} bytes of replies unread (slow reader)", c.fd,
                   c.out_tail - c.out_head);
      close_conn(slot);
      return;
    }
    std::memcpy(c.out.get() + c.out_tail, text, len);
    c.out_tail += len;
    bump(pipeline_.gateway_counters(), GwCount::RepliesWritten);
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
    if (c.fix) {
      --fix_conns_;
      // Its session may be inside a call on this stack: the peer's state goes back to the
      // registry at the end of the loop iteration, and the FixConn when the slot is reused.
      if (c.fix->state != nullptr) fix_closed_.emplace_back(c.fix->state, c.fix->logged_on);
      c.fix->state = nullptr;
    }
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
    bump(pipeline_.gateway_counters(), GwCount::RefusedConnLimit);  // before the client can see the close
    (void)!::send(fd, kLine, sizeof kLine - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    ::close(fd);
  }

  // accept() found no descriptor: spend the reserve to take every pending connection off
  // the backlog (each refused), so the level-triggered listener stops firing; if the
  // reserve cannot be had back, stop polling the listener for a while instead.
  void out_of_descriptors(int err) {
    bump(pipeline_.gateway_counters(), GwCount::AcceptFdExhausted);
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
      char text[128];
      HFT_LOG_WARN(pipeline_.log().io(),
                   "accept: {} (RLIMIT_NOFILE {}): refusing new connections, serving the {} open; {} refused so far{}",
                   net::errno_text(err, text), static_cast<std::uint64_t>(lim.rlim_cur), pipeline_.open_connections(),
                   get(pipeline_.gateway_counters(), GwCount::RefusedConnLimit),
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

  // ---- FIX ---------------------------------------------------------------------------
  // Bytes from a FIX connection: to its session, or, before the peer is known, into the
  // pre-logon buffer until its first message can be read.
  void fix_bytes(std::uint32_t slot, std::string_view bytes) {
    Conn& c = conns_[slot];
    FixConn& f = *c.fix;
    if (f.session) {
      f.session->on_bytes(bytes);
      fix_after_call(slot);
      return;
    }
    if (f.pre_len + bytes.size() > f.pre.size()) {
      fix_refuse(slot, "no complete Logon in the first 8 KiB");
      return;
    }
    std::memcpy(f.pre.data() + f.pre_len, bytes.data(), bytes.size());
    f.pre_len += bytes.size();
    hft::fix::Message m;
    const std::string_view pre(f.pre.data(), f.pre_len);
    const auto r = hft::fix::parse(pre, m, {.max_body_length = kFixMaxMessage});
    if (r.status == hft::fix::ParseStatus::Incomplete) return;
    if (!r.ok() || m.msg_type() != hft::fix::msg_type::kLogon) {
      fix_refuse(slot, "first message is not a valid Logon");
      return;
    }
    const ServerConfig& cfg = pipeline_.config();
    if (m.get(fixtag::kTargetCompID) != cfg.fix_comp_id) {
      fix_refuse(slot, "Logon to another TargetCompID");
      return;
    }
    const std::string_view peer = m.get(fixtag::kSenderCompID);
    if (!peer.empty() && !cfg.fix_peers.empty() &&
        std::find(cfg.fix_peers.begin(), cfg.fix_peers.end(), peer) == cfg.fix_peers.end()) {
      fix_refuse_logon(slot, peer, "SenderCompID is not in --fix-peers");
      return;
    }
    const char* why = "";
    FixSessionState* st = peer.empty() ? nullptr : pipeline_.fix_registry().acquire(peer, why);
    if (st == nullptr) {
      fix_refuse(slot, peer.empty() ? "Logon without SenderCompID" : why);
      return;
    }
    f.state = st;
    f.session.emplace(hft::fix::SessionConfig{.sender_comp_id = cfg.fix_comp_id,
                                              .target_comp_id = std::string(peer),
                                              .role = hft::fix::SessionRole::Acceptor,
                                              .answer_logout_at_once = false,  // reports owed go first
                                              .max_message_size = kFixMaxMessage},
                      *st->store, f.handler, utc_);
    f.session->start();
    f.pre_len = 0;
    f.session->on_bytes(pre);
    fix_after_call(slot);
  }

  void fix_refuse(std::uint32_t slot, const char* why) {
    HFT_LOG_WARN(pipeline_.log().io(), "FIX connection fd {} refused: {}", conns_[slot].fd, why);
    close_conn(slot);
  }

  // A Logon refused by who sent it (--fix-peers, case 1S.c): the close, without a reply
  // (nothing is said to a stranger), and a log line naming its address and CompID. No
  // session or registry state is made or touched.
  void fix_refuse_logon(std::uint32_t slot, std::string_view peer, const char* why) {
    Conn& c = conns_[slot];
    char addr[INET_ADDRSTRLEN + 8] = "?";
    sockaddr_in sa{};
    socklen_t len = sizeof sa;
    if (::getpeername(c.fd, reinterpret_cast<sockaddr*>(&sa), &len) == 0 && sa.sin_family == AF_INET) {
      char ip[INET_ADDRSTRLEN];
      if (::inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof ip) != nullptr)
        (void)std::snprintf(addr, sizeof addr, "%s:%u", ip, static_cast<unsigned>(ntohs(sa.sin_port)));
    }
    HFT_LOG_WARN(pipeline_.log().io(), "FIX Logon from {} refused: SenderCompID '{}': {}", addr, peer, why);
    close_conn(slot);
  }

  // After a session call: a session that ended gets what it said flushed, then closes.
  void fix_after_call(std::uint32_t slot) {
    Conn& c = conns_[slot];
    if (c.fd < 0 || !c.fix->session) return;
    if (c.fix->session->state() == hft::fix::SessionState::Disconnected) {
      flush(slot);
      close_conn(slot);
    }
  }

  void fix_event(std::uint32_t slot, const hft::fix::SessionEvent& e) {
    if (e.kind == hft::fix::SessionEventKind::LoggedOn) {
      conns_[slot].fix->logged_on = true;
      return;
    }
    if (e.kind == hft::fix::SessionEventKind::LogoutRequested) {
      // Answered once every admitted order has its reports (fix_reply), or at the timeout.
      if (conns_[slot].in_flight == 0) conns_[slot].fix->session->logout();
      return;
    }
    if (e.kind != hft::fix::SessionEventKind::Disconnect) return;
    const FixConn& f = *conns_[slot].fix;
    HFT_LOG_INFO(pipeline_.log().io(), "FIX session {}: {}", f.state ? std::string_view(f.state->comp_id) : "?",
                 e.text);
  }

  void fix_app_message(std::uint32_t slot, const hft::fix::Message& m) {
    Conn& c = conns_[slot];
    FixConn& f = *c.fix;
    const std::string_view type = m.msg_type();
    if (type == hft::fix::msg_type::kNewOrderSingle) {
      fix_new_order(slot, m);
    } else if (type == hft::fix::msg_type::kOrderCancelRequest) {
      // IOC orders never rest: by the time a cancel arrives there is nothing to cancel.
      const bool known = f.state->clordids.seen(m.get(fixtag::kOrigClOrdID));
      fix_cancel_reject(f, m, known, known ? 0 : 1,  // too late to cancel / unknown order
                        known ? "IOC orders never rest: nothing to cancel" : "unknown order");
    } else {
      (void)f.session->send_app(hft::fix::msg_type::kBusinessMessageReject, [&](hft::fix::MessageBuilder& b) {
        b.add(fixtag::kRefSeqNum, m.seq_num());
        b.add(fixtag::kRefMsgType, type);
        b.add(fixtag::kBusinessRejectReason, 3);  // unsupported message type
        b.add(fixtag::kText, "unsupported MsgType");
      });
    }
  }

  void fix_cancel_reject(FixConn& f, const hft::fix::Message& m, bool known, unsigned reason, std::string_view text) {
    (void)f.session->send_app(hft::fix::msg_type::kOrderCancelReject, [&](hft::fix::MessageBuilder& b) {
      b.add(fixtag::kOrderID, "NONE");
      b.add(fixtag::kClOrdID, m.has(fixtag::kClOrdID) ? m.get(fixtag::kClOrdID) : std::string_view("NONE"));
      b.add(fixtag::kOrigClOrdID, m.has(fixtag::kOrigClOrdID) ? m.get(fixtag::kOrigClOrdID) : std::string_view("NONE"));
      b.add_char(fixtag::kOrdStatus, known ? '4' : '8');
      b.add_char(fixtag::kCxlRejResponseTo, '1');
      b.add(fixtag::kCxlRejReason, reason);
      b.add(fixtag::kText, text);
    });
  }

  // An application message the session's dictionary found a value-level problem in (a
  // required body field missing, an enum value out of range, a bad data format): answered
  // at the business level, and nothing executes. A NewOrderSingle gets a reject
  // ExecutionReport echoing what it carried (through the pipeline when it has an Account,
  // so the reject keeps its place among the Account's reports); an OrderCancelRequest an
  // OrderCancelReject (CxlRejReason 99); any other type a BusinessMessageReject,
  // BusinessRejectReason 5 (conditionally required field missing) for a missing field,
  // else 0 (other). FIX 4.4's BusinessMessageReject has no RefTagID(371): Text names the field.
  void fix_invalid_app_message(std::uint32_t slot, const hft::fix::Message& m, const FieldProblem& bad) {
    FixConn& f = *conns_[slot].fix;
    const std::string_view type = m.msg_type();
    if (type == hft::fix::msg_type::kNewOrderSingle) {
      fix_new_order(slot, m, &bad);
      return;
    }
    char text[kMaxReply];
    const std::string_view why = invalid_field_text(text, bad.tag, bad.text);
    bump(pipeline_.gateway_counters(), GwCount::FixOtherRejected);
    if (type == hft::fix::msg_type::kOrderCancelRequest) {
      fix_cancel_reject(f, m, f.state->clordids.seen(m.get(fixtag::kOrigClOrdID)), 99, why);
      return;
    }
    (void)f.session->send_app(hft::fix::msg_type::kBusinessMessageReject, [&](hft::fix::MessageBuilder& b) {
      b.add(fixtag::kRefSeqNum, m.seq_num());
      b.add(fixtag::kRefMsgType, type);
      b.add(fixtag::kBusinessRejectReason, bad.missing ? 5 : 0);
      b.add(fixtag::kText, why);
    });
  }

  void fix_send_reports(FixConn& f, const FixOrder& o, std::string_view order_id, const ParsedReply* rep,
                        OrdRejReason why, std::string_view text) {
    write_reports([&](auto&& fill) { (void)f.session->send_app(hft::fix::msg_type::kExecutionReport, fill); }, o,
                  order_id, rep, why, text, utc_.now_ns());
  }

  // A reject decided here, before the pipeline. An order admitted under its ClOrdID (`key`
  // != 0) has its outcome journaled first (--journal), as the pipeline's line would read.
  void fix_reject_order(FixConn& f, const FixOrder& o, OrdRejReason why, std::string_view text, std::uint64_t key = 0,
                        std::uint64_t req = 0, Reason reason = Reason::None) {
    char order_id[64];
    const std::string_view id = fix_order_id(order_id, ++fix_orders_);
    if (key != 0 && f.state->journal != nullptr) {
      char line[kMaxReply];
      detail::Out w{line};
      w.num(req);
      w.put(" REJ:");
      w.put(reason_text(reason));
      f.state->journal_outcome(key, id, std::string_view(line, w.n));
    }
    fix_send_reports(f, o, id, nullptr, why, text);
    fix_report_lat_.record(pipeline_.clock().delta_to_ns(hft::TscClock::ticks() - t_recv_));
  }

  // A PossDup (or PossResend) re-send of an order whose outcome is journaled: its reports
  // again, with its OrderID and ExecIDs; nothing executes.
  void fix_resend_outcome(FixConn& f, const FixOrder& o, const FixOutcomes::Outcome& out) {
    const auto pr = parse_reply_line(out.reply_view());
    if (!pr) return;
    bump(pipeline_.gateway_counters(), GwCount::Duplicates);
    fix_send_reports(f, o, out.order_id_view(), &*pr, ord_rej_reason(pr->why), pr->reason);
  }

  // `bad`: the session's dictionary found this problem in the order (fix_invalid_app_message).
  void fix_new_order(std::uint32_t slot, const hft::fix::Message& m, const FieldProblem* bad = nullptr) {
    Conn& c = conns_[slot];
    FixConn& f = *c.fix;
    FixSessionState& st = *f.state;
    bump(pipeline_.gateway_counters(), GwCount::Requests);
    const std::uint64_t id_key = ClOrdIdWindow::key(m.get(fixtag::kClOrdID));
    st.clordids.prefetch(id_key);  // its cache misses overlap the mapping below
    FixOrder o;
    MapResult mr = map_new_order(m, o);
    if (bad != nullptr) [[unlikely]]
      mr = MapResult{false, invalid_field_reason(bad->tag, bad->missing), bad->text};
    std::uint64_t req = fix_req_id(st.session_hash, id_key);
    bool remember = mr.ok;
    const bool resent = m.get_bool(fixtag::kPossDupFlag) == true || m.get_bool(fixtag::kPossResend) == true;
    if (mr.ok && resent && st.clordids.seen(id_key)) {
      // A re-send of an order this session already has. In flight here, or without
      // --journal: its reports went out (the session's resend has them) or are coming.
      if (st.outcomes == nullptr || f.pending_index.find(req) != hft::FlatIndex::npos) {
        bump(pipeline_.gateway_counters(), GwCount::Duplicates);
        return;
      }
      if (const FixOutcomes::Outcome* out = st.outcomes->find(id_key)) {
        fix_resend_outcome(f, o, *out);
        return;
      }
      // Admitted before a restart, no outcome journaled: the process stopped between the
      // two. An Account's order goes to the pipeline again under the same (correlation id,
      // req_id), which the journal's re-send window answers with the original reply if it
      // executed, and which executes now if it never did. Without an Account there is no
      // window to ask, and executing again could execute twice.
      if (o.account_len == 0) {
        bump(pipeline_.gateway_counters(), GwCount::RejectedBadMsg);
        fix_reject_order(f, o, OrdRejReason::DuplicateOrder,
                         "BAD_MSG: re-sent ClOrdID(11) of an order without Account whose outcome was lost at a "
                         "restart: not executed again");
        return;
      }
    } else if (mr.ok && !st.clordids.insert(id_key)) {
      mr = MapResult{false, OrdRejReason::DuplicateOrder, "BAD_MSG: duplicate ClOrdID(11)"};
      remember = false;
    } else if (mr.ok && st.journal != nullptr) {
      st.journal_admitted(id_key);  // before the pipeline: a restart knows the ClOrdID, whatever came next
    }
    if (!remember) req = fix_req_id(st.session_hash ^ local_nonce_, ++local_rejects_);  // unique: never deduplicated
    // Without an Account an order has no family to keep its place in: refuse it here.
    if (!mr.ok && (o.account_len == 0 || o.acct().size() != m.get(fixtag::kAccount).size())) {
      bump(pipeline_.gateway_counters(), GwCount::RejectedBadMsg);
      char text[kMaxReply];
      fix_reject_order(f, o, mr.reason, bad != nullptr ? invalid_field_text(text, bad->tag, bad->text) : mr.text);
      return;
    }
    const std::uint64_t key = remember ? id_key : 0;
    if (pipeline_.shutdown_requested()) {
      bump(pipeline_.gateway_counters(), GwCount::RejectedShutdown);
      fix_reject_order(f, o, OrdRejReason::ExchangeClosed, "SHUTDOWN", key, req, Reason::Shutdown);
      return;
    }
    if (f.free_pending.empty() || f.pending_index.find(req) != hft::FlatIndex::npos) {
      bump(pipeline_.gateway_counters(), GwCount::RejectedBusy);
      fix_reject_order(f, o, OrdRejReason::Other, "BUSY: 4096 orders in flight on this session", key, req,
                       Reason::Busy);
      return;
    }
    const std::uint32_t pi = f.free_pending.back();
    f.free_pending.pop_back();
    (void)f.pending_index.try_insert(req, pi);  // room: at most kFixInFlight live keys
    FixPending& p = f.pending[pi];
    p.req_id = req;
    p.key = id_key;
    p.remember = remember;
    p.order = o;
    p.local_reason = mr.reason;
    p.local_text = mr.ok ? std::string_view{} : mr.text;
    p.local_field = bad != nullptr;
    p.local_tag = bad != nullptr ? bad->tag : 0;
    p.t_recv = t_recv_;
    // The FIX codec's decode side: the order the pipeline executes (an invalid one, which
    // the venue answers BAD_MSG, in the family's order).
    Order order;
    order.req_id = req;
    order.corr = account_correlation(o.acct());
    order.valid = mr.ok;
    order.symbol = o.symbol;
    order.side = o.side;
    order.qty = o.qty;
    order.price = o.price;
    const FamilyKey fk = family_key(order.corr, index_, ++uncorrelated_seq_);
    ++c.in_flight;  // before admit: an inline task may be answered inside it
    const Reason why = pipeline_.admit(ConnRef{index_, slot, c.gen}, fk, order, t_recv_);
    if (why != Reason::None) {
      --c.in_flight;
      (void)f.pending_index.erase(req);
      f.free_pending.push_back(pi);
      fix_reject_order(f, o, ord_rej_reason(why), reason_text(why), key, req, why);
      return;
    }
    admit_lat_.record(pipeline_.clock().delta_to_ns(hft::TscClock::ticks() - t_recv_));
  }

  // The FIX codec's encode side: the pipeline's execution of a FIX order becomes its
  // ExecutionReports (--journal: its outcome first).
  void fix_reply(std::uint32_t slot, const Execution& e) {
    FixConn& f = *conns_[slot].fix;
    if (!f.session) return;
    const std::uint32_t pi = f.pending_index.find(e.req_id);
    if (pi == hft::FlatIndex::npos) return;
    (void)f.pending_index.erase(e.req_id);
    f.free_pending.push_back(pi);
    const FixPending& p = f.pending[pi];
    char order_id[64];
    const std::string_view id = fix_order_id(order_id, ++fix_orders_);
    if (!p.local_text.empty()) {
      char why[kMaxReply];
      fix_send_reports(f, p.order, id, nullptr, p.local_reason,
                       p.local_field ? invalid_field_text(why, p.local_tag, p.local_text) : p.local_text);
    } else {
      if (p.remember && f.state->journal != nullptr) {
        char line[kMaxReply];
        std::size_t n = format_execution(line, e);
        if (n != 0 && line[n - 1] == '\n') --n;
        f.state->journal_outcome(p.key, id, std::string_view(line, n));
      }
      char avg[32];
      const ParsedReply pr = report_of(e, avg);
      fix_send_reports(f, p.order, id, &pr, ord_rej_reason(pr.why), pr.reason);
    }
    fix_report_lat_.record(pipeline_.clock().delta_to_ns(hft::TscClock::ticks() - p.t_recv));
    if (f.session->state() == hft::fix::SessionState::LogoutReceived && conns_[slot].in_flight == 0)
      f.session->logout();
    fix_after_call(slot);
  }

  std::string_view fix_order_id(char* out, std::uint64_t n) const {
    std::memcpy(out, id_prefix_.data(), id_prefix_.size());
    const auto r = std::to_chars(out + id_prefix_.size(), out + 64, n);
    return {out, static_cast<std::size_t>(r.ptr - out)};
  }

  void fix_timers() {
    const std::uint64_t now = steady_.now_ns();
    if (now - last_fix_timer_ < kFixTimerNs) return;
    last_fix_timer_ = now;
    for (std::uint32_t s = 0; s < conns_.size(); ++s) {
      Conn& c = conns_[s];
      if (c.fd < 0 || !c.fix) continue;
      if (c.fix->session) {
        c.fix->session->on_timer();
        fix_after_call(s);
      } else if (now - c.fix->accepted_ns >= kFixLogonTimeoutNs) {
        fix_refuse(s, "no Logon within 10 s");
      }
    }
  }

  void fix_logout_all(std::string_view why) {
    for (std::uint32_t s = 0; s < conns_.size(); ++s) {
      Conn& c = conns_[s];
      if (c.fd >= 0 && c.fix && c.fix->session) {
        c.fix->session->logout(why);
        mark_dirty(s);
      }
    }
  }

  void release_fix_states() {
    for (const auto& [st, logged_on] : fix_closed_) pipeline_.fix_registry().release(st, logged_on);
    fix_closed_.clear();
  }

  Pipeline& pipeline_;
  unsigned index_;
  hft::IntervalRecorder::Writer admit_lat_, write_lat_, fix_report_lat_;  // Stage::Admit, Write, FixReport
  int listen_fd_ = -1, epfd_ = -1, evfd_ = -1;
  int fix_listen_fd_ = -1;
  std::size_t fix_conns_ = 0;
  std::uint64_t last_fix_timer_ = 0;
  std::uint64_t fix_orders_ = 0;
  std::uint64_t local_rejects_ = 0;  // req_ids of FIX orders refused before the pipeline
  std::uint64_t local_nonce_ = 0;    // hash of id_prefix_: those req_ids differ across restarts
  std::uint64_t t_recv_ = 0;         // TSC ticks of the read being handled (FIX)
  std::string id_prefix_;            // OrderID/ExecID prefix: "<fix_id_base><gateway>-"
  std::vector<std::pair<FixSessionState*, bool>> fix_closed_;  // released after the loop iteration (logged on?)
  hft::SteadyClock steady_;  // FIX timers of the gateway itself (logon wait, timer period)
  hft::fix::UtcClock utc_;   // the sessions' clock: SendingTime is UTC
  int reserve_fd_ = -1;      // /dev/null, closed to make room for refusing when descriptors run out
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
  std::thread thread_;
};

}  // namespace mini_oms
