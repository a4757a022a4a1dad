// hft/sync/seqlock.hpp: SeqLock<T>, one writer that never waits, readers that copy the
// value out and retry if a write overlapped.
//
// What: a trivially copyable T (a quote, a risk limit set, a config snapshot) published by
//   one writer thread and read by any number of readers without locks. Readers never
//   block the writer; a reader retries while a write is in progress or overlapped its copy.
// When to use: small, frequently read, occasionally written state (a BBO, a limit table
//   row) where a reader can afford a retry. When not: large T (a reader copies all of it,
//   maybe several times), a T that is not trivially copyable (use DoubleBuffer), or a
//   writer that writes so often that readers starve.
// Thread-safety: store(): one writer thread at a time. load()/try_load()/
//   version(): any thread.
// Progress: store() is wait-free. try_load() is wait-free (one attempt, which succeeds
//   whenever no store overlaps it). load() is obstruction-free with respect to the writer:
//   it returns once a copy fits between two stores, so a writer that stores continuously
//   can starve every reader (it is not lock-free: readers make no progress while the
//   writer does). Readers never delay each other or the writer.
// Memory ordering: the value lives in std::atomic<uint64_t> words, so the races a seqlock
//   relies on are atomic, not undefined, and ThreadSanitizer checks them. (The common
//   formulation copies plain memory under atomic_thread_fence; it is a data race in C++
//   and needs fences, which this project does not hand-roll.)
//   Writer: seq <- odd (relaxed); every word: store(release); seq <- even (release).
//   Reader: s0 = seq.load(acquire); every word: load(acquire); s1 = seq.load(relaxed);
//     the copy is good iff s0 == s1 and s0 is even.
//   Why that suffices: if the reader loaded a word written by a later write W, that
//   word's release store makes W's earlier odd seq store happen-before the reader's s1
//   load, so s1 != s0. If s0 (acquire) read the even seq of write V, all of V's word
//   stores are visible to the word loads. On x86 every one of these is a plain mov.
// Complexity: O(sizeof(T) / 8) per store and per load attempt.
// Compared with: the Linux kernel's seqcount copies plain memory between barriers, a
//   data race under the C++ memory model (Boehm, "Can seqlocks get along with programming
//   language memory models?", 2012); ours keeps the value in atomics, so it is race-free
//   and TSan-checked, at no cost on x86.
// Lifecycle: not copyable or movable (readers hold the address).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <type_traits>
#include <utility>

#include "hft/core/cache.hpp"
#include "hft/core/cpu.hpp"

namespace hft {

/// A sequence lock for a trivially copyable T: one writer stores without waiting, readers copy
/// and retry if a write overlapped.
template <class T>
class SeqLock {
  static_assert(std::is_trivially_copyable_v<T>, "SeqLock<T> needs a trivially copyable T (else: DoubleBuffer)");
  static constexpr std::size_t kWords = (sizeof(T) + sizeof(std::uint64_t) - 1) / sizeof(std::uint64_t);

 public:
  /// A lock holding `initial`.
  explicit SeqLock(const T& initial = T{}) noexcept { write_words(initial); }

  SeqLock(const SeqLock&) = delete;
  SeqLock& operator=(const SeqLock&) = delete;

  /// Writer thread only. Publishes v.
  void store(const T& v) noexcept {
    const std::uint64_t s = seq_.load(std::memory_order_relaxed);
    // Odd: a write is in progress. Relaxed is enough: each word's release store below
    // orders this store before it for any reader that loads that word (see the header).
    seq_.store(s + 1, std::memory_order_relaxed);
    write_words(v);
    seq_.store(s + 2, std::memory_order_release);  // pairs with try_load()'s acquire of s0
  }

  /// Any thread. One attempt: copies the value into `out` and returns true, or returns
  /// false (out unspecified) if a write was in progress or overlapped the copy.
  [[nodiscard]] bool try_load(T& out) const noexcept {
    const std::uint64_t s0 = seq_.load(std::memory_order_acquire);  // pairs with store()'s final release
    if (s0 & 1) return false;
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-member-init): every word is loaded just below
    std::array<std::uint64_t, kWords> buf;
    // Unrolled at compile time; each load pairs with the word's release store.
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      ((buf[I] = words_[I].load(std::memory_order_acquire)), ...);
    }(std::make_index_sequence<kWords>{});
    if (seq_.load(std::memory_order_relaxed) != s0) return false;
    // Word-sized copies straight into the caller's object: a wider (SIMD) copy of data
    // just stored as words would defeat store-to-load forwarding (measured: 8 ns -> 1 ns).
    auto* dst = reinterpret_cast<unsigned char*>(&out);
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      ((std::memcpy(dst + I * 8, &buf[I], I + 1 < kWords ? 8 : sizeof(T) - I * 8)), ...);
    }(std::make_index_sequence<kWords>{});
    return true;
  }

  /// Any thread. One attempt, as a value.
  [[nodiscard]] std::optional<T> try_load() const noexcept
    requires std::is_default_constructible_v<T>
  {
    T out;  // NOLINT(cppcoreguidelines-pro-type-member-init): try_load writes every byte or we return none
    if (!try_load(out)) return std::nullopt;
    return out;
  }

  /// Any thread. Retries until a consistent copy is in `out`.
  void load(T& out) const noexcept {
    while (!try_load(out)) cpu_relax();
  }
  /// Any thread. Retries until a consistent copy is read.
  [[nodiscard]] T load() const noexcept
    requires std::is_default_constructible_v<T>
  {
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-member-init): load() writes every byte
    T out;  // returned by NRVO: the words land directly in the caller's object
    load(out);
    return out;
  }

  /// Any thread. Even numbers count completed writes times two (odd: one in progress).
  [[nodiscard]] std::uint64_t version() const noexcept {
    return seq_.load(std::memory_order_acquire);
  }  // pairs with store()

 private:
  void write_words(const T& v) noexcept {
    std::array<std::uint64_t, kWords> buf{};
    std::memcpy(buf.data(), &v, sizeof(T));
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      // Each release store pairs with try_load()'s acquire load of that word.
      ((words_[I].store(buf[I], std::memory_order_release)), ...);
    }(std::make_index_sequence<kWords>{});
  }

  alignas(cache_line_size) std::atomic<std::uint64_t> seq_{0};
  std::array<std::atomic<std::uint64_t>, kWords> words_{};
};

}  // namespace hft
