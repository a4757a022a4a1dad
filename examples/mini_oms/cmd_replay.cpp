// mini_oms/cmd_replay.cpp: `mini_oms replay`: replays a --journal directory into a fresh
// server (not started) and prints what `serve` prints at its stop, and print_replay, the log
// lines about a replay (serve's too). May call: server.hpp, options.cpp's helpers.
#include <cstdio>

#include "commands.hpp"
#include "server.hpp"

namespace mini_oms::commands {

using hft::cli::Parser;
using mini_oms::LogSettings;
using mini_oms::ServerConfig;
using mini_oms::ServerLog;

void print_replay(Server& s) {
  const auto& r = s.replayed();
  HFT_LOG_INFO(s.log().main(),
               "journal {}: replayed {} records ({} executions, {} mismatches); recovery dropped {} torn records ({} "
               "bytes)",
               s.config().journal_dir, r.records, r.executions, r.mismatches, r.recovery.dropped_records,
               r.recovery.dropped_bytes);
  if (r.mismatches != 0)
    HFT_LOG_WARN(s.log().main(), "{} replayed executions filled differently than journaled", r.mismatches);
}

// Replays a journal into a fresh server (not started) and prints what `serve` prints at
// its stop: a journal written by serve replays to the same book_digest.
int cmd_replay(int argc, char** argv, int first) {
  ServerConfig c;
  Parser p("mini_oms replay", "--journal DIR [options]",
           "Replays a mini-OMS journal from scratch (the books, every family's numbering) and prints the\n"
           "book digest; `serve --journal DIR` prints the same line when it stops.");
  LogSettings ls;
  add_server_options(p, c, ls);
  p.parse(argc, argv, first);
  if (c.journal_dir.empty()) p.fail("--journal is required");
  ServerLog log(with_crash_handler(ls));
  c.log = &log;
  mini_oms::Server server(c);
  print_replay(server);
  std::printf("journal: %llu records, book_digest %016llx\n",
              static_cast<unsigned long long>(server.journal()->last_sequence()),
              static_cast<unsigned long long>(server.book_digest()));
  return server.replayed().mismatches == 0 ? 0 : 1;
}

}  // namespace mini_oms::commands
