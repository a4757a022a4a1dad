// A consumer's first program: include the umbrella header and move items across threads.
#include <hft/hft.hpp>

#include <cstdint>
#include <cstdio>
#include <thread>

int main() {
  hft::SpscQueue<std::uint64_t> q(1024);
  constexpr std::uint64_t n = 100'000;
  std::thread producer([&] {
    for (std::uint64_t i = 0; i < n; ++i) q.push(i);
  });
  std::uint64_t expected = 0;
  while (expected < n) {
    q.consume([&](std::uint64_t v) {
      if (v != expected) {
        std::fprintf(stderr, "out of order: %llu != %llu\n", static_cast<unsigned long long>(v),
                     static_cast<unsigned long long>(expected));
        std::_Exit(1);
      }
      ++expected;
    });
  }
  producer.join();
  std::printf("hft %d.%d.%d consumer: %llu items in order\n", hft::version_major, hft::version_minor,
              hft::version_patch, static_cast<unsigned long long>(expected));
  return 0;
}
