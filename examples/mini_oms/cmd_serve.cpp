// mini_oms/cmd_serve.cpp: `mini_oms serve`: runs the server until SIGINT, SIGTERM or SIGHUP
// (all three drain alike: stop accepting, answer what was admitted, flush, print the
// counters, exit 0; SIGHUP does not reopen logs). Prints its effective configuration (every
// option after --config FILE and the flags, in the config file's syntax) to stderr at start.
// May call: server.hpp, options.cpp (add_server_options), cmd_replay.cpp (print_replay).
#include <csignal>
#include <cstdio>
#include <string>

#include "commands.hpp"
#include "server.hpp"

namespace mini_oms::commands {

using hft::cli::Parser;
using mini_oms::LogSettings;
using mini_oms::ServerConfig;
using mini_oms::ServerLog;

int cmd_serve(int argc, char** argv, int first) {
  ServerConfig c;
  c.port = 7001;
  c.stats_interval_ms = 1000;
  Parser p("mini_oms serve", "[options]",
           "Runs the mini-OMS server until SIGINT, SIGTERM or SIGHUP (all three alike: SIGHUP does not\n"
           "reopen logs), then stops accepting, answers what it admitted, flushes, prints its counters\n"
           "and exits 0. At start it prints its effective configuration (--config FILE, then the\n"
           "flags) to stderr in the config file's syntax.");
  LogSettings ls;
  add_server_options(p, c, ls);
  hft::cli::OutputFile hlog;
  p.output("--hlog", hlog,
           "write the dispatch -> reply built latency here as an HdrHistogram interval log (.hlog, ns), one "
           "interval per --stats-interval-ms");
  p.parse(argc, argv, first);
  if (hlog.is_set()) {
    if (c.stats_interval_ms == 0) p.fail("--hlog needs --stats-interval-ms > 0 (one interval per stats interval)");
    c.hlog = &hlog.stream();
  }
  // Between the two marker lines, a valid --config file: this run's every option.
  std::fprintf(stderr, "# mini_oms serve: effective configuration\n%s# end of configuration\n", p.dump().c_str());
  // Signals go to this thread only (sigwait below): every other thread inherits the mask,
  // the log's backend thread included (made after this: a thread without the mask would
  // take SIGTERM's default action and end the process without the graceful stop). SIGHUP
  // drains like SIGTERM: a closed terminal or a `systemctl reload` stops it cleanly.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  ServerLog log(with_crash_handler(ls));
  c.log = &log;
  hft::Logger& out = log.main();
  mini_oms::Server server(c);
  if (!c.journal_dir.empty()) print_replay(server);
  server.start();
  HFT_LOG_INFO(out, "listening on {} (io {}, partitions {}, workers {}); Ctrl-C to stop",
               mini_oms::net::host_port(c.host, server.port()), c.io_threads, c.partitions, c.workers);
  if (server.fix_port() != 0) {
    HFT_LOG_INFO(out, "FIX 4.4 on {} as {}", mini_oms::net::host_port(c.host, server.fix_port()), c.fix_comp_id);
    if (c.fix_peers.empty()) {
      HFT_LOG_INFO(out, "FIX: no --fix-peers: a Logon from any SenderCompID is accepted");
    } else {
      std::string peers;
      for (const auto& id : c.fix_peers) {
        if (!peers.empty()) peers += ',';
        peers += id;
      }
      HFT_LOG_INFO(out, "FIX: only these SenderCompIDs may log on: {}", peers);
    }
  }
  int sig = 0;
  sigwait(&set, &sig);
  HFT_LOG_INFO(out, "signal {}: stop accepting, answer what was admitted, flush", sig);
  server.stop();
  std::printf("%s", server.report().c_str());
  if (!c.journal_dir.empty()) {
    std::printf("journal: %llu records, book_digest %016llx\n",
                static_cast<unsigned long long>(server.journal()->last_sequence()),
                static_cast<unsigned long long>(server.book_digest()));
  }
  hlog.finish();
  return 0;
}

}  // namespace mini_oms::commands
