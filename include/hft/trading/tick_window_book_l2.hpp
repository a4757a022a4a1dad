// hft/trading/tick_window_book_l2.hpp: TickWindowBookL2, an aggregated price-level book
// that keeps the levels near the touch in a dense array indexed by tick, for deep books.
//
// What: the same interface and results as OrderBookL2 (set_level / add / reduce return a
//   BookUpdate with top_changed; best, level, for_each_level, snapshot), stored
//   differently. Per side, a window of window_ticks consecutive prices is a dense array of
//   quantities indexed by (price - base) in ticks, with one occupancy bit per tick and one
//   summary bit per 64 ticks; levels worse than the window live in a sorted far store
//   (detail::SortedLevels, as in OrderBookL2) of max_far_levels levels. An update inside
//   the window is one array access at any distance from the touch: no search, nothing
//   moves. When the best level empties, the next one is found from the bitmaps (two
//   count-leading-zeros in the common case).
// Re-centring: the window puts the touch at 3/4 of its width (room for 1/4 of the width of
//   improvement, 3/4 of depth). A new level better than the window's top, a touch that
//   falls into the bottom quarter, or a window that empties while far levels remain moves
//   the window so the touch is at 3/4 again: levels leaving it go to the far store, far
//   levels entering it come in. A re-centre costs O(window_ticks) (a move of the array
//   and a rebuild of the bitmaps) and is counted in stats().recentres; a touch that drifts by d
//   ticks costs about one per window_ticks / 4 ticks of drift.
// When to use: L2 books with hundreds to thousands of levels, or updates far from the
//   touch (full-depth feeds); see docs/trading.md for where each book wins, measured.
// When not: shallow books (about 40 levels, updates at the touch): OrderBookL2 is as fast
//   and its memory is per level, not per tick. A price grid that is not uniform in ticks.
//   A book that must refuse levels rather than drop them (OrderBookL2, DepthPolicy::Reject).
// Depth limit: every level inside the window is kept; at most max_far_levels beyond it.
//   A new far level on a full far store drops the worst far level if it is better
//   (counted in levels_dropped()), and is refused with DepthFull otherwise; a re-centre
//   that pushes levels into a full far store drops its worst ones the same way. The book
//   is then a correct view of the best levels, as OrderBookL2 with DropWorst is.
// Quantities: an add that would take a level past INT64_MAX units returns QtyOverflow and
//   changes nothing. Prices: any int64, as in OrderBookL2 (the same spread / mid / crossed
//   / locked, which saturate or compare rather than overflow).
// Thread-safety: one thread at a time (single writer, no internal locking); const
//   members may run concurrently with each other but not with an update.
// Progress: wait-free.
// Memory ordering: none (not shared).
// Complexity: an update inside the window O(1); beyond it O(min(d, 8) + log n) as in
//   OrderBookL2; when the best empties O(window_ticks / 4096) words scanned at most;
//   a re-centre O(window_ticks + levels moved). best/spread O(1). level(i) and
//   for_each_level O(i + window_ticks / 64) (walks the bitmap). level_count O(1).
//   Memory: per side 8.125 B x window_ticks + 16 B x max_far_levels, allocated in the
//   constructor; nothing allocates after it.
// Compared with: OrderBookL2 (sorted array per side: memory per level, update cost grows
//   with the distance from the touch); a std::map per side (a node per level, a pointer
//   chase per update); CppTrader's AVL trees of levels. Price-indexed arrays are the usual
//   design for deep books in feed handlers; ours adds the far store, so a level any
//   distance away is still kept, and the bitmaps, so an emptied touch never scans ticks.
// Lifecycle: movable, not copyable; a moved-from book may only be assigned to or destroyed.
#pragma once

#include <bit>
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>

#include "hft/core/assert.hpp"
#include "hft/trading/order_book_l2.hpp"
#include "hft/trading/sorted_levels.hpp"
#include "hft/trading/types.hpp"

namespace hft {

/// Counters of a TickWindowBookL2, returned by value from stats().
struct TickWindowBookL2Stats {
  std::uint64_t levels_dropped = 0;  ///< far levels dropped for better ones (DropWorst)
  std::uint64_t recentres = 0;       ///< window moves, both sides: what the re-centring policy cost
};

// '__i0' below is the loop index of the compiler's implicit move of sides_[2], not a name in
// this code (a clang-tidy 14 false positive).
/// An L2 book indexed by price: a window of window_ticks tick slots per side around the touch,
/// with bitmaps for the next level, and a sorted store for levels beyond the window. One
/// thread.
// NOLINTNEXTLINE(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp)
class TickWindowBookL2 : public detail::L2BookQueries<TickWindowBookL2> {
 public:
  static constexpr std::size_t kMinWindow = 64;                    ///< the smallest window_ticks
  static constexpr std::size_t kMaxWindow = std::size_t{1} << 24;  ///< the largest window_ticks (2^24)

  /// A window of window_ticks prices per side (a multiple of 64 in [64, 2^24]) and room for
  /// max_far_levels levels beyond it (>= 1). Throws std::invalid_argument otherwise.
  explicit TickWindowBookL2(std::size_t window_ticks = 4096, std::size_t max_far_levels = 1024)
      : window_(checked_window(window_ticks)),
        sides_{Window_(window_ticks, checked_far(max_far_levels)), Window_(window_ticks, max_far_levels)} {}

  /// Sets the level at price to qty (qty 0 removes it; removing a missing level is a
  /// no-op that succeeds). Negative qty: InvalidQty, book unchanged.
  BookUpdate set_level(Side side, Price price, Qty qty) noexcept {
    if (qty.value() < 0) return {BookError::InvalidQty, false};
    Window_& s = sides_[idx(side)];
    const std::int64_t k = detail::level_key(side, price);
    std::uint64_t off = offset(s, k);
    if (off < window_) {
      Qty& q = s.qty[off];
      if (q.zero()) return qty.zero() ? BookUpdate{} : open_level(s, off, qty);
      if (qty.zero()) return close_level(s, off);
      const bool changed = q != qty;
      q = qty;
      return {BookError::None, changed && off == s.best};
    }
    if (s.count > 0 && k < s.base) return far_set(s, k, qty);
    if (qty.zero()) return {};  // better than every level: none is there
    off = make_room_above(s, k);
    return open_level(s, off, qty);
  }

  /// Adds delta (> 0) to the level at price, creating it if absent.
  BookUpdate add(Side side, Price price, Qty delta) noexcept {
    if (delta.value() <= 0) return {BookError::InvalidQty, false};
    Window_& s = sides_[idx(side)];
    const std::int64_t k = detail::level_key(side, price);
    std::uint64_t off = offset(s, k);
    if (off < window_) {
      Qty& q = s.qty[off];
      if (q.zero()) return open_level(s, off, delta);
      if (delta.value() > std::numeric_limits<std::int64_t>::max() - q.value()) return {BookError::QtyOverflow, false};
      q += delta;
      return {BookError::None, off == s.best};
    }
    if (s.count > 0 && k < s.base) return far_add(s, k, delta);
    off = make_room_above(s, k);
    return open_level(s, off, delta);
  }

  /// Removes delta (> 0) from the level at price; the level goes when it reaches 0.
  /// UnknownLevel / InsufficientQty leave the book unchanged.
  BookUpdate reduce(Side side, Price price, Qty delta) noexcept {
    if (delta.value() <= 0) return {BookError::InvalidQty, false};
    Window_& s = sides_[idx(side)];
    const std::int64_t k = detail::level_key(side, price);
    const std::uint64_t off = offset(s, k);
    if (off < window_) {
      Qty& q = s.qty[off];
      if (q.zero()) return {BookError::UnknownLevel, false};
      if (delta > q) return {BookError::InsufficientQty, false};
      if (delta == q) return close_level(s, off);
      q -= delta;
      return {BookError::None, off == s.best};
    }
    if (s.count > 0 && k < s.base) return far_reduce(s, k, delta);
    return {BookError::UnknownLevel, false};
  }

  /// The best level of `side` (highest bid, lowest ask), or nullopt when that side is empty.
  [[nodiscard]] std::optional<Level> best(Side side) const noexcept {
    const Window_& s = sides_[idx(side)];
    if (s.count == 0) return std::nullopt;  // an empty window means an empty far store too
    return Level{detail::level_price(side, s.best_key), s.qty[s.best]};
  }
  /// Levels on `side`, in the window and beyond it.
  [[nodiscard]] std::size_t level_count(Side side) const noexcept {
    const Window_& s = sides_[idx(side)];
    return s.count + s.far.size();
  }
  /// The i-th level from the touch (0 = best). Precondition: i < level_count(side).
  [[nodiscard]] Level level(Side side, std::size_t i) const noexcept {
    HFT_ASSERT(i < level_count(side), "TickWindowBookL2::level: index past the last level");
    Level out{};
    std::size_t k = 0;
    for_each_level(side, i + 1, [&](const Level& l) {
      if (k++ == i) out = l;
    });
    return out;
  }
  /// Calls fn(const Level&) for up to n levels, best first.
  template <class F>
  void for_each_level(Side side, std::size_t n, F&& fn) const {
    const Window_& s = sides_[idx(side)];
    std::size_t done = 0;
    for (std::int64_t off = s.count > 0 ? static_cast<std::int64_t>(s.best) : -1; off >= 0 && done < n; ++done) {
      const auto o = static_cast<std::size_t>(off);
      fn(Level{detail::level_price(side, s.base + off), s.qty[o]});
      off = o == 0 ? -1 : prev_set(s, o - 1);
    }
    for (std::size_t i = 0; i < s.far.size() && done < n; ++i, ++done) {
      const auto& e = s.far.from_best(i);
      fn(Level{detail::level_price(side, e.key), e.value});
    }
  }

  /// Removes every level of both sides (the window and the far store keep their memory).
  void clear() noexcept {
    for (Window_& s : sides_) {
      for (std::size_t w = 0; w < window_ / 64; ++w) {
        for (std::uint64_t m = s.bits[w]; m != 0; m &= m - 1)
          s.qty[w * 64 + static_cast<std::size_t>(std::countr_zero(m))] = Qty{};
        s.bits[w] = 0;
      }
      std::memset(s.summary.get(), 0, summary_words() * sizeof(std::uint64_t));
      s.count = 0;
      s.best = 0;
      s.far.clear();
    }
  }
  /// Tick slots per side in the window, as constructed.
  [[nodiscard]] std::size_t window_ticks() const noexcept { return window_; }
  /// Room for levels beyond the window, per side, as constructed.
  [[nodiscard]] std::size_t max_far_levels() const noexcept { return sides_[0].far.capacity(); }
  /// As OrderBookL2::levels_dropped (the interface the two books share).
  [[nodiscard]] std::uint64_t levels_dropped() const noexcept { return dropped_; }
  /// A copy of the counters.
  [[nodiscard]] TickWindowBookL2Stats stats() const noexcept { return {dropped_, recentres_}; }

 private:
  // One side's hot fields (what every update reads) fill its first cache line; a side
  // starts on its own line so an update touches one line of the book object.
  struct alignas(64) Window_ {
    Window_(std::size_t w, std::size_t far_cap)
        : qty(new Qty[w]), bits(new std::uint64_t[w / 64]()), summary(new std::uint64_t[(w / 64 + 63) / 64]()),
          far(far_cap) {}
    std::int64_t base = 0;      // key of qty[0]; meaningful while count > 0
    std::size_t best = 0;       // offset of the best level; meaningful while count > 0
    std::int64_t best_key = 0;  // base + best, kept so that a BBO read is one load, not an add
    std::size_t count = 0;      // levels in the window
    std::unique_ptr<Qty[]> qty;
    std::unique_ptr<std::uint64_t[]> bits;     // bit t: qty[t] != 0
    std::unique_ptr<std::uint64_t[]> summary;  // bit w: bits[w] != 0
    detail::SortedLevels<Qty> far;             // levels with key < base
  };
  static_assert(offsetof(Window_, summary) + sizeof(std::uint64_t*) <= 64, "a side's hot fields span two lines");

  static std::size_t checked_window(std::size_t w) {
    if (w < kMinWindow || w > kMaxWindow || w % 64 != 0) {
      // Appended, not "literal" + to_string: g++ 12 -O2 warns -Wrestrict on that form.
      std::string msg = "hft::TickWindowBookL2: window_ticks must be a multiple of 64 in [64, 2^24], got ";
      msg += std::to_string(w);
      throw std::invalid_argument(msg);
    }
    return w;
  }
  static std::size_t checked_far(std::size_t n) {
    if (n == 0) throw std::invalid_argument("hft::TickWindowBookL2: max_far_levels must be >= 1");
    return n;
  }
  static constexpr std::size_t idx(Side s) noexcept { return static_cast<std::size_t>(s); }
  [[nodiscard]] std::size_t summary_words() const noexcept { return (window_ / 64 + 63) / 64; }

  // Offset of key k in the window, computed modulo 2^64 so that a key below base, or one
  // so far away that the signed difference would overflow, lands outside [0, window).
  static std::uint64_t offset(const Window_& s, std::int64_t k) noexcept {
    return static_cast<std::uint64_t>(k) - static_cast<std::uint64_t>(s.base);
  }
  // Where the window goes so that `top` sits at 3/4 of it, saturated at the key range.
  [[nodiscard]] std::int64_t base_for(std::int64_t top) const noexcept {
    const auto room = static_cast<std::int64_t>(window_ / 4 * 3);
    const std::int64_t lo = std::numeric_limits<std::int64_t>::min();
    const std::int64_t hi = std::numeric_limits<std::int64_t>::max() - static_cast<std::int64_t>(window_) + 1;
    const std::int64_t b = top < lo + room ? lo : top - room;
    return b > hi ? hi : b;
  }

  static void set_bit(Window_& s, std::size_t off) noexcept {
    const std::size_t w = off / 64;
    s.bits[w] |= std::uint64_t{1} << (off % 64);
    s.summary[w / 64] |= std::uint64_t{1} << (w % 64);
  }
  static void clear_bit(Window_& s, std::size_t off) noexcept {
    const std::size_t w = off / 64;
    s.bits[w] &= ~(std::uint64_t{1} << (off % 64));
    if (s.bits[w] == 0) s.summary[w / 64] &= ~(std::uint64_t{1} << (w % 64));
  }
  // Highest occupied offset <= from, or -1.
  static std::int64_t prev_set(const Window_& s, std::size_t from) noexcept {
    std::size_t w = from / 64;
    const std::uint64_t m = s.bits[w] & (~std::uint64_t{0} >> (63 - from % 64));
    if (m != 0) return static_cast<std::int64_t>(w * 64 + 63 - static_cast<std::size_t>(std::countl_zero(m)));
    if (w == 0) return -1;
    --w;  // the highest non-empty word <= w, from the summary
    std::size_t sw = w / 64;
    std::uint64_t sm = s.summary[sw] & (~std::uint64_t{0} >> (63 - w % 64));
    while (sm == 0) {
      if (sw == 0) return -1;
      sm = s.summary[--sw];
    }
    const std::size_t word = sw * 64 + 63 - static_cast<std::size_t>(std::countl_zero(sm));
    return static_cast<std::int64_t>(word * 64 + 63 - static_cast<std::size_t>(std::countl_zero(s.bits[word])));
  }

  BookUpdate open_level(Window_& s, std::size_t off, Qty q) noexcept {
    s.qty[off] = q;
    set_bit(s, off);
    const bool top = s.count == 0 || off > s.best;
    if (top) {
      s.best = off;
      s.best_key = s.base + static_cast<std::int64_t>(off);
    }
    ++s.count;
    return {BookError::None, top};
  }
  BookUpdate close_level(Window_& s, std::size_t off) noexcept {
    s.qty[off] = Qty{};
    clear_bit(s, off);
    --s.count;
    if (off != s.best) return {BookError::None, false};
    if (s.count > 0) {
      s.best = static_cast<std::size_t>(prev_set(s, off));
      s.best_key = s.base + static_cast<std::int64_t>(s.best);
      // The touch fell into the bottom quarter: move the window down so the depth below it
      // is in the window again rather than in the far store.
      if (s.best < window_ / 4) recentre(s, base_for(s.base + static_cast<std::int64_t>(s.best)));
    } else if (!s.far.empty()) {
      recentre(s, base_for(s.far.back().key));  // the window emptied: the far best becomes the touch
    }
    return {BookError::None, true};
  }

  // A new level better than the window's top (or the side's first level): the window
  // moves so it sits at 3/4. Returns the level's offset.
  std::size_t make_room_above(Window_& s, std::int64_t k) noexcept {
    if (s.count == 0) {
      s.base = base_for(k);  // empty window, empty far store: nothing moves
    } else {
      recentre(s, base_for(k));
    }
    return static_cast<std::size_t>(offset(s, k));
  }

  // Moves the window to new_base. Window levels below it go to the far store (they are
  // better than every far level, so they append); far levels inside it come in.
  // Precondition: no level is at or above new_base + window (the caller puts the touch at
  // 3/4 of the new window).
  void recentre(Window_& s, std::int64_t new_base) noexcept {
    ++recentres_;
    const std::uint64_t w = window_;
    if (new_base > s.base) {
      const std::uint64_t shift = static_cast<std::uint64_t>(new_base) - static_cast<std::uint64_t>(s.base);
      const std::uint64_t leave = shift < w ? shift : w;
      for (std::size_t off = 0; off < leave; ++off)
        if (!s.qty[off].zero()) far_push(s, s.base + static_cast<std::int64_t>(off), s.qty[off]);
      if (shift < w) {
        std::memmove(s.qty.get(), s.qty.get() + shift, (w - shift) * sizeof(Qty));
        std::fill(s.qty.get() + (w - shift), s.qty.get() + w, Qty{});
      } else {
        std::fill(s.qty.get(), s.qty.get() + w, Qty{});
      }
    } else if (new_base < s.base) {
      const std::uint64_t shift = static_cast<std::uint64_t>(s.base) - static_cast<std::uint64_t>(new_base);
      if (shift < w) {
        std::memmove(s.qty.get() + shift, s.qty.get(), (w - shift) * sizeof(Qty));
        std::fill(s.qty.get(), s.qty.get() + shift, Qty{});
      } else {
        std::fill(s.qty.get(), s.qty.get() + w, Qty{});
      }
    }
    s.base = new_base;
    while (!s.far.empty() && s.far.back().key >= new_base) {
      const auto& e = s.far.back();
      HFT_ASSERT(offset(s, e.key) < w, "TickWindowBookL2: a far level above the new window");
      s.qty[offset(s, e.key)] = e.value;
      s.far.pop_back();
    }
    // Rebuild the occupancy from the array: O(window), as the move was.
    std::memset(s.summary.get(), 0, summary_words() * sizeof(std::uint64_t));
    s.count = 0;
    for (std::size_t word = 0; word < w / 64; ++word) {
      std::uint64_t m = 0;
      for (std::size_t b = 0; b < 64; ++b) m |= static_cast<std::uint64_t>(!s.qty[word * 64 + b].zero()) << b;
      s.bits[word] = m;
      if (m != 0) {
        s.summary[word / 64] |= std::uint64_t{1} << (word % 64);
        s.count += static_cast<std::size_t>(std::popcount(m));
        s.best = word * 64 + 63 - static_cast<std::size_t>(std::countl_zero(m));
      }
    }
    s.best_key = s.base + static_cast<std::int64_t>(s.best);
  }

  // Appends a level better than every far level (a re-centre's departures); on a full far
  // store the worst far level makes room.
  void far_push(Window_& s, std::int64_t k, Qty q) noexcept {
    if (s.far.full()) {
      s.far.insert_dropping_worst(s.far.size(), {k, q});
      ++dropped_;
      return;
    }
    s.far.push_back({k, q});
  }
  BookUpdate far_insert(Window_& s, std::size_t pos, std::int64_t k, Qty q) noexcept {
    if (s.far.full()) {
      if (pos == 0) return {BookError::DepthFull, false};
      s.far.insert_dropping_worst(pos, {k, q});
      ++dropped_;
      return {};
    }
    s.far.insert(pos, {k, q});
    return {};
  }
  // Far levels are never the touch (the window holds it), so top_changed is false.
  BookUpdate far_set(Window_& s, std::int64_t k, Qty q) noexcept {
    const auto f = s.far.find(k);
    if (!f.found) return q.zero() ? BookUpdate{} : far_insert(s, f.pos, k, q);
    if (q.zero()) {
      s.far.erase(f.pos);
    } else {
      s.far[f.pos].value = q;
    }
    return {};
  }
  BookUpdate far_add(Window_& s, std::int64_t k, Qty d) noexcept {
    const auto f = s.far.find(k);
    if (!f.found) return far_insert(s, f.pos, k, d);
    Qty& q = s.far[f.pos].value;
    if (d.value() > std::numeric_limits<std::int64_t>::max() - q.value()) return {BookError::QtyOverflow, false};
    q += d;
    return {};
  }
  static BookUpdate far_reduce(Window_& s, std::int64_t k, Qty d) noexcept {
    const auto f = s.far.find(k);
    if (!f.found) return {BookError::UnknownLevel, false};
    Qty& q = s.far[f.pos].value;
    if (d > q) return {BookError::InsufficientQty, false};
    if (d == q) {
      s.far.erase(f.pos);
    } else {
      q -= d;
    }
    return {};
  }

  std::size_t window_;
  Window_ sides_[2];
  std::uint64_t dropped_ = 0;
  std::uint64_t recentres_ = 0;
};

}  // namespace hft
