// mini_oms/fix_orders.hpp: the order flow of the FIX codec (fix_protocol.hpp includes it at
// its end): a NewOrderSingle checked against its session's ClOrdIDs and outcomes, decoded
// into the pipeline's Order and admitted; the pipeline's Execution encoded as its
// ExecutionReports (--journal: its outcome journaled first); the rejects decided here.
// May call: FixCodec's own state, the transport's admit, fix_order_map.hpp, fix_reports.hpp.
#pragma once

#include "fix_protocol.hpp"  // NOLINT(misc-header-include-cycle): included from fix_protocol.hpp's end

namespace mini_oms {

template <class Gateway>
void FixCodec<Gateway>::send_reports(Conn& f, const FixOrder& o, std::string_view order_id, const ParsedReply* rep,
                                     OrdRejReason why, std::string_view text) {
  // Once its connection is closed (before the order's Execution came, or by a slow-reader
  // cut at this order's first report), each report is numbered and stored for the resend.
  write_reports(
      [&](auto&& fill) {
        if (f.session->state() == hft::fix::SessionState::Disconnected)
          (void)f.session->store_app(hft::fix::msg_type::kExecutionReport, fill);
        else
          (void)f.session->send_app(hft::fix::msg_type::kExecutionReport, fill);
      },
      o, order_id, rep, why, text, utc_.now_ns());
}

// A reject decided here, before the pipeline. An order admitted under its ClOrdID (`key`
// != 0) has its outcome journaled first (--journal), as the pipeline's line would read.
template <class Gateway>
void FixCodec<Gateway>::reject_order(Conn& f, const FixOrder& o, OrdRejReason why, std::string_view text,
                                     std::uint64_t key, std::uint64_t req, Reason reason) {
  char order_id[64];
  const std::string_view id = make_order_id(order_id, ++orders_);
  if (key != 0 && f.state->journal != nullptr) {
    char line[kMaxReply];
    detail::Out w{line};
    w.num(req);
    w.put(" REJ:");
    w.put(reason_text(reason));
    f.state->journal_outcome(key, id, std::string_view(line, w.n));
  }
  send_reports(f, o, id, nullptr, why, text);
  report_lat_.record(gw_.pipeline().clock().delta_to_ns(hft::TscClock::ticks() - t_recv_));
}

// A PossDup (or PossResend) re-send of an order whose outcome is journaled: its reports
// again, with its OrderID and ExecIDs; nothing executes.
template <class Gateway>
void FixCodec<Gateway>::resend_outcome(Conn& f, const FixOrder& o, const FixOutcomes::Outcome& out) {
  const auto pr = parse_reply_line(out.reply_view());
  if (!pr) return;
  bump(gw_.pipeline().gateway_counters(kFixPort), GwCount::Duplicates);
  send_reports(f, o, out.order_id_view(), &*pr, ord_rej_reason(pr->why), pr->reason);
}

// `bad`: the session's dictionary found this problem in the order (fix_invalid_app_message).
template <class Gateway>
void FixCodec<Gateway>::new_order(std::uint32_t slot, const hft::fix::Message& m, const FieldProblem* bad) {
  Conn& f = *conns_[slot];
  FixSessionState& st = *f.state;
  bump(gw_.pipeline().gateway_counters(kFixPort), GwCount::Requests);
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
      bump(gw_.pipeline().gateway_counters(kFixPort), GwCount::Duplicates);
      return;
    }
    if (const FixOutcomes::Outcome* out = st.outcomes->find(id_key)) {
      resend_outcome(f, o, *out);
      return;
    }
    // Admitted before a restart, no outcome journaled: the process stopped between the
    // two. An Account's order goes to the pipeline again under the same (correlation id,
    // req_id), which the journal's re-send window answers with the original reply if it
    // executed, and which executes now if it never did. Without an Account there is no
    // window to ask, and executing again could execute twice.
    if (o.account_len == 0) {
      bump(gw_.pipeline().gateway_counters(kFixPort), GwCount::RejectedBadMsg);
      reject_order(f, o, OrdRejReason::DuplicateOrder,
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
    bump(gw_.pipeline().gateway_counters(kFixPort), GwCount::RejectedBadMsg);
    char text[kMaxReply];
    reject_order(f, o, mr.reason, bad != nullptr ? invalid_field_text(text, bad->tag, bad->text) : mr.text);
    return;
  }
  const std::uint64_t key = remember ? id_key : 0;
  if (gw_.pipeline().shutdown_requested()) {
    bump(gw_.pipeline().gateway_counters(kFixPort), GwCount::RejectedShutdown);
    reject_order(f, o, OrdRejReason::ExchangeClosed, "SHUTDOWN", key, req, Reason::Shutdown);
    return;
  }
  if (f.free_pending.empty() || f.pending_index.find(req) != hft::FlatIndex::npos) {
    bump(gw_.pipeline().gateway_counters(kFixPort), GwCount::RejectedBusy);
    reject_order(f, o, OrdRejReason::Other, "BUSY: 4096 orders in flight on this session", key, req, Reason::Busy);
    return;
  }
  const std::uint32_t pi = f.free_pending.back();
  f.free_pending.pop_back();
  (void)f.pending_index.try_insert(req, pi);  // room: at most kInFlight live keys
  Pending& p = f.pending[pi];
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
  const Reason why = gw_.admit(slot, order, t_recv_);
  if (why != Reason::None) {
    (void)f.pending_index.erase(req);
    f.free_pending.push_back(pi);
    reject_order(f, o, ord_rej_reason(why), reason_text(why), key, req, why);
  }
}

// The FIX codec's encode side: the pipeline's execution of a FIX order becomes its
// ExecutionReports (--journal: its outcome first).
template <class Gateway>
void FixCodec<Gateway>::on_reply(std::uint32_t slot, const Execution& e) {
  Conn& f = *conns_[slot];
  if (!f.session || f.pending_index.find(e.req_id) == hft::FlatIndex::npos) return;
  answer(f, e);
  if (f.session->state() == hft::fix::SessionState::LogoutReceived && gw_.in_flight(slot) == 0) f.session->logout();
  after_call(slot);
}

template <class Gateway>
bool FixCodec<Gateway>::on_gone_reply(std::uint32_t slot, std::uint32_t gen, const Execution& e) {
  // In the closed connection's slot, or moved aside when the slot was reused.
  auto holds = [&](const std::unique_ptr<Conn>& c) {
    return c && c->handler.slot == slot && c->gen == gen && c->state != nullptr && c->session &&
           c->session->state() == hft::fix::SessionState::Disconnected &&
           c->pending_index.find(e.req_id) != hft::FlatIndex::npos;
  };
  std::unique_ptr<Conn>* at = slot < conns_.size() && holds(conns_[slot]) ? &conns_[slot] : nullptr;
  for (std::size_t i = 0; at == nullptr && i < detached_.size(); ++i)
    if (holds(detached_[i])) at = &detached_[i];
  if (at == nullptr) return false;
  Conn& f = **at;
  answer(f, e);
  bump(gw_.pipeline().gateway_counters(kFixPort), GwCount::RepliesStored);
  if (owed(f) == 0) {  // every report owed is stored: the peer may log on again
    closed_.emplace_back(f.state, true);
    f.state = nullptr;
    if (at != &conns_[slot]) {
      *at = std::move(detached_.back());
      detached_.pop_back();
    }
  }
  return true;
}

// The FIX codec's encode side: the pipeline's execution of a FIX order becomes its
// ExecutionReports (--journal: its outcome first).
template <class Gateway>
void FixCodec<Gateway>::answer(Conn& f, const Execution& e) {
  const std::uint32_t pi = f.pending_index.find(e.req_id);
  (void)f.pending_index.erase(e.req_id);
  f.free_pending.push_back(pi);
  const Pending& p = f.pending[pi];
  char order_id[64];
  const std::string_view id = make_order_id(order_id, ++orders_);
  if (!p.local_text.empty()) {
    char why[kMaxReply];
    send_reports(f, p.order, id, nullptr, p.local_reason,
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
    send_reports(f, p.order, id, &pr, ord_rej_reason(pr.why), pr.reason);
  }
  // Order -> first report sent: a stored report was sent to no one.
  if (f.session->state() != hft::fix::SessionState::Disconnected)
    report_lat_.record(gw_.pipeline().clock().delta_to_ns(hft::TscClock::ticks() - p.t_recv));
}

template <class Gateway>
std::string_view FixCodec<Gateway>::make_order_id(char* out, std::uint64_t n) const {
  std::memcpy(out, id_prefix_.data(), id_prefix_.size());
  const auto r = std::to_chars(out + id_prefix_.size(), out + 64, n);
  return {out, static_cast<std::size_t>(r.ptr - out)};
}

}  // namespace mini_oms
