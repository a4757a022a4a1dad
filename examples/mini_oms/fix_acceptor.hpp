// mini_oms/fix_acceptor.hpp: what the FIX port needs beside the line protocol, as pieces
// the gateway composes (docs/fix.md, "The mini-OMS FIX acceptor"), in three headers this
// one includes (so an include of "fix_acceptor.hpp" gets all of them):
//   - fix_order_map.hpp: map_new_order: NewOrderSingle(D) -> the pipeline's request line,
//     or a reject (and the business-level rejects of invalid application messages);
//   - fix_session_state.hpp: ClOrdIdWindow: duplicate ClOrdIDs within a session, without
//     allocating; FixRegistry: one session state (store, numbers, ClOrdIDs) per peer
//     CompID, kept across that peer's connections, and with --journal across restarts (its
//     store is a JournalMessageStore in <journal>/fix/<hex CompID>, whose app records also
//     keep each order's outcome: FixOutcomes, so a PossDup re-send gets its original
//     reports); parse_peer_list for --fix-peers;
//   - fix_reports.hpp: parse_reply_line + write_reports: the pipeline's reply ->
//     ExecutionReport(s); fix_id_base: the OrderID/ExecID prefix, unique per start (a
//     journaled boot epoch, or a random nonce).
// The pipeline is the line protocol's: a FIX order becomes the same request line, is
// admitted, scheduled and executed the same way, and its reply comes back the same way.
// Owns nothing itself. May call: the three.
#pragma once

#include "fix_order_map.hpp"
#include "fix_reports.hpp"
#include "fix_session_state.hpp"
