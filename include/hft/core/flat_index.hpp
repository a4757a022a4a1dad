// hft/core/flat_index.hpp: FlatIndex, a fixed-capacity open-addressing map from a 64-bit
// key to a 32-bit slot number.
//
// What: the key -> record index used by FamilyScheduler (family key -> family record) and
//   OrderBookL3 / MatchingEngine (order id -> order record). Linear probing, a power-of-two
//   table at most half full, backward-shift deletion (no tombstones, so a long churn of
//   inserts and erases never degrades probing), murmur3's 64-bit finaliser as the hash.
// When to use: a bounded number of live keys known up front and no allocation allowed after
//   construction. When not: unbounded key sets (use std::unordered_map), or several writer
//   threads (it has none of its own synchronisation).
// Thread-safety: one thread at a time (or external synchronisation); const
//   members may be called concurrently with each other.
// Progress: every operation is wait-free; expected O(1), worst case O(capacity) probes.
// Complexity: 16 bytes per table entry, 2 x round_up_pow2(max_keys) entries, allocated
//   in the constructor; nothing afterwards.
// Lifecycle: movable, not copyable; a moved-from index may only be assigned to or destroyed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>

#include "hft/core/assert.hpp"
#include "hft/core/bits.hpp"

namespace hft {

/// A fixed-capacity open-addressing hash map from a 64-bit key to a 32-bit slot, allocated
/// once: the books' order-id index. One thread.
class FlatIndex {
 public:
  static constexpr std::uint32_t npos = 0xFFFF'FFFFu;  ///< what find() returns for an absent key

  /// Room for max_keys live keys. Throws std::invalid_argument for 0 or more than 2^30.
  explicit FlatIndex(std::size_t max_keys)
      : max_keys_(check(max_keys)),
        mask_(round_up_pow2<std::size_t>(2 * max_keys) - 1),
        table_(new Entry[mask_ + 1]) {}

  /// The slot stored for key, or npos.
  [[nodiscard]] std::uint32_t find(std::uint64_t key) const noexcept {
    for (std::size_t i = home(key);; i = (i + 1) & mask_) {
      const Entry& e = table_[i];
      if (e.slot == npos) return npos;
      if (e.key == key) return e.slot;
    }
  }

  /// Inserts key -> slot. Returns false (unchanged) when key is present or the index holds
  /// max_keys keys already. slot must not be npos.
  [[nodiscard]] bool try_insert(std::uint64_t key, std::uint32_t slot) noexcept {
    HFT_ASSERT(slot != npos, "FlatIndex::try_insert: npos is not a valid slot");
    if (size_ == max_keys_) return false;
    std::size_t i = home(key);
    for (; table_[i].slot != npos; i = (i + 1) & mask_) {
      if (table_[i].key == key) return false;
    }
    table_[i] = Entry{key, slot};
    ++size_;
    return true;
  }

  /// Removes key; returns its slot, or npos if absent.
  std::uint32_t erase(std::uint64_t key) noexcept {
    std::size_t i = home(key);
    for (;; i = (i + 1) & mask_) {
      if (table_[i].slot == npos) return npos;
      if (table_[i].key == key) break;
    }
    const std::uint32_t slot = table_[i].slot;
    // Backward shift: pull later entries of the probe run into the hole unless their home
    // lies cyclically in (hole, j].
    for (std::size_t j = (i + 1) & mask_; table_[j].slot != npos; j = (j + 1) & mask_) {
      const std::size_t h = home(table_[j].key);
      const bool stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);
      if (!stays) {
        table_[i] = table_[j];
        i = j;
      }
    }
    table_[i] = Entry{};
    --size_;
    return slot;
  }

  /// Removes every key (capacity stays).
  void clear() noexcept {
    for (std::size_t i = 0; i <= mask_; ++i) table_[i] = Entry{};
    size_ = 0;
  }

  /// Keys present.
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  /// The capacity given at construction.
  [[nodiscard]] std::size_t max_keys() const noexcept { return max_keys_; }

  /// murmur3 fmix64: sequential ids and ids differing only in high bits spread evenly.
  [[nodiscard]] static constexpr std::uint64_t hash(std::uint64_t k) noexcept {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return k;
  }

 private:
  struct Entry {
    std::uint64_t key = 0;
    std::uint32_t slot = npos;
  };
  static std::size_t check(std::size_t n) {
    if (n == 0 || n > (std::size_t{1} << 30)) {
      throw std::invalid_argument("hft::FlatIndex: max_keys must be in 1..2^30");
    }
    return n;
  }
  [[nodiscard]] std::size_t home(std::uint64_t key) const noexcept {
    return static_cast<std::size_t>(hash(key)) & mask_;
  }

  std::size_t max_keys_;
  std::size_t mask_;
  std::unique_ptr<Entry[]> table_;
  std::size_t size_ = 0;
};

}  // namespace hft
