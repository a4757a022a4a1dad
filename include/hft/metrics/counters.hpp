// hft/metrics/counters.hpp: Counter and CounterGroup, cache-padded event counters.
//
// What: Counter is one 64-bit atomic alone on its padded block (so two hot counters
//   bumped by different threads never false-share). CounterGroup is a fixed set of named
//   counters with a snapshot whose values are mutually consistent for pipelines (below)
//   and a compact one-line print ("published=10 rejected=2 accepted=8").
// When to use: operational counters on hot paths (published, rejected, completed per
//   partition). When not: per-item data, or counters that must be reset atomically
//   together with other state (use a lock).
//
// Thread-safety: every operation from any thread. Names are fixed at
//   construction (the only allocation).
// Progress: add/inc/load/snapshot are wait-free.
// Memory ordering: CounterGroup::add is a release RMW and
//   snapshot() reads counters from the last to the first with acquire loads. So if every
//   thread increments counters of one item in declaration order (an item is "published"
//   before it is "dispatched" before it is "completed"), then a snapshot never counts an
//   item in a later counter without counting it in every earlier one: snapshot[i] >=
//   snapshot[j] for i < j holds whenever the pipeline guarantees it. (On x86 a release
//   RMW costs the same as a relaxed one.) Counter::add is relaxed: a lone statistic.
// Complexity: add O(1); snapshot O(counters); line() O(counters) and allocates.
// Compared with: a plain std::atomic<uint64_t> per counter (false sharing between hot
//   counters) or a struct of them under a mutex (no wait-free snapshot).
// Lifecycle: Counter is neither copyable nor movable; CounterGroup is movable, not
//   copyable, and a moved-from group may only be assigned to or destroyed.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "hft/core/assert.hpp"
#include "hft/core/cache.hpp"

namespace hft {

/// One relaxed counter on its own padded block.
class alignas(cache_line_size) Counter {
 public:
  /// Any thread: adds n (relaxed).
  void add(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  /// Any thread: adds 1.
  void inc() noexcept { add(1); }
  /// Any thread: the current value (relaxed: a statistic).
  [[nodiscard]] std::uint64_t load() const noexcept { return value_.load(std::memory_order_relaxed); }
  /// Sets the counter to 0; increments racing with it may be lost.
  void reset() noexcept { value_.store(0, std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};
static_assert(sizeof(Counter) == cache_line_size && alignof(Counter) == cache_line_size);

/// Named counters updated from any thread and read as one consistent-enough snapshot, printed
/// as one `name=value` line.
class CounterGroup {
 public:
  /// Throws std::invalid_argument for an empty list, an empty or duplicate name, or a
  /// name with a space or '=' (they would break the one-line format).
  CounterGroup(std::initializer_list<std::string_view> names)
      : names_(names.begin(), names.end()), values_(std::make_unique<Slot[]>(names.size())) {
    if (names_.empty()) throw std::invalid_argument("hft::CounterGroup: needs at least one counter");
    for (std::size_t i = 0; i < names_.size(); ++i) {
      const std::string& n = names_[i];
      if (n.empty() || n.find_first_of(" =\n") != std::string::npos) {
        throw std::invalid_argument("hft::CounterGroup: bad counter name '" + n + "'");
      }
      for (std::size_t j = 0; j < i; ++j) {
        if (names_[j] == n) throw std::invalid_argument("hft::CounterGroup: duplicate counter name '" + n + "'");
      }
    }
  }

  /// The number of counters.
  [[nodiscard]] std::size_t size() const noexcept { return names_.size(); }
  /// The name of counter `i`; throws std::out_of_range past size().
  [[nodiscard]] const std::string& name(std::size_t i) const { return names_.at(i); }
  /// Index of a name (linear search: look it up once, keep the index). Throws
  /// std::out_of_range for an unknown name.
  [[nodiscard]] std::size_t index_of(std::string_view n) const {
    for (std::size_t i = 0; i < names_.size(); ++i) {
      if (names_[i] == n) return i;
    }
    throw std::out_of_range("hft::CounterGroup: no counter named '" + std::string(n) + "'");
  }

  /// Any thread. Release RMW: pairs with snapshot()'s acquire loads (see the header).
  void add(std::size_t i, std::uint64_t n = 1) noexcept {
    HFT_ASSERT(i < names_.size(), "CounterGroup::add: index out of range");
    values_[i].value.fetch_add(n, std::memory_order_release);
  }
  /// Any thread: counter `i` (acquire; pairs with add()'s release).
  [[nodiscard]] std::uint64_t load(std::size_t i) const noexcept {
    HFT_ASSERT(i < names_.size(), "CounterGroup::load: index out of range");
    return values_[i].value.load(std::memory_order_acquire);  // pairs with add()'s release
  }

  /// Any thread. Writes every counter into out (size() values), reading from the last
  /// counter to the first with acquire (see the header for what that guarantees).
  void snapshot(std::span<std::uint64_t> out) const noexcept {
    HFT_ASSERT(out.size() >= names_.size(), "CounterGroup::snapshot: output span too small");
    for (std::size_t i = names_.size(); i-- > 0;) {
      out[i] = values_[i].value.load(std::memory_order_acquire);  // pairs with add()'s release
    }
  }
  /// Any thread: every counter, as snapshot(span) reads them, in a new vector.
  [[nodiscard]] std::vector<std::uint64_t> snapshot() const {
    std::vector<std::uint64_t> v(names_.size());
    snapshot(v);
    return v;
  }

  /// "prefix name=value name=value ..." from one snapshot. Allocates.
  [[nodiscard]] std::string line(std::string_view prefix = {}) const {
    const std::vector<std::uint64_t> v = snapshot();
    std::string out(prefix);
    for (std::size_t i = 0; i < names_.size(); ++i) {
      if (!out.empty()) out += ' ';
      out += names_[i];
      out += '=';
      out += std::to_string(v[i]);
    }
    return out;
  }

  /// Sets every counter to 0 (not atomic as a group; racing increments may be lost).
  void reset() noexcept {
    for (std::size_t i = 0; i < names_.size(); ++i) values_[i].value.store(0, std::memory_order_relaxed);
  }

 private:
  using Slot = CachePadded<std::atomic<std::uint64_t>>;
  static_assert(sizeof(Slot) == cache_line_size);
  std::vector<std::string> names_;
  std::unique_ptr<Slot[]> values_;
};

}  // namespace hft
