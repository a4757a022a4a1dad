// The lifecycle checklist every public type's tests run, and the helpers for it.
//
// Each public type has a TEST_CASE named "<Type> lifecycle contract" (or a regression test
// named after the behaviour) covering, where they apply:
//   1. copy and move: exactly what the header's "Lifecycle:" line says. Types that are
//      movable document their moved-from state: usable (say how), or destroy-or-assign
//      (the standard library's minimum); moved_from_destroy_or_assign() checks the latter.
//   2. destruction while other threads are blocked in, or have just returned from, an
//      operation (only where the header allows it; everywhere else it is a precondition).
//   3. an exception from every user-supplied callable (handler, constructor, executor,
//      modify function, callback) and the state it leaves (Boom, ThrowOnCall).
//   4. sizes and durations at their limits: 0, 1, max, duration::max() (kTimeouts).
//   5. restart after stop, where there is a stop.
// docs/guarantees.md maps every claim of every header to the test that backs it.
#pragma once

#include <chrono>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "catch.hpp"

namespace hft::test::contract {

enum class Copy { No, Yes };
enum class Move { No, DestroyOrAssign, Usable };

/// Item 1, at compile time: the type's copy and move operations exist as documented.
template <class T, Copy C, Move M>
constexpr bool copy_move_is() {
  constexpr bool copy = std::is_copy_constructible_v<T> && std::is_copy_assignable_v<T>;
  constexpr bool no_copy = !std::is_copy_constructible_v<T> && !std::is_copy_assignable_v<T>;
  constexpr bool move = std::is_nothrow_move_constructible_v<T> && std::is_move_assignable_v<T>;
  constexpr bool no_move = !std::is_move_constructible_v<T> && !std::is_move_assignable_v<T>;
  return (C == Copy::Yes ? copy : no_copy) && (M == Move::No ? no_move : move);
}

/// Item 1, at run time, for Move::DestroyOrAssign: a moved-from object (by construction and
/// by assignment) accepts a fresh value and then works; destroying one is fine too.
/// `make()` returns a new T, `use(T&)` exercises it with REQUIREs.
template <class T, class Make, class Use>
void moved_from_destroy_or_assign(Make make, Use use) {
  T a = make();
  use(a);
  T b(std::move(a));
  use(b);
  a = make();  // the moved-from object is assigned ...
  use(a);      // ... and works again
  T c = make();
  c = std::move(b);
  use(c);
  b = make();
  use(b);
  {
    T d = make();
    T e(std::move(d));
    (void)e;
  }  // ... or is only destroyed
}

/// Item 3: the exception user callables throw in these tests.
struct Boom : std::runtime_error {
  Boom() : std::runtime_error("boom: thrown by a user callable in a test") {}
};

/// Item 3: a callable that throws Boom on its n-th call (1-based) and counts calls.
struct ThrowOnCall {
  int throw_at = 1;
  int calls = 0;
  template <class... A>
  void operator()(A&&...) {
    if (++calls == throw_at) throw Boom();
  }
};

/// Item 4: timeouts at their limits (zero, the smallest, "forever" in two representations).
inline constexpr std::chrono::nanoseconds kShortTimeouts[] = {std::chrono::nanoseconds::zero(),
                                                              std::chrono::nanoseconds(1)};

}  // namespace hft::test::contract
