// Tracked: an element type that counts constructions and destructions and detects
// double destruction and use of a destroyed object. Every container test uses it.
#pragma once
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace hft::test {

struct Tracked {
  static inline std::atomic<long> constructed{0};
  static inline std::atomic<long> destroyed{0};
  static inline std::atomic<long> errors{0};  // double destroy or use after destroy
  static constexpr std::uint32_t kAlive = 0xA11FE;
  static constexpr std::uint32_t kDead = 0xDEAD;

  std::uint64_t value;
  std::uint32_t magic;

  explicit Tracked(std::uint64_t v) : value(v), magic(kAlive) { ++constructed; }
  Tracked(const Tracked& o) : value(o.value), magic(kAlive) { o.check(); ++constructed; }
  Tracked(Tracked&& o) noexcept : value(o.value), magic(kAlive) { o.check(); ++constructed; }
  // Assignment moves the value only: `magic` is this object's own liveness mark, not state.
  // Self-assignment copies a value onto itself: harmless, and both checks still run.
  // cppcheck-suppress operatorEqVarError
  Tracked& operator=(const Tracked& o) { o.check(); check(); value = o.value; return *this; }  // NOLINT(cert-oop54-cpp)
  // cppcheck-suppress operatorEqVarError
  Tracked& operator=(Tracked&& o) noexcept { o.check(); check(); value = o.value; return *this; }
  ~Tracked() {
    check();
    magic = kDead;
    ++destroyed;
  }
  void check() const noexcept {
    if (magic != kAlive) ++errors;
  }

  static void reset() noexcept { constructed = 0; destroyed = 0; errors = 0; }
  static long live() noexcept { return constructed.load() - destroyed.load(); }
};

// Constructible from an int; throws when the int is negative.
struct ThrowsOnNegative {
  static inline std::atomic<long> live{0};
  int v;
  explicit ThrowsOnNegative(int x) : v(x) {
    if (x < 0) throw std::runtime_error("negative");
    ++live;
  }
  ThrowsOnNegative(ThrowsOnNegative&& o) noexcept : v(o.v) { ++live; }
  ThrowsOnNegative(const ThrowsOnNegative&) = delete;
  ThrowsOnNegative& operator=(ThrowsOnNegative&& o) noexcept { v = o.v; return *this; }
  ~ThrowsOnNegative() { --live; }
};

// No default constructor, no copy: the queues must still work.
struct MoveOnlyNoDefault {
  explicit MoveOnlyNoDefault(int x) : v(x) {}
  MoveOnlyNoDefault(MoveOnlyNoDefault&&) noexcept = default;
  MoveOnlyNoDefault& operator=(MoveOnlyNoDefault&&) noexcept = default;
  MoveOnlyNoDefault(const MoveOnlyNoDefault&) = delete;
  int v;
};

}  // namespace hft::test
