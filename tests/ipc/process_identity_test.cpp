// hft/ipc/process_identity.hpp: a process is alive while it runs, dead once killed (as a
// zombie too) and once reaped, and a reused pid (another start time) is not it.
#include "hft/ipc/process_identity.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <thread>

#include "../support/catch.hpp"
#include "ipc_test_support.hpp"

using hft::ipc::ProcessIdentity;

TEST_CASE("process identity: this process is alive with a start time", "[ipc][process]") {
  const ProcessIdentity me = ProcessIdentity::self();
  CHECK(me.pid == ::getpid());
  CHECK(me.start_time > 0);
  CHECK(me.alive());
  CHECK(ProcessIdentity::of(me.pid) == me);
}

TEST_CASE("process identity: the same pid with another start time is not alive (a reused pid)", "[ipc][process]") {
  ProcessIdentity other = ProcessIdentity::self();
  other.start_time += 1;
  CHECK_FALSE(other.alive());
}

TEST_CASE("process identity: a child is alive, then dead as a zombie, then dead when reaped", "[ipc][process]") {
  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  const pid_t pid = hft::test::fork_child([&] {
    (void)!::write(ready[1], "x", 1);
    for (;;) ::pause();
    return 0;
  });
  REQUIRE(pid > 0);
  char c = 0;
  REQUIRE(::read(ready[0], &c, 1) == 1);
  const ProcessIdentity child = ProcessIdentity::of(pid);
  CHECK(child.start_time > 0);
  CHECK(child.alive());
  REQUIRE(::kill(pid, SIGKILL) == 0);
  // Not reaped yet: a zombie, which will never run again.
  siginfo_t info{};
  REQUIRE(::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT) == 0);
  CHECK_FALSE(child.alive());
  CHECK(hft::test::wait_child(pid) == -SIGKILL);
  CHECK_FALSE(child.alive());
  ::close(ready[0]);
  ::close(ready[1]);
}

TEST_CASE("process identity: limits - pid 0, negative, INT32_MAX name no live process", "[ipc][process]") {
  CHECK_FALSE(ProcessIdentity{}.alive());
  CHECK_FALSE(ProcessIdentity{-1, 0, 0}.alive());
  CHECK_FALSE(ProcessIdentity{INT_MIN, 0, 0}.alive());
  CHECK_FALSE(ProcessIdentity{INT_MAX, 0, 0}.alive());
  CHECK(ProcessIdentity::of(INT_MAX).start_time == 0);
}

TEST_CASE("process identity: self() in a fork()ed child is the child, not the cached parent", "[ipc][process]") {
  const ProcessIdentity parent = ProcessIdentity::self();  // cached here before the fork
  const pid_t pid = hft::test::fork_child([&] {
    const ProcessIdentity me = ProcessIdentity::self();
    return me.pid == ::getpid() && me.pid != parent.pid && me.start_time != 0 && me.alive() ? 0 : 1;
  });
  CHECK(hft::test::wait_child(pid) == 0);
}
