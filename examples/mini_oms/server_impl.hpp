// mini_oms/server_impl.hpp: Server's member functions (included by server.hpp).
#pragma once

#include <sstream>

namespace mini_oms {

namespace detail {
// The worker thread's dispatch -> reply-built histogram (registered on its first task).
inline thread_local hft::LatencyHistogram* tl_dispatch_to_built = nullptr;

inline void set_nonblocking(int fd) {
  const int fl = ::fcntl(fd, F_GETFL, 0);
  if (fl < 0 || ::fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) throw std::runtime_error("fcntl O_NONBLOCK failed");
}
inline void bump(std::atomic<std::uint64_t>& c, std::uint64_t n = 1) noexcept { c.fetch_add(n, std::memory_order_relaxed); }
}  // namespace detail

inline Server::Partition::Partition(Server& s, unsigned idx)
    : server(s), index(idx), ring(s.cfg_.ring_size), poller(ring), barrier(ring.sequencer(), {}),
      families(std::max<std::size_t>(1, s.cfg_.family_table / s.cfg_.partitions)) {
  ring.add_gating_sequences({&poller.sequence()});
  handler = [this](const Sched::TaskInfo&, Task& t) { server.run_task(*this, t); };
  hft::FamilySchedulerConfig sc;
  sc.max_families = static_cast<std::uint32_t>(s.cfg_.ring_size * 4);
  sc.max_pending_tasks = static_cast<std::uint32_t>(s.cfg_.ring_size * 4);
  sc.max_pending_per_family = s.cfg_.max_pending_per_family;
  sc.max_tasks_per_slice = s.cfg_.slice;
  sched = std::make_unique<Sched>(sc, handler, *s.pool_);
}

inline Server::Server(ServerConfig cfg) : cfg_(std::move(cfg)) {
  if (cfg_.partitions == 0 || !hft::is_power_of_two(cfg_.partitions)) {
    throw std::invalid_argument("--partitions must be a power of two");
  }
  if (cfg_.io_threads == 0 || cfg_.workers == 0) throw std::invalid_argument("--io-threads and --workers must be >= 1");
  if (cfg_.family_table == 0) throw std::invalid_argument("--family-table must be >= 1");
  const hft::TscClock tsc(std::chrono::milliseconds(20));
  ns_per_tick_ = 1.0 / tsc.ticks_per_ns();
  for (const auto& [sym, px] : std::initializer_list<std::pair<const char*, std::int64_t>>{
           {"AAPL", 1872500}, {"MSFT", 4105000}, {"GOOG", 1401000}, {"AMZN", 1783000}, {"TSLA", 1754000}}) {
    ref_prices_[hft::Symbol::of(sym).key()] = hft::Price::from_ticks(px);
  }
  for (const auto& [sym, text] : cfg_.refs) {
    const auto s = hft::Symbol::parse(sym);
    const auto p = hft::parse_price(text, kTick);
    if (!s || !p || p->ticks() <= 0) throw std::invalid_argument("--ref " + sym + "=" + text + ": bad symbol or price");
    ref_prices_[s->key()] = *p;
  }
  for (std::size_t i = 0; i < kSymbols; ++i) symbols_[i].store(nullptr, std::memory_order_relaxed);
  symbol_storage_.reserve(kSymbols);

  hft::WorkerPoolConfig pc;
  pc.threads = cfg_.workers;
  pc.queue_capacity = hft::round_up_pow2<std::size_t>(cfg_.partitions * cfg_.ring_size * 4 + 64);
  pc.spin_iterations = cfg_.busy_spin ? (1u << 30) : 256;
  pc.name = "oms-worker";
  pool_ = std::make_unique<hft::WorkerPool<Sched::Job>>(pc);
  // Worker-side histograms: one per worker thread, registered on its first task.
  const std::size_t reply_cap = hft::round_up_pow2<std::size_t>(cfg_.partitions * cfg_.ring_size * 4 + 64);
  for (unsigned i = 0; i < cfg_.io_threads; ++i) io_.push_back(std::make_unique<IoThread>(i, reply_cap));
  for (unsigned p = 0; p < cfg_.partitions; ++p) parts_.push_back(std::make_unique<Partition>(*this, p));
}

inline void Server::start() {
  if (started_) return;
  started_ = true;
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (listen_fd_ < 0) throw std::runtime_error("socket() failed");
  const int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(cfg_.port);
  if (::inet_pton(AF_INET, cfg_.host.c_str(), &addr.sin_addr) != 1) throw std::runtime_error("bad --host " + cfg_.host);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 512) != 0) {
    throw std::runtime_error("bind/listen on " + cfg_.host + ":" + std::to_string(cfg_.port) + ": " + std::strerror(errno));
  }
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  detail::set_nonblocking(listen_fd_);

  for (unsigned i = 0; i < io_.size(); ++i) {
    IoThread& io = *io_[i];
    io.epfd = ::epoll_create1(0);
    io.evfd = ::eventfd(0, EFD_NONBLOCK);
    if (io.epfd < 0 || io.evfd < 0) throw std::runtime_error("epoll/eventfd failed");
    io.conns.resize(cfg_.max_connections);
    for (std::size_t s = cfg_.max_connections; s-- > 0;) io.free_slots.push_back(static_cast<std::uint32_t>(s));
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLEXCLUSIVE;
    ev.data.u64 = ~0ULL;  // the listening socket
    ::epoll_ctl(io.epfd, EPOLL_CTL_ADD, listen_fd_, &ev);
    ev.events = EPOLLIN;
    ev.data.u64 = ~1ULL;  // the reply wake-up
    ::epoll_ctl(io.epfd, EPOLL_CTL_ADD, io.evfd, &ev);
  }
  for (auto& p : parts_) p->thread = std::thread([this, &p] { dispatcher_main(*p); });
  for (unsigned i = 0; i < io_.size(); ++i) io_[i]->thread = std::thread([this, i] { io_main(i); });
  if (cfg_.stats_interval_ms > 0) stats_thread_ = std::thread([this] { stats_main(); });
}

inline void Server::stop() {
  if (!started_ || stopped_) return;
  stopped_ = true;
  // I/O threads answer new lines SHUTDOWN; pairs with their acquire loads in handle_line/accept.
  shutdown_.store(true, std::memory_order_release);
  // 1. Every admitted request completes: dispatchers drain their rings, workers their tasks.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (auto& p : parts_) {
    for (;;) {
      // The dispatcher advances its sequence (release) after submitting the events it
      // read, so once the ring is drained the scheduler's accepted count is final here.
      const bool ring_drained = p->poller.sequence().get() >= p->ring.sequencer().cursor().get();
      const auto st = p->sched->stats();
      const bool done = p->sched->completed() >= st.dispatched + st.enqueued_busy;
      if ((ring_drained && done) || std::chrono::steady_clock::now() > deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  // 2. I/O threads flush every reply, then close.
  stopping_io_.store(true, std::memory_order_release);  // pairs with io_main's / stats_main's acquire loads
  for (auto& io : io_) {
    std::uint64_t one = 1;
    (void)!::write(io->evfd, &one, sizeof one);
  }
  for (auto& io : io_) {
    if (io->thread.joinable()) io->thread.join();
  }
  stop_dispatch_.store(true, std::memory_order_release);  // pairs with dispatcher_main's acquire loads
  for (auto& p : parts_) {
    p->barrier.alert();
    if (p->thread.joinable()) p->thread.join();
  }
  pool_->stop();
  if (stats_thread_.joinable()) stats_thread_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  for (auto& io : io_) {
    ::close(io->epfd);
    ::close(io->evfd);
  }
}

// ---- I/O thread ----------------------------------------------------------------------
inline void Server::io_main(unsigned idx) {
  IoThread& io = *io_[idx];
  if (cfg_.on_thread_start) cfg_.on_thread_start();
  hft::set_current_thread_name("oms-io-" + std::to_string(idx));
  if (cfg_.busy_spin && !cfg_.cpus.empty()) {
    try {
      hft::pin_current_thread(cfg_.cpus[idx % cfg_.cpus.size()]);
    } catch (...) {
    }
  }
  std::vector<char> rbuf(64 * 1024);
  std::vector<std::uint32_t> dirty;
  dirty.reserve(cfg_.max_connections);
  std::vector<bool> is_dirty(cfg_.max_connections, false);
  epoll_event events[64];
  bool draining = false;
  int drain_rounds = 0;
  auto drain_replies = [&] {
    Reply r;
    while (io.replies.try_pop(r)) {
      Conn& c = io.conns[r.conn.slot];
      if (c.fd < 0 || c.gen != r.conn.gen) {
        detail::bump(gateway_.replies_dropped);  // its connection is gone
        continue;
      }
      --c.in_flight;
      send_local(io, r.conn.slot, r.text, r.len);
      if (c.fd >= 0) {
        const std::uint64_t now = hft::TscClock::ticks();
        io.built_to_written.record(static_cast<std::uint64_t>(static_cast<double>(now - r.t_built) * ns_per_tick_));
      }
      if (!is_dirty[r.conn.slot]) {
        is_dirty[r.conn.slot] = true;
        dirty.push_back(r.conn.slot);
      }
    }
    for (const std::uint32_t s : dirty) {
      is_dirty[s] = false;
      if (io.conns[s].fd >= 0) flush(io, s);
      close_if_done(io, s);
    }
    dirty.clear();
  };
  for (;;) {
    const int timeout = cfg_.busy_spin ? 0 : (draining ? 1 : 50);
    const int n = ::epoll_wait(io.epfd, events, 64, timeout);
    for (int e = 0; e < n; ++e) {
      const std::uint64_t tag = events[e].data.u64;
      if (tag == ~0ULL) {  // accept
        for (;;) {
          const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK);
          if (fd < 0) break;
          if (io.free_slots.empty() || shutdown_.load(std::memory_order_acquire)) {  // pairs with stop()'s release store
            ::close(fd);
            continue;
          }
          const int one = 1;
          ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          const std::uint32_t s = io.free_slots.back();
          io.free_slots.pop_back();
          Conn& c = io.conns[s];
          c.fd = fd;
          ++c.gen;
          c.framer.reset();
          if (!c.out) c.out.reset(new char[cfg_.out_buffer]);
          c.out_head = c.out_tail = 0;
          c.want_out = false;
          c.read_closed = false;
          c.in_flight = 0;
          epoll_event ev{};
          ev.events = EPOLLIN;
          ev.data.u64 = s;
          ::epoll_ctl(io.epfd, EPOLL_CTL_ADD, fd, &ev);
          detail::bump(gateway_.connections);
        }
        continue;
      }
      if (tag == ~1ULL) {  // replies waiting
        std::uint64_t v;
        (void)!::read(io.evfd, &v, sizeof v);
        continue;  // drained below
      }
      const auto s = static_cast<std::uint32_t>(tag);
      Conn& c = io.conns[s];
      if (c.fd < 0) continue;
      if (events[e].events & EPOLLOUT) {
        flush(io, s);
        close_if_done(io, s);
      }
      if (c.fd >= 0 && !c.read_closed && (events[e].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
        for (;;) {
          const ssize_t got = ::read(c.fd, rbuf.data(), rbuf.size());
          if (got > 0) {
            const std::uint64_t t_recv = hft::TscClock::ticks();
            c.framer.feed(
                rbuf.data(), static_cast<std::size_t>(got),
                [&](std::string_view line) { handle_line(io, s, line, t_recv); },
                [&](std::string_view prefix) {
                  char out[kMaxReply];
                  detail::bump(gateway_.rejected_bad_msg);
                  send_local(io, s, out, format_rej(out, overlong_req_id(prefix), Reason::BadMsg));
                });
            if (c.fd < 0) break;  // cut while answering (slow reader)
            flush(io, s);
            if (static_cast<std::size_t>(got) < rbuf.size()) break;
            continue;
          }
          if (got == 0) {  // half-close: stop reading, still answer everything it sent
            c.read_closed = true;
            update_events(io, s);
            close_if_done(io, s);
          } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            close_conn(io, s);
          }
          break;
        }
      }
    }
    // Reply flag: reset before draining, acq_rel so a worker's push before its exchange is
    // visible to the drain (its exchange(true) is earlier in the flag's modification order).
    // Pairs with deliver()'s exchange(true).
    io.wake_pending.exchange(false, std::memory_order_acq_rel);
    drain_replies();
    if (stopping_io_.load(std::memory_order_acquire)) {  // pairs with stop()'s release store
      // Flush what is owed; a client that does not read gets at most ~2 s (2,000 rounds
      // of a 1 ms wait), then everything closes.
      draining = true;
      bool pending = false;
      for (auto& c : io.conns) pending |= c.fd >= 0 && c.out_tail > c.out_head;
      if (!pending || ++drain_rounds > 2000) break;
    }
  }
  drain_replies();
  for (std::uint32_t s = 0; s < io.conns.size(); ++s) {
    if (io.conns[s].fd >= 0) close_conn(io, s);
  }
}

inline void Server::handle_line(IoThread& io, std::uint32_t slot, std::string_view line, std::uint64_t t_recv) {
  char out[kMaxReply];
  const Header h = parse_header(line);
  if (!h.req_id) {
    detail::bump(gateway_.rejected_bad_msg);
    send_local(io, slot, out, format_rej(out, std::nullopt, Reason::BadMsg));
    return;
  }
  if (shutdown_.load(std::memory_order_acquire)) {  // pairs with stop()'s release store
    detail::bump(gateway_.rejected_shutdown);
    send_local(io, slot, out, format_rej(out, h.req_id, Reason::Shutdown));
    return;
  }
  const FamilyKey fk = family_key(h.corr, io.index, ++io.uncorrelated_seq);
  const std::uint64_t family = fk.key;
  const bool correlated = fk.correlated;
  Partition& p = *parts_[partition_of(family, cfg_.partitions)];
  const auto seq = p.ring.try_next();
  if (!seq) {
    detail::bump(p.counters.rejected_busy);
    send_local(io, slot, out, format_rej(out, h.req_id, Reason::Busy));
    return;
  }
  Event& ev = p.ring[*seq];
  ev.conn = ConnRef{io.index, slot, io.conns[slot].gen};
  ev.req_id = *h.req_id;
  ev.family = family;
  ev.correlated = correlated;
  ev.len = static_cast<std::uint16_t>(line.size());
  std::memcpy(ev.line, line.data(), line.size());
  ev.t_recv = t_recv;
  ev.t_pub = hft::TscClock::ticks();
  p.ring.publish(*seq);
  ++io.conns[slot].in_flight;
  detail::bump(p.counters.published);
  io.recv_to_ring.record(static_cast<std::uint64_t>(static_cast<double>(ev.t_pub - t_recv) * ns_per_tick_));
}

inline void Server::send_local(IoThread& io, std::uint32_t slot, const char* text, std::size_t len) {
  Conn& c = io.conns[slot];
  if (c.fd < 0) return;
  if (c.out_tail + len > cfg_.out_buffer) {  // compact
    std::memmove(c.out.get(), c.out.get() + c.out_head, c.out_tail - c.out_head);
    c.out_tail -= c.out_head;
    c.out_head = 0;
  }
  if (c.out_tail + len > cfg_.out_buffer) {  // a client that does not read: cut it
    detail::bump(gateway_.slow_disconnects);
    std::fprintf(stderr, "mini_oms: closing connection fd %d: %zu bytes of replies unread (slow reader)\n", c.fd,
                 c.out_tail - c.out_head);
    close_conn(io, slot);
    return;
  }
  std::memcpy(c.out.get() + c.out_tail, text, len);
  c.out_tail += len;
  detail::bump(gateway_.replies_written);
}

inline void Server::flush(IoThread& io, std::uint32_t slot) {
  Conn& c = io.conns[slot];
  while (c.out_tail > c.out_head) {
    const ssize_t w = ::send(c.fd, c.out.get() + c.out_head, c.out_tail - c.out_head, MSG_NOSIGNAL);
    if (w > 0) {
      c.out_head += static_cast<std::size_t>(w);
      continue;
    }
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!c.want_out) {  // the socket is full: wait for EPOLLOUT, do not block
        c.want_out = true;
        update_events(io, slot);
      }
      return;
    }
    if (w < 0 && errno == EINTR) continue;
    close_conn(io, slot);
    return;
  }
  c.out_head = c.out_tail = 0;
  if (c.want_out) {
    c.want_out = false;
    update_events(io, slot);
  }
}

inline void Server::update_events(IoThread& io, std::uint32_t slot) {
  Conn& c = io.conns[slot];
  epoll_event ev{};
  ev.events = (c.read_closed ? 0u : static_cast<std::uint32_t>(EPOLLIN)) | (c.want_out ? static_cast<std::uint32_t>(EPOLLOUT) : 0u);
  ev.data.u64 = slot;
  ::epoll_ctl(io.epfd, EPOLL_CTL_MOD, c.fd, &ev);
}

inline void Server::close_if_done(IoThread& io, std::uint32_t slot) {
  Conn& c = io.conns[slot];
  if (c.fd >= 0 && c.read_closed && c.in_flight == 0 && c.out_tail == c.out_head) close_conn(io, slot);
}

inline void Server::close_conn(IoThread& io, std::uint32_t slot) {
  Conn& c = io.conns[slot];
  if (c.fd < 0) return;
  ::epoll_ctl(io.epfd, EPOLL_CTL_DEL, c.fd, nullptr);
  ::close(c.fd);
  c.fd = -1;
  c.out_head = c.out_tail = 0;
  io.free_slots.push_back(slot);
}

inline void Server::deliver(const Reply& r) {
  IoThread& io = *io_[r.conn.io];
  while (!io.replies.try_push(r)) std::this_thread::yield();  // sized so this never waits
  // acq_rel pairs with the I/O thread's exchange(false): either it sees our push in its
  // next drain, or we see false and wake it.
  if (!io.wake_pending.exchange(true, std::memory_order_acq_rel)) {
    const std::uint64_t one = 1;
    (void)!::write(io.evfd, &one, sizeof one);
  }
}

// ---- dispatcher ------------------------------------------------------------------------
inline std::uint32_t Server::family_slot(FamilyTable& t, std::uint64_t key, Counters& c) {
  auto unlink = [&](std::uint32_t s) {
    auto& x = t.slots[s];
    if (x.prev != hft::FlatIndex::npos) t.slots[x.prev].next = x.next; else t.head = x.next;
    if (x.next != hft::FlatIndex::npos) t.slots[x.next].prev = x.prev; else t.tail = x.prev;
  };
  auto push_front = [&](std::uint32_t s) {
    auto& x = t.slots[s];
    x.prev = hft::FlatIndex::npos;
    x.next = t.head;
    if (t.head != hft::FlatIndex::npos) t.slots[t.head].prev = s;
    t.head = s;
    if (t.tail == hft::FlatIndex::npos) t.tail = s;
  };
  std::uint32_t s = t.index.find(key);
  if (s != hft::FlatIndex::npos) {
    if (t.head != s) {
      unlink(s);
      push_front(s);
    }
    return s;
  }
  if (t.used < t.cap) {
    s = static_cast<std::uint32_t>(t.used++);
  } else {
    // Evict the least recently active idle family. Acquire pairs with the worker's release
    // decrement: its last use of the slot is over.
    s = t.tail;
    while (s != hft::FlatIndex::npos && t.slots[s].in_flight.load(std::memory_order_acquire) != 0) s = t.slots[s].prev;
    if (s == hft::FlatIndex::npos) return s;  // every family busy: caller rejects
    unlink(s);
    t.index.erase(t.slots[s].key);
    detail::bump(c.families_evicted);
  }
  t.slots[s].key = key;
  t.slots[s].next_seq = 0;
  (void)t.index.try_insert(key, s);
  push_front(s);
  return s;
}

inline void Server::dispatcher_main(Partition& p) {
  if (cfg_.on_thread_start) cfg_.on_thread_start();
  hft::set_current_thread_name("oms-disp-" + std::to_string(p.index));
  std::uint64_t admitted_count = 0;  // for --log-sample only
  for (;;) {
    if (!cfg_.busy_spin) {
      // Wait in the ring's blocking wait strategy (it spins and yields briefly, then sleeps
      // until a publisher wakes it) instead of burning a core another thread needs.
      const std::int64_t next = p.poller.sequence().get() + 1;
      const auto r = p.barrier.wait_for(next);
      if (r.status == hft::disruptor::WaitStatus::Alerted && stop_dispatch_.load(std::memory_order_acquire)) return;  // pairs with stop()
    }
    const auto state = p.poller.poll([&](Event& ev, std::int64_t, bool) {
      const std::uint64_t t_disp = hft::TscClock::ticks();
      p.ring_to_dispatch.record(static_cast<std::uint64_t>(static_cast<double>(t_disp - ev.t_pub) * ns_per_tick_));
      std::uint32_t fslot = hft::FlatIndex::npos;
      std::uint64_t seq = 1;
      if (ev.correlated) {
        fslot = family_slot(p.families, ev.family, p.counters);
        if (fslot == hft::FlatIndex::npos) {
          detail::bump(p.counters.rejected_family_full);
          Reply rep{ev.conn, 0, hft::TscClock::ticks(), {}};
          rep.len = static_cast<std::uint16_t>(format_rej(rep.text, ev.req_id, Reason::FamilyFull));
          deliver(rep);
          return true;
        }
        seq = p.families.slots[fslot].next_seq + 1;
        p.families.slots[fslot].in_flight.fetch_add(1, std::memory_order_relaxed);
      }
      // Built in the scheduler's node: the line is copied once, out of the reused slot.
      const auto st = p.sched->emplace(ev.family, ev, seq, fslot, t_disp);
      if (hft::accepted(st)) {
        if (fslot != hft::FlatIndex::npos) p.families.slots[fslot].next_seq = seq;
        if (cfg_.log_sample != 0 && ++admitted_count % cfg_.log_sample == 0) {
          std::fprintf(stderr, "mini_oms: partition=%u correlation_id=%lld seq_in_family=%llu\n", p.index,
                       ev.correlated ? static_cast<long long>(ev.family) : -1LL, static_cast<unsigned long long>(seq));
        }
      } else {
        if (fslot != hft::FlatIndex::npos) p.families.slots[fslot].in_flight.fetch_sub(1, std::memory_order_relaxed);
        const Reason why = st == hft::SubmitStatus::FamilyFull ? Reason::FamilyFull : Reason::Busy;
        detail::bump(why == Reason::FamilyFull ? p.counters.rejected_family_full : p.counters.rejected_busy);
        Reply rep{ev.conn, 0, hft::TscClock::ticks(), {}};
        rep.len = static_cast<std::uint16_t>(format_rej(rep.text, ev.req_id, why));
        deliver(rep);
      }
      return true;
    });
    if (state != hft::disruptor::PollState::Processing) {  // busy-spin mode, nothing yet
      hft::cpu_relax();
      if (stop_dispatch_.load(std::memory_order_acquire)) return;  // pairs with stop()
    }
  }
}

// ---- worker: parse -> risk -> execute -> reply ------------------------------------------
inline Server::SymbolState& Server::symbol_state(hft::Symbol s) {
  const std::uint64_t key = s.key();
  for (std::size_t i = hft::FlatIndex::hash(key) & (kSymbols - 1), probes = 0; probes < kSymbols;
       i = (i + 1) & (kSymbols - 1), ++probes) {
    // Acquire pairs with the release store below: a published state is fully built.
    SymbolState* st = symbols_[i].load(std::memory_order_acquire);
    if (st == nullptr) {
      std::lock_guard lock(symbols_mu_);
      st = symbols_[i].load(std::memory_order_acquire);
      if (st == nullptr) {
        const auto ref = ref_prices_.find(key);
        symbol_storage_.push_back(std::make_unique<SymbolState>(
            s, ref == ref_prices_.end() ? hft::Price::from_ticks(1'000'000) : ref->second, cfg_.risk, now_ns()));
        st = symbol_storage_.back().get();
        symbols_[i].store(st, std::memory_order_release);  // pairs with the acquire loads above
        return *st;
      }
    }
    if (st->symbol == s) return *st;
  }
  // Table full (4,096 symbols): the memory bound. Later symbols share the last slot's
  // state; documented in docs/mini_oms.md.
  return *symbols_[kSymbols - 1].load(std::memory_order_acquire);  // pairs with the release store above
}

inline void Server::run_task(Partition& p, Task& t) {
  if (detail::tl_dispatch_to_built == nullptr) {
    std::lock_guard lock(hist_mu_);
    if (cfg_.on_thread_start) cfg_.on_thread_start();
    dispatch_to_built_.push_back(std::make_unique<hft::LatencyHistogram>(1, 60'000'000'000ULL, 3));
    detail::tl_dispatch_to_built = dispatch_to_built_.back().get();
  }
  Reply rep{t.conn, 0, 0, {}};
  Reason why = Reason::None;
  std::int64_t filled = 0;
  hft::Notional notional = 0;
  const auto req = parse_request(std::string_view(t.line, t.len));  // stage 1
  if (!req) {
    why = Reason::BadMsg;
  } else {
    SymbolState& sym = symbol_state(req->symbol);
    why = check_static_risk(*req, sym.ref, cfg_.risk);  // stage 2: qty, price band, notional
    if (why == Reason::None) {
      std::lock_guard lock(sym.mu);
      if (!sym.limiter.try_acquire(1, now_ns())) {
        why = Reason::RiskRate;
      } else {  // stage 3: IOC against the venue, then re-quote what it emptied
        hft::Fill fills[2 * kVenueLevels];
        const auto rep_exec = sym.book.submit(
            hft::NewOrder{hft::OrderId(0), req->side, hft::OrderType::Limit, hft::TimeInForce::ImmediateOrCancel,
                          req->price, hft::Qty(req->qty)},
            fills);
        filled = rep_exec.filled.value();
        notional = rep_exec.notional_ticks;
        if (rep_exec.fills > 0) sym.requote();  // no fill: nothing emptied
      }
    }
  }
  if (cfg_.work_us > 0) std::this_thread::sleep_for(std::chrono::microseconds(cfg_.work_us));
  // Stage 4: the reply.
  if (why == Reason::None) {
    rep.len = static_cast<std::uint16_t>(format_ack(rep.text, t.req_id, t.seq, filled, notional));
  } else {
    rep.len = static_cast<std::uint16_t>(format_rej(rep.text, t.req_id, why));
    detail::bump(why == Reason::BadMsg         ? p.counters.rejected_bad_msg
                 : why == Reason::RiskQty      ? p.counters.rejected_risk_qty
                 : why == Reason::RiskPrice    ? p.counters.rejected_risk_price
                 : why == Reason::RiskNotional ? p.counters.rejected_risk_notional
                                               : p.counters.rejected_risk_rate);
  }
  rep.t_built = hft::TscClock::ticks();
  detail::tl_dispatch_to_built->record(static_cast<std::uint64_t>(static_cast<double>(rep.t_built - t.t_disp) * ns_per_tick_));
  if (t.fam_slot != hft::FlatIndex::npos) {
    // Release pairs with the dispatcher's acquire load when it considers evicting the slot.
    p.families.slots[t.fam_slot].in_flight.fetch_sub(1, std::memory_order_release);
  }
  deliver(rep);
}

// ---- observability ------------------------------------------------------------------------
inline std::string Server::stats_line() const {
  std::uint64_t pub = 0, acc = 0, busy = 0, done = 0, ff = 0, bad = 0, risk = 0;
  std::string pending;
  for (const auto& p : parts_) {
    const Counters& c = p->counters;
    const auto st = p->sched->stats();
    const std::uint64_t accepted = st.dispatched + st.enqueued_busy;
    pub += c.published.load();
    acc += accepted;
    busy += c.rejected_busy.load();
    done += st.completed;
    ff += c.rejected_family_full.load();
    bad += c.rejected_bad_msg.load();
    risk += c.rejected_risk_qty.load() + c.rejected_risk_price.load() + c.rejected_risk_notional.load() +
            c.rejected_risk_rate.load();
    if (!pending.empty()) pending += ',';
    pending += std::to_string(accepted - st.completed);
  }
  bad += gateway_.rejected_bad_msg.load();
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "mini_oms: published=%llu accepted=%llu completed=%llu busy=%llu family_full=%llu bad_msg=%llu "
                "risk=%llu pending_per_partition=[%s]",
                static_cast<unsigned long long>(pub), static_cast<unsigned long long>(acc),
                static_cast<unsigned long long>(done), static_cast<unsigned long long>(busy),
                static_cast<unsigned long long>(ff), static_cast<unsigned long long>(bad),
                static_cast<unsigned long long>(risk), pending.c_str());
  return buf;
}

inline std::string Server::report() const {
  std::ostringstream o;
  o << "server counters per partition\n";
  o << "  part  published   rej_busy   accepted  dispatched  enq_busy  completed  fam_full   bad_msg  risk_qty  "
       "risk_px  risk_not  risk_rate  max_pending  evicted\n";
  for (const auto& p : parts_) {
    const Counters& c = p->counters;
    const auto st = p->sched->stats();
    char line[400];
    std::snprintf(line, sizeof line, "  %4u %10llu %10llu %10llu %11llu %9llu %10llu %9llu %9llu %9llu %8llu %9llu %10llu %12llu %8llu\n",
                  p->index, static_cast<unsigned long long>(c.published.load()),
                  static_cast<unsigned long long>(c.rejected_busy.load()),
                  static_cast<unsigned long long>(st.dispatched + st.enqueued_busy),
                  static_cast<unsigned long long>(st.dispatched), static_cast<unsigned long long>(st.enqueued_busy),
                  static_cast<unsigned long long>(st.completed),
                  static_cast<unsigned long long>(c.rejected_family_full.load()),
                  static_cast<unsigned long long>(c.rejected_bad_msg.load()),
                  static_cast<unsigned long long>(c.rejected_risk_qty.load()),
                  static_cast<unsigned long long>(c.rejected_risk_price.load()),
                  static_cast<unsigned long long>(c.rejected_risk_notional.load()),
                  static_cast<unsigned long long>(c.rejected_risk_rate.load()),
                  static_cast<unsigned long long>(st.max_pending_depth),
                  static_cast<unsigned long long>(c.families_evicted.load()));
    o << line;
  }
  const Counters& g = gateway_;
  o << "  gateway: connections=" << g.connections.load() << " bad_msg(id-less or over-long)=" << g.rejected_bad_msg.load()
    << " shutdown_rejects=" << g.rejected_shutdown.load()
    << " slow_reader_disconnects=" << g.slow_disconnects.load() << " replies_written=" << g.replies_written.load()
    << " replies_dropped(conn gone)=" << g.replies_dropped.load()
    << "\n";
  hft::LatencyHistogram recv(1, 60'000'000'000ULL, 3), ring(1, 60'000'000'000ULL, 3), built(1, 60'000'000'000ULL, 3),
      written(1, 60'000'000'000ULL, 3);
  for (const auto& io : io_) {
    recv.merge(io->recv_to_ring);
    written.merge(io->built_to_written);
  }
  for (const auto& p : parts_) ring.merge(p->ring_to_dispatch);
  {
    std::lock_guard lock(hist_mu_);
    for (const auto& h : dispatch_to_built_) built.merge(*h);
  }
  o << "server stage latency (us): p50 / p99 / p99.9 / max\n";
  auto row = [&](const char* name, const hft::LatencyHistogram& h) {
    char line[200];
    std::snprintf(line, sizeof line, "  %-22s %8.1f %8.1f %8.1f %8.1f  (n=%llu)\n", name, static_cast<double>(h.percentile(50)) / 1e3,
                  static_cast<double>(h.percentile(99)) / 1e3, static_cast<double>(h.percentile(99.9)) / 1e3,
                  static_cast<double>(h.max()) / 1e3, static_cast<unsigned long long>(h.count()));
    o << line;
  };
  row("receive -> ring", recv);
  row("ring -> dispatch", ring);
  row("dispatch -> reply built", built);
  row("reply built -> written", written);
  return o.str();
}

inline void Server::stats_main() {
  while (!stopping_io_.load(std::memory_order_acquire)) {  // pairs with stop()
    for (std::uint32_t waited = 0; waited < cfg_.stats_interval_ms; waited += 10) {
      if (stopping_io_.load(std::memory_order_acquire)) return;  // pairs with stop()
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::fprintf(stderr, "%s\n", stats_line().c_str());
  }
}

}  // namespace mini_oms
