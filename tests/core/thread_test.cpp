#include "hft/core/thread.hpp"

#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "../support/catch.hpp"

TEST_CASE("pinning round-trips through the affinity mask", "[thread]") {
  const std::vector<int> cpus = hft::available_cpus();
  REQUIRE_FALSE(cpus.empty());
  std::thread t([&] {
    for (int cpu : cpus) {
      hft::pin_current_thread(cpu);
      REQUIRE(hft::current_thread_affinity() == std::vector<int>{cpu});
    }
  });
  t.join();
  std::thread idle([] { std::this_thread::sleep_for(std::chrono::milliseconds(10)); });
  REQUIRE_NOTHROW(hft::pin_thread(idle, cpus.back()));
  idle.join();
  REQUIRE_THROWS_AS(hft::pin_thread(idle, cpus.back()), std::invalid_argument);  // not running
}

TEST_CASE("an invalid CPU is a clear error, never a silent no-op", "[thread]") {
  // -1 and CPU_SETSIZE are out of range; 1000 is in range but offline on any test machine.
  for (int bad : {-1, 1000, 100000, CPU_SETSIZE}) {
    try {
      hft::pin_current_thread(bad);
      FAIL("pinning to CPU " << bad << " did not throw");
    } catch (const std::invalid_argument& e) {
      const std::string what = e.what();
      REQUIRE(what.find("CPU " + std::to_string(bad)) != std::string::npos);
      REQUIRE(what.find("may use CPUs") != std::string::npos);
    }
  }
  // The thread's affinity is unchanged by the failed calls.
  REQUIRE(hft::current_thread_affinity() == hft::available_cpus());
}

TEST_CASE("thread names are set and read back, too long is an error", "[thread]") {
  std::thread t([] {
    hft::set_current_thread_name("hft-io-0");
    REQUIRE(hft::current_thread_name() == "hft-io-0");
    REQUIRE_THROWS_AS(hft::set_current_thread_name("a-name-longer-than-15"), std::invalid_argument);
    REQUIRE(hft::current_thread_name() == "hft-io-0");
  });
  t.join();
}
