// mini_oms/transport_conn.hpp: the rest of the transport's Gateway (transport.hpp includes
// it at its end): admitting a codec's orders, writing, flushing and closing connections, the
// replies held until the journal is durable, and what happens at the connection and
// descriptor limits.
// May call: the Gateway's own state, its codecs (on_close), the pipeline's journal,
// counters and log.
#pragma once

#include <sys/resource.h>

#include "transport.hpp"  // NOLINT(misc-header-include-cycle): included from transport.hpp's end

namespace mini_oms {

template <class Pipeline, template <class> class... Codec>
Reason Gateway<Pipeline, Codec...>::admit(std::uint32_t slot, const Order& o, std::uint64_t t_recv) {
  if (pipeline_.shutdown_requested()) {
    bump(counters(slot), GwCount::RejectedShutdown);
    return Reason::Shutdown;
  }
  const FamilyKey fk = family_key(o.corr, index_, ++uncorrelated_seq_);
  Conn& c = conns_[slot];
  ++c.in_flight;  // before admit: an inline task may be answered inside it
  const Reason why = pipeline_.admit(ConnRef{index_, slot, c.gen}, fk, o, t_recv);
  if (why != Reason::None) {
    --c.in_flight;
    return why;
  }
  admit_lat_.record(pipeline_.clock().delta_to_ns(hft::TscClock::ticks() - t_recv));
  return why;
}

template <class Pipeline, template <class> class... Codec>
void Gateway<Pipeline, Codec...>::send(std::uint32_t slot, const char* text, std::size_t len) {
  const ServerConfig& cfg = pipeline_.config();
  Conn& c = conns_[slot];
  if (c.fd < 0) return;
  if (c.out_tail + len > cfg.out_buffer) {  // compact
    std::memmove(c.out.get(), c.out.get() + c.out_head, c.out_tail - c.out_head);
    c.out_tail -= c.out_head;
    c.out_head = 0;
  }
  if (c.out_tail + len > cfg.out_buffer) {  // a client that does not read: cut it
    bump(counters(slot), GwCount::SlowDisconnects);
    HFT_LOG_WARN(pipeline_.log().io(), "closing the connection from {}: {} bytes of replies unread (slow reader)",
                 peer(slot).text, c.out_tail - c.out_head);
    close(slot);
    return;
  }
  std::memcpy(c.out.get() + c.out_tail, text, len);
  c.out_tail += len;
  bump(counters(slot), GwCount::RepliesWritten);
}

template <class Pipeline, template <class> class... Codec>
void Gateway<Pipeline, Codec...>::log_bad_input(std::uint32_t slot, std::string_view what, std::string_view sample) {
  const std::uint64_t now = pipeline_.clock().now_ns();
  if (last_bad_log_ns_ != 0 && now - last_bad_log_ns_ < 1'000'000'000ULL) {
    ++bad_unlogged_;
    return;
  }
  last_bad_log_ns_ = now;
  HFT_LOG_WARN(pipeline_.log().io(), "bad input from {}: {}: '{}' ({} more since the last such line)", peer(slot).text,
               what, sample.substr(0, 80), bad_unlogged_);
  bad_unlogged_ = 0;
}

template <class Pipeline, template <class> class... Codec>
void Gateway<Pipeline, Codec...>::send_reply(const Reply& r) {
  Conn& c = conns_[r.conn.slot];
  if (c.fd < 0 || c.gen != r.conn.gen) {
    // Its connection is gone. A codec whose sessions outlive connections (FIX) keeps what
    // it owes the peer; else the reply is dropped.
    bool kept = false;
    each_codec(kAll, [&](auto& k) { kept = kept || k.on_gone_reply(r.conn.slot, r.conn.gen, r.exec); });
    if (!kept) bump(pipeline_.gateway_counters(c.codec), GwCount::RepliesDropped);
    return;
  }
  --c.in_flight;
  each_codec(c.codec, [&](auto& k) { k.on_reply(r.conn.slot, r.exec); });
  if (c.fd >= 0) {
    write_lat_.record(pipeline_.clock().delta_to_ns(hft::TscClock::ticks() - r.t_built));
    mark_dirty(r.conn.slot);
  }
}

// A reply for one of our connections (our own thread). With --journal, a reply whose
// record is not yet durable waits, in arrival order, behind the ones already waiting; a
// reply that depends on no record (an admission reject) may overtake them, as the
// protocol allows. Under `none` a record is durable once committed, so nothing waits.
template <class Pipeline, template <class> class... Codec>
void Gateway<Pipeline, Codec...>::write_reply(const Reply& r) {
  if (r.durable_after != 0 && (held_count_ != 0 || r.durable_after > durable_seen_)) {
    if (held_count_ == 0) durable_seen_ = pipeline_.journal()->durable_sequence();
    if (held_count_ != 0 || r.durable_after > durable_seen_) {
      hold(r);
      return;
    }
  }
  send_reply(r);
}
template <class Pipeline, template <class> class... Codec>
void Gateway<Pipeline, Codec...>::hold(const Reply& r) {
  if (held_count_ == held_.size()) {
    // Cannot happen (held_ fits every reply in flight); if it did, sync now rather than
    // drop a reply or send it early.
    pipeline_.journal()->flush();
    release_held();
  }
  held_[(held_head_ + held_count_) % held_.size()] = r;
  ++held_count_;
}
template <class Pipeline, template <class> class... Codec>
void Gateway<Pipeline, Codec...>::release_held() {
  if (held_count_ == 0) return;
  durable_seen_ = pipeline_.journal()->durable_sequence();
  while (held_count_ != 0 && held_[held_head_].durable_after <= durable_seen_) {
    send_reply(held_[held_head_]);
    held_head_ = (held_head_ + 1) % held_.size();
    --held_count_;
  }
}
template <class Pipeline, template <class> class... Codec>
void Gateway<Pipeline, Codec...>::flush(std::uint32_t slot) {
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
    close(slot);
    return;
  }
  c.out_head = c.out_tail = 0;
  if (c.want_out) {
    c.want_out = false;
    update_events(slot);
  }
}

template <class Pipeline, template <class> class... Codec>
void Gateway<Pipeline, Codec...>::update_events(std::uint32_t slot) {
  Conn& c = conns_[slot];
  epoll_event ev{};
  ev.events = (c.read_closed ? 0u : static_cast<std::uint32_t>(EPOLLIN)) |
              (c.want_out ? static_cast<std::uint32_t>(EPOLLOUT) : 0u);
  ev.data.u64 = slot;
  ::epoll_ctl(epfd_, EPOLL_CTL_MOD, c.fd, &ev);
}

template <class Pipeline, template <class> class... Codec>
void Gateway<Pipeline, Codec...>::watch_listeners() {
  for (std::size_t i = 0; i < listen_fds_.size(); ++i) {
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLEXCLUSIVE;  // one gateway wakes per connection
    ev.data.u64 = kListenTag - i;
    ::epoll_ctl(epfd_, EPOLL_CTL_ADD, listen_fds_[i], &ev);
  }
}

// A connection the server will not serve: one line, then close. Whatever the client
// already sent is read first, so the close is a FIN and the line is not lost to a reset.
template <class Pipeline, template <class> class... Codec>
void Gateway<Pipeline, Codec...>::refuse(int fd, std::size_t port) {
  static constexpr char kLine[] = "- REJ:CONN_LIMIT\n";
  char discard[4096];
  for (int i = 0; i < 16 && ::recv(fd, discard, sizeof discard, MSG_DONTWAIT) > 0; ++i) {
  }
  bump(pipeline_.gateway_counters(port), GwCount::RefusedConnLimit);  // before the client can see the close
  (void)!::send(fd, kLine, sizeof kLine - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
  ::close(fd);
}

// accept() found no descriptor: spend the reserve to take every pending connection off
// the backlog (each refused), so the level-triggered listener stops firing; if the
// reserve cannot be had back, stop polling the listener for a while instead.
template <class Pipeline, template <class> class... Codec>
void Gateway<Pipeline, Codec...>::out_of_descriptors(int err, std::size_t port) {
  bump(pipeline_.gateway_counters(port), GwCount::AcceptFdExhausted);
  if (reserve_fd_ >= 0) {
    ::close(reserve_fd_);
    reserve_fd_ = -1;
    for (std::size_t i = 0; i < listen_fds_.size(); ++i) {
      for (;;) {
        const int fd = ::accept4(listen_fds_[i], nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) break;
        refuse(fd, listen_codec_[i]);
      }
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
                 pipeline_.gateway_counter(GwCount::RefusedConnLimit),
                 listen_paused_ ? "; listener paused 100 ms" : "");
  }
}
// EPOLLEXCLUSIVE registrations cannot be modified: pausing is a delete, resuming an add.
template <class Pipeline, template <class> class... Codec>
void Gateway<Pipeline, Codec...>::pause_listening() {
  if (listen_paused_) return;
  for (const int fd : listen_fds_) ::epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
  listen_paused_ = true;
  listen_resume_ns_ = pipeline_.clock().now_ns() + 100'000'000ULL;
}
template <class Pipeline, template <class> class... Codec>
void Gateway<Pipeline, Codec...>::resume_listening_if_due() {
  if (pipeline_.clock().now_ns() < listen_resume_ns_) return;
  if (reserve_fd_ < 0) reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  watch_listeners();
  listen_paused_ = false;
}

template <class Pipeline, template <class> class... Codec>
void Gateway<Pipeline, Codec...>::close(std::uint32_t slot) {
  Conn& c = conns_[slot];
  if (c.fd < 0) return;
  ::epoll_ctl(epfd_, EPOLL_CTL_DEL, c.fd, nullptr);
  ::close(c.fd);
  c.fd = -1;
  c.out_head = c.out_tail = 0;
  // Its codec may be inside a call on this stack: it keeps the connection's state until
  // the slot is reused (reset_slot), and may release shared state at end_of_iteration.
  each_codec(c.codec, [slot](auto& k) { k.on_close(slot); });
  free_slots_.push_back(slot);
  pipeline_.connection_closed();
}

template <class Pipeline, template <class> class... Codec>
PeerText Gateway<Pipeline, Codec...>::peer_of(int fd) noexcept {
  PeerText p;
  (void)net::peer_text(fd, p.text);
  return p;
}

}  // namespace mini_oms
