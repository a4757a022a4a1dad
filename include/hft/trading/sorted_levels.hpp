// hft/trading/sorted_levels.hpp: the price-level store the books share (hft::detail):
// one side's levels in a sorted array, best at the end, searched from the touch.
//
// What: not a public primitive. OrderBookL2 keeps each side in a SortedLevels<Qty>,
//   MatchingEngine in a SortedLevels of its FIFO heads, and TickWindowBookL2 keeps the
//   levels beyond its window in one. A level is (key, value) with key = ticks for bids and
//   -ticks for asks (level_key), so "better" is "larger key" on both sides and no search
//   branches on the side. Capacity is fixed at construction; nothing allocates after it.
//   find() scans kLinear levels from the best end (most updates land within a few ticks
//   of the touch, and a short linear scan mispredicts less than a binary search), then
//   binary-searches the rest, so a deep level costs O(log n), not O(n). insert/erase move
//   the levels better than the position (the few near the touch for a typical update).
// When to use: only through those types. When not: anywhere else (hft::detail may change).
// Thread-safety: one thread at a time (the owning book's).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "hft/core/assert.hpp"
#include "hft/trading/types.hpp"

namespace hft::detail {

/// A side's sort key: larger is better on both sides. An ask's key is the complement of
/// its price (~t == -t - 1), not its negation: that reverses the order and keeps adjacent
/// ticks adjacent, as negation does, and is defined for every int64 (-INT64_MIN is not).
[[nodiscard]] constexpr std::int64_t level_key(Side side, Price p) noexcept {
  return side == Side::Buy ? p.ticks() : ~p.ticks();
}
[[nodiscard]] constexpr Price level_price(Side side, std::int64_t key) noexcept {
  return Price::from_ticks(side == Side::Buy ? key : ~key);
}

template <class Value>
class SortedLevels {
 public:
  struct Entry {
    std::int64_t key = 0;
    Value value{};
  };
  struct Find {
    std::size_t pos;  // index of the level, or where it would be inserted
    bool found;
  };

  explicit SortedLevels(std::size_t capacity) : lv_(new Entry[capacity]), capacity_(capacity) {}

  [[nodiscard]] std::size_t size() const noexcept { return n_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  [[nodiscard]] bool empty() const noexcept { return n_ == 0; }
  [[nodiscard]] bool full() const noexcept { return n_ == capacity_; }
  /// Index 0 is the worst level, size() - 1 the best.
  [[nodiscard]] Entry& operator[](std::size_t i) noexcept { return lv_[i]; }
  [[nodiscard]] const Entry& operator[](std::size_t i) const noexcept { return lv_[i]; }
  [[nodiscard]] Entry& back() noexcept { return lv_[n_ - 1]; }
  [[nodiscard]] const Entry& back() const noexcept { return lv_[n_ - 1]; }
  /// The i-th level from the best (0 = best). Precondition: i < size().
  [[nodiscard]] const Entry& from_best(std::size_t i) const noexcept { return lv_[n_ - 1 - i]; }

  static constexpr std::size_t kLinear = 8;
  [[nodiscard]] Find find(std::int64_t k) const noexcept {
    std::size_t i = n_;
    const std::size_t stop = n_ > kLinear ? n_ - kLinear : 0;
    while (i > stop) {
      const std::int64_t have = lv_[i - 1].key;
      if (have == k) return {i - 1, true};
      if (have < k) return {i, false};  // k is better than lv[i-1]: it goes at i
      --i;
    }
    // Every level in [stop, n) is better than k: find the first key >= k in [0, stop).
    std::size_t lo = 0, hi = stop;
    while (lo < hi) {
      const std::size_t mid = lo + (hi - lo) / 2;
      if (lv_[mid].key < k) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return {lo, lo < n_ && lv_[lo].key == k};
  }

  /// Inserts at pos (from find). Precondition: !full().
  Entry& insert(std::size_t pos, Entry e) noexcept {
    HFT_ASSERT(n_ < capacity_ && pos <= n_, "SortedLevels::insert: full, or position past the end");
    for (std::size_t i = n_; i > pos; --i) lv_[i] = lv_[i - 1];
    lv_[pos] = e;
    ++n_;
    return lv_[pos];
  }
  /// Inserts at pos (from find, pos >= 1) on a full store by dropping the worst level:
  /// the store stays the best capacity() levels. The new level ends up at pos - 1.
  Entry& insert_dropping_worst(std::size_t pos, Entry e) noexcept {
    HFT_ASSERT(n_ == capacity_ && pos >= 1, "SortedLevels::insert_dropping_worst: not full, or worse than all");
    for (std::size_t i = 0; i + 1 < pos; ++i) lv_[i] = lv_[i + 1];
    lv_[pos - 1] = e;
    return lv_[pos - 1];
  }
  void erase(std::size_t pos) noexcept {
    HFT_ASSERT(pos < n_, "SortedLevels::erase: position past the end");
    for (std::size_t i = pos; i + 1 < n_; ++i) lv_[i] = lv_[i + 1];
    --n_;
  }
  /// Appends a level better than every stored one. Precondition: !full().
  void push_back(Entry e) noexcept {
    HFT_ASSERT(n_ < capacity_ && (n_ == 0 || lv_[n_ - 1].key < e.key),
               "SortedLevels::push_back: full, or not the best");
    lv_[n_++] = e;
  }
  void pop_back() noexcept {
    HFT_ASSERT(n_ > 0, "SortedLevels::pop_back: empty");
    --n_;
  }
  void clear() noexcept { n_ = 0; }

 private:
  std::unique_ptr<Entry[]> lv_;  // worst ... best (ascending key)
  std::size_t n_ = 0;
  std::size_t capacity_;
};

}  // namespace hft::detail
