// hft/memory/memory_arena.hpp: MemoryArena, a bump allocator over one fixed region.
//
// What: a region reserved once (heap, or mmap with an optional huge-page request and
//   optional pre-faulting); allocate() moves a pointer forward, with any power-of-two
//   alignment and no per-allocation header. Memory comes back all at once: reset(), or
//   rewind(marker) to a point taken with mark() (stack-style unwinding of per-request
//   scratch).
// When to use: per-message or per-session scratch whose lifetime ends together (parse a
//   request, build a reply, reset). When not: objects freed individually in arbitrary
//   order (ReusePool), or memory that must outlive a reset.
// Destructors: the arena never runs them. make<T>() is for trivially destructible types
//   or for objects the caller destroys itself before rewinding.
// Thread-safety: not synchronised; one thread at a time (an arena per thread).
// Lifecycle: movable, not copyable; a moved-from arena is empty (capacity 0) and every
//   allocation from it fails cleanly. A size of 0 from try_allocate returns a valid
//   pointer into the region (or nullptr when none is left).
// Progress: allocate/try_allocate/mark/rewind/reset are wait-free O(1) (a few
//   instructions; no system call after construction unless pre-faulting is off and a
//   page is touched for the first time).
// Memory ordering: none; an arena is not shared (hand one over by joining or a queue).
// Complexity: O(1) per allocation, rewind and reset; construction O(capacity) only when
//   pre-faulting.
// Errors: try_allocate returns nullptr when the region is exhausted; allocate throws
//   std::bad_alloc. A non-power-of-two alignment, or rewinding to a marker ahead of the
//   current position, is a precondition violation (HFT_ASSERT in debug; try_allocate
//   also returns nullptr for a bad alignment in release).
// Huge pages: MemoryArenaConfig::huge_pages tries MAP_HUGETLB (needs reserved huge pages),
//   then falls back to a normal mapping advised MADV_HUGEPAGE (transparent huge pages),
//   then to plain pages; huge_pages_state() reports what was obtained. Never fails
//   because huge pages are unavailable.
// Compared with: std::pmr::monotonic_buffer_resource (grows by allocating further buffers and
//   cannot rewind to a marker); Boost/foonathan arenas. resource() adapts this arena to
//   std::pmr::memory_resource (deallocate is a no-op, as for monotonic_buffer_resource).
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory_resource>
#include <new>
#include <stdexcept>
#include <utility>

#include "hft/core/assert.hpp"
#include "hft/core/bits.hpp"

namespace hft {

/// How a MemoryArena gets its memory: operator new or mmap, huge pages, pre-faulting.
struct MemoryArenaConfig {
  bool use_mmap = false;    ///< map the region instead of operator new
  bool huge_pages = false;  ///< implies use_mmap: MAP_HUGETLB, else MADV_HUGEPAGE
  bool prefault = false;    ///< touch every page now so the hot path never page-faults
};

/// What a MemoryArena got: NotRequested, Explicit (MAP_HUGETLB), Transparent (MADV_HUGEPAGE
/// accepted) or Unavailable (small pages).
enum class HugePages { NotRequested, Explicit, Transparent, Unavailable };

/// A bump allocator over one fixed region: O(1) allocation, no per-object free, rewind to a
/// mark or reset. One thread.
class MemoryArena {
 public:
  /// Reserves `capacity` bytes. Throws std::invalid_argument for 0, std::bad_alloc when
  /// the memory cannot be had.
  explicit MemoryArena(std::size_t capacity, const MemoryArenaConfig& cfg = {}) : capacity_(capacity) {
    if (capacity == 0) throw std::invalid_argument("hft::MemoryArena: capacity must be > 0");
    if (cfg.use_mmap || cfg.huge_pages) {
      map_region(cfg);
    } else {
      base_ = static_cast<std::byte*>(::operator new(capacity, std::align_val_t{64}));
    }
    if (cfg.prefault) {
      const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
      for (std::size_t off = 0; off < capacity_; off += page) base_[off] = std::byte{0};
    }
  }

  MemoryArena(const MemoryArena&) = delete;
  MemoryArena& operator=(const MemoryArena&) = delete;
  /// The moved-from arena is empty and usable: capacity 0, every allocation fails
  /// (try_allocate returns nullptr, allocate throws std::bad_alloc).
  MemoryArena(MemoryArena&& o) noexcept
      : base_(std::exchange(o.base_, nullptr)), capacity_(std::exchange(o.capacity_, 0)),
        used_(std::exchange(o.used_, 0)), mapped_(std::exchange(o.mapped_, false)),
        map_len_(std::exchange(o.map_len_, 0)), huge_(std::exchange(o.huge_, HugePages::NotRequested)) {}
  // cppcheck-suppress operatorEqVarError ; it takes the member template make<T> for a variable
  /// Releases this arena's region and takes `o`'s; `o` is left empty and usable (capacity 0).
  MemoryArena& operator=(MemoryArena&& o) noexcept {
    if (this != &o) {
      release();
      base_ = std::exchange(o.base_, nullptr);
      capacity_ = std::exchange(o.capacity_, 0);
      used_ = std::exchange(o.used_, 0);
      mapped_ = std::exchange(o.mapped_, false);
      map_len_ = std::exchange(o.map_len_, 0);
      huge_ = std::exchange(o.huge_, HugePages::NotRequested);
    }
    return *this;
  }
  ~MemoryArena() { release(); }

  /// `size` bytes aligned to `align` (a power of two), or nullptr when they do not fit.
  [[nodiscard]] void* try_allocate(std::size_t size, std::size_t align = alignof(std::max_align_t)) noexcept {
    HFT_ASSERT(is_power_of_two(align), "MemoryArena: alignment must be a power of two");
    if (!is_power_of_two(align)) return nullptr;
    if (base_ == nullptr) return nullptr;  // moved from
    const auto base = reinterpret_cast<std::uintptr_t>(base_);
    const std::uintptr_t p = (base + used_ + (align - 1)) & ~(static_cast<std::uintptr_t>(align) - 1);
    const std::size_t offset = static_cast<std::size_t>(p - base);
    if (offset > capacity_ || size > capacity_ - offset) return nullptr;
    used_ = offset + size;
    return base_ + offset;
  }

  /// As try_allocate, but throws std::bad_alloc when exhausted.
  [[nodiscard]] void* allocate(std::size_t size, std::size_t align = alignof(std::max_align_t)) {
    void* p = try_allocate(size, align);
    if (p == nullptr) throw std::bad_alloc();
    return p;
  }

  /// Constructs a T in the arena (std::bad_alloc when exhausted). Its destructor is never
  /// run by the arena.
  template <class T, class... A>
  [[nodiscard]] T* make(A&&... args) {
    return ::new (allocate(sizeof(T), alignof(T))) T(std::forward<A>(args)...);
  }

  /// A position in the arena, from mark(), to rewind() to.
  struct Marker {
    std::size_t offset;  ///< bytes in use when the mark was taken
  };
  /// The current position, for a later rewind().
  [[nodiscard]] Marker mark() const noexcept { return {used_}; }
  /// Frees everything allocated since `m` was taken. Precondition: m is not ahead of the
  /// current position (no rewinding "forward").
  void rewind(Marker m) noexcept {
    HFT_ASSERT(m.offset <= used_, "MemoryArena::rewind: marker is ahead of the current position");
    if (m.offset <= used_) used_ = m.offset;
  }
  /// Frees everything: the whole capacity is available again (no destructor runs).
  void reset() noexcept { used_ = 0; }

  /// True when `p` points into the arena's region.
  [[nodiscard]] bool owns(const void* p) const noexcept {
    const auto a = reinterpret_cast<std::uintptr_t>(p);
    const auto b = reinterpret_cast<std::uintptr_t>(base_);
    return a >= b && a < b + capacity_;
  }
  /// Bytes in use, alignment padding included.
  [[nodiscard]] std::size_t used() const noexcept { return used_; }
  /// Bytes after the current position (an aligned request may fit fewer).
  [[nodiscard]] std::size_t remaining() const noexcept { return capacity_ - used_; }
  /// The region's size in bytes.
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  /// Whether the region got huge pages.
  [[nodiscard]] HugePages huge_pages_state() const noexcept { return huge_; }

  /// std::pmr adapter: allocations come from the arena; deallocate does nothing.
  class Resource final : public std::pmr::memory_resource {
   public:
    /// A memory_resource over `a`, which must outlive it.
    explicit Resource(MemoryArena& a) noexcept : arena_(&a) {}

   private:
    void* do_allocate(std::size_t bytes, std::size_t align) override { return arena_->allocate(bytes, align); }
    void do_deallocate(void*, std::size_t, std::size_t) override {}
    [[nodiscard]] bool do_is_equal(const std::pmr::memory_resource& o) const noexcept override { return this == &o; }
    MemoryArena* arena_;
  };

 private:
  void map_region(const MemoryArenaConfig& cfg) {
    mapped_ = true;
    huge_ = cfg.huge_pages ? HugePages::Unavailable : HugePages::NotRequested;
    void* p = MAP_FAILED;
#if defined(MAP_HUGETLB)
    if (cfg.huge_pages) {
      const std::size_t huge = 2u << 20;
      const std::size_t rounded = (capacity_ + huge - 1) / huge * huge;
      p = ::mmap(nullptr, rounded, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
      if (p != MAP_FAILED) {
        map_len_ = rounded;
        huge_ = HugePages::Explicit;
      }
    }
#endif
    if (p == MAP_FAILED) {
      p = ::mmap(nullptr, capacity_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) throw std::bad_alloc();
      map_len_ = capacity_;
#if defined(MADV_HUGEPAGE)
      if (cfg.huge_pages && ::madvise(p, capacity_, MADV_HUGEPAGE) == 0) huge_ = HugePages::Transparent;
#endif
    }
    base_ = static_cast<std::byte*>(p);
  }
  void release() noexcept {
    if (base_ == nullptr) return;
    if (mapped_) {
      ::munmap(base_, map_len_);
    } else {
      ::operator delete(base_, std::align_val_t{64});
    }
    base_ = nullptr;
  }

  std::byte* base_ = nullptr;
  std::size_t capacity_ = 0;
  std::size_t used_ = 0;
  bool mapped_ = false;
  std::size_t map_len_ = 0;
  HugePages huge_ = HugePages::NotRequested;
};

}  // namespace hft
