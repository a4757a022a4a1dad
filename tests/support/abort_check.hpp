// Runs a function in a forked child and reports whether it aborted (SIGABRT) and what
// it wrote to stderr. Used to test that HFT_ASSERT fires with a useful message.
#pragma once
#include <csignal>
#include <cstdlib>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace hft::test {

struct AbortResult {
  bool aborted = false;
  std::string stderr_text;
};

template <class F>
AbortResult run_expecting_abort(F&& fn) {
  int fds[2];
  if (::pipe(fds) != 0) return {};
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], STDERR_FILENO);
    // Catch2 installs a SIGABRT handler that reports a failure in the child; the parent
    // judges the abort, so the child dies the default way, quietly.
    if (std::signal(SIGABRT, SIG_DFL) == SIG_ERR) ::_exit(99);  // the parent expects SIGABRT
    ::close(fds[0]);
    fn();
    std::_Exit(0);  // did not abort
  }
  ::close(fds[1]);
  AbortResult r;
  char buf[512];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0) r.stderr_text.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.aborted = WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
  return r;
}

}  // namespace hft::test
