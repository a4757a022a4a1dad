// mini_oms/transport.hpp: the I/O stage, without a protocol. One Gateway per I/O thread owns
// its connections: accept, read, write, limits, and the replies coming back from the
// pipeline. What the bytes mean is a codec's business: each listener names the codec its
// connections speak (Gateway<Pipeline, Codec...>: listener i speaks Codec i; the server
// uses LineCodec and FixCodec), and the transport hands a connection's bytes to its codec
// (on_bytes) and an Execution for it back (on_reply). A codec admits the orders it decodes
// through admit() and writes through send().
//
// Owns: the epoll loop, connection slots and their output buffers, the MPSC reply queue
// and its eventfd, the replies held for the journal's durability (transport_conn.hpp),
// connection and descriptor limits. May call: the pipeline (admit, config, counters, log,
// journal), its codecs, net.hpp. Knows no protocol.
//
// Replies reach a gateway two ways: deliver() from its own thread (a task that ran inline,
// a local reject) goes to the codec at once; from another thread (a worker) it goes
// through the gateway's MpscQueue and an eventfd wake-up, sent only when the gateway is
// not already awake (one flag exchange per reply). Either way every connection with new
// output is flushed once per loop iteration: one send() for all the replies a recv()
// batch produced. A client whose unsent replies exceed out_buffer is cut (slow reader,
// logged with its address); a half-closed client gets every reply it is owed first.
//
// Connection limits: past --max-connections (all gateways together) a new connection is
// answered "- REJ:CONN_LIMIT" and closed. Out of descriptors (EMFILE/ENFILE), where a
// level-triggered loop would spin on the readable listener, it spends a reserve descriptor
// to accept and refuse the pending connections, or stops polling the listeners for 100 ms
// (transport_conn.hpp); open connections are served on.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "hft/core/clock.hpp"
#include "hft/core/thread.hpp"
#include "hft/queue/mpsc_queue.hpp"
#include "logging.hpp"
#include "net.hpp"
#include "records.hpp"

namespace mini_oms {

/// A connection's peer as text ("1.2.3.4:5678", "[::1]:5678", or "?"), for log lines.
struct PeerText {
  char text[INET6_ADDRSTRLEN + 16] = "?";  // net::peer_text's buffer
};

template <class Pipeline, template <class> class... Codec>
class Gateway {
 public:
  Gateway(Pipeline& pipeline, unsigned index, std::size_t reply_capacity)
      : pipeline_(pipeline),
        index_(index),
        admit_lat_(pipeline.stage(Stage::Admit).rec.register_writer()),
        write_lat_(pipeline.stage(Stage::Write).rec.register_writer()),
        codecs_(self<Codec>()...),  // each codec built in place from the gateway
        replies_(reply_capacity) {
    const ServerConfig& cfg = pipeline.config();
    conns_.resize(cfg.max_connections);
    for (std::size_t s = cfg.max_connections; s-- > 0;) free_slots_.push_back(static_cast<std::uint32_t>(s));
    dirty_.reserve(cfg.max_connections);
    is_dirty_.assign(cfg.max_connections, false);
    rbuf_.resize(std::size_t{64} * 1024);
    if (!cfg.journal_dir.empty()) held_.resize(reply_capacity);  // every reply that can be in flight
  }
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;
  ~Gateway() {
    if (epfd_ >= 0) ::close(epfd_);
    if (evfd_ >= 0) ::close(evfd_);
    if (reserve_fd_ >= 0) ::close(reserve_fd_);
  }

  /// Before the thread starts: the epoll set. listen_fds[i] speaks Codec i; < 0: not open.
  void open(std::span<const int> listen_fds) {
    for (std::size_t i = 0; i < listen_fds.size() && i < sizeof...(Codec); ++i) {
      if (listen_fds[i] >= 0) {
        listen_fds_.push_back(listen_fds[i]);
        listen_codec_.push_back(static_cast<std::uint8_t>(i));
      }
    }
    epfd_ = ::epoll_create1(0);
    evfd_ = ::eventfd(0, EFD_NONBLOCK);
    reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);  // spent when descriptors run out
    if (epfd_ < 0 || evfd_ < 0 || reserve_fd_ < 0) net::fail("epoll_create1/eventfd/open(/dev/null)");
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kWakeTag;
    ::epoll_ctl(epfd_, EPOLL_CTL_ADD, evfd_, &ev);
    watch_listeners();
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

  [[nodiscard]] unsigned index() const noexcept { return index_; }
  [[nodiscard]] Pipeline& pipeline() noexcept { return pipeline_; }
  template <std::size_t I>
  [[nodiscard]] auto& codec() noexcept {
    return std::get<I>(codecs_);
  }
  /// The gateway whose loop runs on the calling thread, if any.
  static Gateway*& current() noexcept {
    static thread_local Gateway* g = nullptr;
    return g;
  }

  // ---- what codecs call (this gateway's thread) --------------------------------------------
  /// Routes a decoded order to its partition. None when admitted (its Execution comes back
  /// through the codec's on_reply); else the admission reject for the codec to answer.
  Reason admit(std::uint32_t slot, const Order& o, std::uint64_t t_recv);
  /// Appends to the connection's output (flushed at the end of the loop iteration); a
  /// client this far behind (--out-buffer) is cut as a slow reader.
  void send(std::uint32_t slot, const char* text, std::size_t len);
  void mark_dirty(std::uint32_t s) {
    if (!is_dirty_[s]) {
      is_dirty_[s] = true;
      dirty_.push_back(s);
    }
  }
  [[nodiscard]] bool is_open(std::uint32_t slot) const noexcept { return conns_[slot].fd >= 0; }
  /// Whether send(slot, ..., len) fits the output buffer (else it cuts the connection).
  [[nodiscard]] bool fits(std::uint32_t slot, std::size_t len) const noexcept {
    return conns_[slot].out_tail - conns_[slot].out_head + len <= pipeline_.config().out_buffer;
  }
  /// The generation of the connection in `slot` (ConnRef::gen of its replies).
  [[nodiscard]] std::uint32_t gen(std::uint32_t slot) const noexcept { return conns_[slot].gen; }
  /// The gateway counters of the port the connection came in on.
  [[nodiscard]] hft::CounterGroup& counters(std::uint32_t slot) noexcept {
    return pipeline_.gateway_counters(conns_[slot].codec);
  }
  /// Requests admitted on the connection and not yet answered.
  [[nodiscard]] std::uint32_t in_flight(std::uint32_t slot) const noexcept { return conns_[slot].in_flight; }
  [[nodiscard]] PeerText peer(std::uint32_t slot) const noexcept { return peer_of(conns_[slot].fd); }
  /// Bad input from a peer, logged at most once a second per gateway (the lines in between
  /// are counted and the count is logged with the next one): a flood cannot flood the log.
  void log_bad_input(std::uint32_t slot, std::string_view what, std::string_view sample);
  void flush(std::uint32_t slot);
  void close(std::uint32_t slot);

 private:
  static constexpr std::uint64_t kWakeTag = ~0ULL, kListenTag = ~1ULL;  // kListenTag - i: listener i

  struct Conn {
    int fd = -1;
    std::uint32_t gen = 0;
    std::uint8_t codec = 0;  // which Codec speaks on it
    std::unique_ptr<char[]> out;
    std::size_t out_head = 0, out_tail = 0;
    bool want_out = false;
    bool read_closed = false;     // the client half-closed: answer what it sent, then close
    std::uint32_t in_flight = 0;  // requests admitted and not yet answered
  };

  template <template <class> class>
  Gateway& self() noexcept {
    return *this;
  }
  // Calls f(codec) on codec number k, or on every codec when k is kAll.
  static constexpr std::size_t kAll = ~std::size_t{0};
  template <class F>
  void each_codec(std::size_t k, F&& f) {
    std::size_t i = 0;
    std::apply([&](auto&... c) { ((k == kAll || i == k ? f(c) : void(), ++i), ...); }, codecs_);
  }

  void wake() noexcept {
    const std::uint64_t one = 1;
    (void)!::write(evfd_, &one, sizeof one);
  }
  void watch_listeners();

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
        if (tag == kWakeTag) {
          std::uint64_t v;
          (void)!::read(evfd_, &v, sizeof v);  // the replies are drained below
        } else if (tag > kListenTag - listen_fds_.size() && tag <= kListenTag) {
          accept_all(static_cast<std::size_t>(kListenTag - tag));
        } else {
          on_events(static_cast<std::uint32_t>(tag), events[e].events);
        }
      }
      // Reset before draining, acq_rel so a worker's push before its exchange(true) is
      // visible to the drain. Pairs with deliver()'s exchange.
      wake_pending_.exchange(false, std::memory_order_acq_rel);
      drain_replies();
      release_held();
      each_codec(kAll, [](auto& c) {
        if (c.active()) c.on_timer();
      });
      flush_dirty();
      each_codec(kAll, [](auto& c) { c.end_of_iteration(); });
      if (pipeline_.io_stopping()) {
        if (!draining) each_codec(kAll, [](auto& c) { c.logout_all("server shutting down"); });
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
      if (conns_[s].fd >= 0) close(s);
    }
    each_codec(kAll, [](auto& c) { c.end_of_iteration(); });
    current() = nullptr;
  }

  void accept_all(std::size_t listener) {
    const ServerConfig& cfg = pipeline_.config();
    for (;;) {
      const int fd = ::accept4(listen_fds_[listener], nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno == EMFILE || errno == ENFILE) out_of_descriptors(errno, listen_codec_[listener]);
        break;  // EAGAIN: nothing pending
      }
      if (pipeline_.shutdown_requested()) {
        ::close(fd);
        continue;
      }
      if (free_slots_.empty() || !pipeline_.try_open_connection()) {
        refuse(fd, listen_codec_[listener]);
        continue;
      }
      net::set_nodelay(fd);
      const std::uint32_t s = free_slots_.back();
      free_slots_.pop_back();
      Conn& c = conns_[s];
      c.fd = fd;
      ++c.gen;
      c.codec = listen_codec_[listener];
      if (!c.out) c.out.reset(new char[cfg.out_buffer]);
      c.out_head = c.out_tail = 0;
      c.want_out = false;
      c.read_closed = false;
      c.in_flight = 0;
      each_codec(kAll, [s](auto& k) { k.reset_slot(s); });  // the slot's previous connection's state
      each_codec(c.codec, [s](auto& k) { k.on_accept(s); });
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = s;
      ::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
      bump(pipeline_.gateway_counters(c.codec), GwCount::Connections);
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
        const std::string_view bytes(rbuf_.data(), static_cast<std::size_t>(got));
        each_codec(c.codec, [&](auto& k) { k.on_bytes(s, bytes, t_recv); });
        if (c.fd < 0) return;  // cut while answering (slow reader), or the codec closed it
        mark_dirty(s);         // flushed once, after this iteration's events
        if (static_cast<std::size_t>(got) < rbuf_.size()) return;
        continue;
      }
      if (got == 0) {  // half-close: stop reading, still answer everything it sent
        c.read_closed = true;
        update_events(s);
        close_if_done(s);
      } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        close(s);
      }
      return;
    }
  }

  // Its codec encodes the Execution (our own thread, once the reply may leave).
  void send_reply(const Reply& r);
  void drain_replies() {
    Reply r;
    while (replies_.try_pop(r)) write_reply(r);
  }
  void flush_dirty() {
    for (const std::uint32_t s : dirty_) {
      is_dirty_[s] = false;
      if (conns_[s].fd >= 0) flush(s);
      close_if_done(s);
    }
    dirty_.clear();
  }
  void update_events(std::uint32_t slot);
  void close_if_done(std::uint32_t slot) {
    Conn& c = conns_[slot];
    if (c.fd >= 0 && c.read_closed && c.in_flight == 0 && c.out_tail == c.out_head) close(slot);
  }
  static PeerText peer_of(int fd) noexcept;

  // transport_conn.hpp: the journal's held replies, refusals, descriptor exhaustion.
  void write_reply(const Reply& r);
  void hold(const Reply& r);
  void release_held();
  void refuse(int fd, std::size_t port);
  void out_of_descriptors(int err, std::size_t port);
  void pause_listening();
  void resume_listening_if_due();

  Pipeline& pipeline_;
  unsigned index_;
  hft::IntervalRecorder::Writer admit_lat_, write_lat_;  // Stage::Admit, Stage::Write
  std::tuple<Codec<Gateway>...> codecs_;
  std::vector<int> listen_fds_;
  std::vector<std::uint8_t> listen_codec_;  // listen_fds_[i] speaks Codec listen_codec_[i]
  int epfd_ = -1, evfd_ = -1;
  int reserve_fd_ = -1;  // /dev/null, closed to make room for refusing when descriptors run out
  bool listen_paused_ = false;
  std::uint64_t listen_resume_ns_ = 0, last_fd_log_ns_ = 0;
  std::uint64_t last_bad_log_ns_ = 0, bad_unlogged_ = 0;  // log_bad_input's rate limit
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

#include "transport_conn.hpp"  // NOLINT(misc-header-include-cycle): the rest of Gateway
