// hft/ipc/shared_region.hpp: SharedRegion, a named shared-memory region whose layout is
// checked field by field when another process opens it.
//
// What: a POSIX shared-memory object (shm_open, under /dev/shm) or a file in a directory
//   (tmpfs, or hugetlbfs for huge pages), mapped with mmap. The first 256 bytes are a header
//   the creator writes: magic, layout version, channel kind, element size, alignment and
//   type tag, capacity, the channel area's size, the mapping's size, and the creator's
//   ProcessIdentity. A channel (IpcSpscQueue, BroadcastRing, ...) lives in the area after
//   it. create() is exclusive (O_EXCL); open() validates every header field against the
//   layout the opener expects and refuses a mismatch with an error that names the field
//   and both values. The opener then uses only its own copy of the layout: it never reads a
//   size or offset from shared memory again.
// When to use: the memory under an inter-process channel of hft/ipc. When not: between
//   threads of one process (plain heap memory and the queue/ headers); persistence (a
//   region lives until unlinked or reboot: use hft/journal); machines apart.
// Thread-safety: a SharedRegion object is used by one thread at a time (create/open, then
//   hand it to a channel). The memory it maps is shared by design; what is safe there is
//   the channel's business.
// Progress: create() and open() make system calls (blocking); open() waits up to
//   SharedRegionConfig::open_timeout for a creator still initialising (polls every 1 ms).
//   channel() is wait-free.
// Memory ordering: the creator writes the header and initialises the channel area, then
//   mark_ready() stores the ready word with release; open() loads it with acquire (the
//   pair), so an opener that sees the region ready sees the header and the channel's
//   initial state.
// Complexity: O(size) at create (the kernel zero-fills pages as they are touched; huge
//   pages are reserved at mmap). Allocates the name at construction; nothing after.
// Compared with:
//   - boost::interprocess::managed_shared_memory: a segment manager with named objects
//     and an allocator; offsets via offset_ptr. We have one fixed layout per region and no
//     allocator, and the opener validates that layout instead of trusting it.
//   - iceoryx: its RouDi daemon creates and owns the shared memory and hands out chunks; we
//     need no daemon, and the creator owns the region.
//   - Aeron/agrona: a memory-mapped file with a metadata header and a CnC version check;
//     the closest design. We also check element size, alignment and a type tag.
// Security: the region is created 0600 by default (SharedRegionConfig::mode, applied with
//   fchmod, so the umask does not change it). Anyone who can open it can write it: a reader
//   must then not crash, and the channels bounds-check every index they read. A peer with
//   write access that truncates the object (ftruncate) can still make the readers' next
//   access fault (SIGBUS): shm objects cannot be sealed against shrinking. Grant access
//   only to processes you trust not to do that.
// Errors: std::system_error (with the call and the name) for a failed system call, EEXIST
//   from create() included; std::invalid_argument for a bad name or layout;
//   std::runtime_error "hft::SharedRegion: <name>: <field>: the region has X, expected Y"
//   for a mismatch at open, and for a region still not ready after open_timeout.
// Lifecycle: move-only. The destructor unmaps; the object stays until remove() (or reboot),
//   so a restarted process can open it again.
#pragma once

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>

#include "hft/ipc/process_identity.hpp"

namespace hft::ipc {

/// Which channel a region holds.
enum class ChannelKind : std::uint32_t { SpscQueue = 1, MpscQueue = 2, BroadcastRing = 3 };

[[nodiscard]] constexpr const char* to_string(ChannelKind k) noexcept {
  switch (k) {
    case ChannelKind::SpscQueue:
      return "SpscQueue";
    case ChannelKind::MpscQueue:
      return "MpscQueue";
    case ChannelKind::BroadcastRing:
      return "BroadcastRing";
  }
  return "unknown";
}

/// The tag a user gives an element type or message protocol, checked at open. A type of its
/// own (docs/style.md, rule 3): a tag and a capacity swapped at a call site do not compile.
struct TypeTag {
  std::uint64_t value = 0;  ///< the tag as the region header stores it; 0: none given
  /// Equal when the values are.
  friend constexpr bool operator==(TypeTag, TypeTag) noexcept = default;
};

/// FNV-1a 64 of a name: the type tag of an element type or protocol ("md::Quote/v2").
[[nodiscard]] constexpr TypeTag type_tag(std::string_view name) noexcept {
  std::uint64_t h = 14695981039346656037ull;
  for (const char c : name) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return TypeTag{h};
}

/// What a creator states and an opener expects. Every field is checked at open.
struct RegionLayout {
  ChannelKind kind = ChannelKind::SpscQueue;  ///< the channel the region holds
  std::uint32_t element_size = 0;   ///< sizeof(T); 0 for variable-length byte messages
  std::uint32_t element_align = 0;  ///< alignof(T); 0 for byte messages
  TypeTag type_tag{};               ///< the user's tag of the element type (hft::ipc::type_tag)
  std::uint64_t capacity = 0;       ///< elements (queues) or bytes (broadcast)
  std::uint64_t channel_bytes = 0;  ///< bytes the channel's area needs (the channel computes it)
};

/// Where a region lives and how it is made and opened.
struct SharedRegionConfig {
  /// Empty: a POSIX shared-memory object (shm_open; /dev/shm). Else the region is the file
  /// `directory/name`: a tmpfs, or a hugetlbfs mount with huge_pages.
  std::string directory{};
  /// Permissions of a created region (exactly: applied with fchmod, whatever the umask).
  ::mode_t mode = 0600;
  /// Map huge pages. Needs `directory` on a hugetlbfs mount (the size is rounded up to its
  /// page size); anything else is refused at create/open rather than silently ignored.
  bool huge_pages = false;
  /// How long open() waits for a creator that has not yet called mark_ready().
  std::chrono::milliseconds open_timeout{1000};
};

/// A named shared-memory region: a validated header, then a channel's area (see the header).
class SharedRegion {
 public:
  static constexpr std::size_t kHeaderBytes = 256;  ///< the header's size: the channel area starts here
  static constexpr std::uint32_t kLayoutVersion = 1;  ///< the header format; an opener refuses another
  static constexpr std::size_t kMaxElementAlign = kHeaderBytes;  ///< the largest element alignment accepted
  /// The largest channel area accepted (a guard against absurd sizes from a bad layout).
  static constexpr std::uint64_t kMaxChannelBytes = std::uint64_t{1} << 40;

  /// Creates `name` exclusively, sized for `layout`, header written, channel area zeroed
  /// and not yet ready: initialise the channel, then call mark_ready().
  [[nodiscard]] static SharedRegion create(std::string_view name, const RegionLayout& layout,
                                           const SharedRegionConfig& cfg = {}) {
    check_layout(name, layout);
    SharedRegion r(name, cfg, layout, true);
    const std::string path = r.path();
    const int fd = r.open_fd(path, O_RDWR | O_CREAT | O_EXCL);
    if (fd < 0) throw sys_error("create", name);
    Fd guard{fd, &r};
    if (::fchmod(fd, cfg.mode) != 0) throw sys_error("fchmod", name);
    r.size_ = r.mapping_size(fd, layout.channel_bytes);
    if (::ftruncate(fd, static_cast<::off_t>(r.size_)) != 0) throw sys_error("ftruncate", name);
    r.map(fd);
    guard.unlink_on_failure = false;
    Header& h = r.header();
    std::memcpy(h.magic, kMagic, sizeof kMagic);
    h.layout_version = kLayoutVersion;
    h.kind = static_cast<std::uint32_t>(layout.kind);
    h.element_size = layout.element_size;
    h.element_align = layout.element_align;
    h.type_tag = layout.type_tag.value;
    h.capacity = layout.capacity;
    h.channel_offset = kHeaderBytes;
    h.channel_bytes = layout.channel_bytes;
    h.total_bytes = r.size_;
    h.creator = ProcessIdentity::self();
    r.creator_ = h.creator;
    return r;
  }

  /// Opens an existing `name` and checks every header field against `expected`; waits up
  /// to cfg.open_timeout for its creator's mark_ready().
  [[nodiscard]] static SharedRegion open(std::string_view name, const RegionLayout& expected,
                                         const SharedRegionConfig& cfg = {}) {
    check_layout(name, expected);
    SharedRegion r(name, cfg, expected, false);
    const int fd = r.open_fd(r.path(), O_RDWR);
    if (fd < 0) throw sys_error("open", name);
    Fd guard{fd, nullptr};
    const auto deadline = std::chrono::steady_clock::now() + cfg.open_timeout;
    struct stat st {};
    // A creator between shm_open(O_EXCL) and ftruncate: the object is still empty.
    for (;;) {
      if (::fstat(fd, &st) != 0) throw sys_error("fstat", name);
      if (st.st_size != 0 || std::chrono::steady_clock::now() >= deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    const std::uint64_t want = r.mapping_size(fd, expected.channel_bytes);
    const auto have = static_cast<std::uint64_t>(st.st_size);
    // Only what the object holds is mapped (a read past its end would fault), and no more
    // than expected. A size that differs is reported after the header's fields, which say why.
    if (have < kHeaderBytes) mismatch(name, "total_bytes (the object's size)", have, want);
    r.size_ = std::min(have, want);
    r.map(fd);
    const Header& h = r.header();
    // Acquire: pairs with mark_ready()'s release; the header and the channel's initial
    // state are then visible.
    while (std::atomic_ref<const std::uint32_t>(h.ready).load(std::memory_order_acquire) != kReady) {
      if (std::chrono::steady_clock::now() >= deadline)
        throw std::runtime_error("hft::SharedRegion: " + std::string(name) +
                                 ": ready: not marked ready within open_timeout (is its creator alive?)");
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (std::memcmp(h.magic, kMagic, sizeof kMagic) != 0)
      throw std::runtime_error("hft::SharedRegion: " + std::string(name) + ": magic: not an hft::ipc region");
    check(name, "layout_version", h.layout_version, kLayoutVersion);
    if (h.kind != static_cast<std::uint32_t>(expected.kind))
      throw std::runtime_error("hft::SharedRegion: " + std::string(name) + ": kind: the region has " +
                               kind_text(h.kind) + ", expected " + to_string(expected.kind));
    check(name, "element_size", h.element_size, expected.element_size);
    check(name, "element_align", h.element_align, expected.element_align);
    check(name, "type_tag", h.type_tag, expected.type_tag.value);
    check(name, "capacity", h.capacity, expected.capacity);
    check(name, "channel_offset", h.channel_offset, kHeaderBytes);
    check(name, "channel_bytes", h.channel_bytes, expected.channel_bytes);
    check(name, "total_bytes", h.total_bytes, want);
    if (have != want) mismatch(name, "total_bytes (the object's size)", have, want);
    r.creator_ = h.creator;
    return r;
  }

  /// Unlinks `name` (the memory lives on while mapped). False when it did not exist or
  /// could not be removed.
  static bool remove(std::string_view name, const SharedRegionConfig& cfg = {}) noexcept {
    try {
      SharedRegion r(name, cfg, RegionLayout{}, false);
      const std::string p = r.path();
      return cfg.directory.empty() ? ::shm_unlink(p.c_str()) == 0 : ::unlink(p.c_str()) == 0;
    } catch (...) {
      return false;
    }
  }

  /// Takes the mapping over; `o` maps nothing afterwards.
  SharedRegion(SharedRegion&& o) noexcept
      : name_(std::move(o.name_)),
        cfg_(std::move(o.cfg_)),
        layout_(o.layout_),
        base_(std::exchange(o.base_, nullptr)),
        size_(std::exchange(o.size_, 0)),
        created_(o.created_),
        creator_(o.creator_) {}
  /// Unmaps this region's mapping, then takes `o`'s over.
  SharedRegion& operator=(SharedRegion&& o) noexcept {
    if (this != &o) {
      unmap();
      name_ = std::move(o.name_);
      cfg_ = std::move(o.cfg_);
      layout_ = o.layout_;
      base_ = std::exchange(o.base_, nullptr);
      size_ = std::exchange(o.size_, 0);
      created_ = o.created_;
      creator_ = o.creator_;
    }
    return *this;
  }
  SharedRegion(const SharedRegion&) = delete;
  SharedRegion& operator=(const SharedRegion&) = delete;
  ~SharedRegion() { unmap(); }

  /// The creator, after initialising the channel area: openers may now use it (release;
  /// pairs with open()'s acquire). Idempotent.
  void mark_ready() noexcept {
    std::atomic_ref<std::uint32_t>(header().ready).store(kReady, std::memory_order_release);
  }

  /// The channel's area: channel_bytes() bytes, aligned to 256, zero-filled at create.
  [[nodiscard]] std::byte* channel() const noexcept { return static_cast<std::byte*>(base_) + kHeaderBytes; }
  /// The channel area's size, from this process's layout.
  [[nodiscard]] std::size_t channel_bytes() const noexcept { return layout_.channel_bytes; }
  /// The layout this process created or expected (its own copy, never re-read).
  [[nodiscard]] const RegionLayout& layout() const noexcept { return layout_; }
  /// The creator as its header named it (at create or open).
  [[nodiscard]] ProcessIdentity creator() const noexcept { return creator_; }
  /// True for the object create() returned.
  [[nodiscard]] bool created() const noexcept { return created_; }
  /// The name it was created or opened with.
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  /// The mapping's size (header + channel area, rounded up to the page size).
  [[nodiscard]] std::size_t mapped_bytes() const noexcept { return size_; }

 private:
  struct Header {  // never constructed: the mapped bytes are read and written in place
    char magic[8] = {};
    std::uint32_t layout_version = 0;
    std::uint32_t kind = 0;
    std::uint32_t element_size = 0;
    std::uint32_t element_align = 0;
    std::uint64_t type_tag = 0;
    std::uint64_t capacity = 0;
    std::uint64_t channel_offset = 0;
    std::uint64_t channel_bytes = 0;
    std::uint64_t total_bytes = 0;
    ProcessIdentity creator;
    alignas(64) std::uint32_t ready = 0;  // kReady once the channel is initialised (atomic_ref)
  };
  static_assert(sizeof(Header) <= kHeaderBytes, "the header must fit before the channel area");
  static_assert(std::atomic_ref<std::uint32_t>::is_always_lock_free, "a shared word must be lock-free");
  static constexpr char kMagic[8] = {'H', 'F', 'T', 'I', 'P', 'C', '0', '1'};
  static constexpr std::uint32_t kReady = 0x52454459;  // "REDY": not a value zero-filled memory has
  static constexpr long kHugetlbfsMagic = 0x958458f6;

  struct Fd {  // closes on every path; a failed create() unlinks what it made
    int fd;
    SharedRegion* creating;
    bool unlink_on_failure = true;
    Fd(int f, SharedRegion* c) noexcept : fd(f), creating(c) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() {
      ::close(fd);
      if (creating != nullptr && unlink_on_failure) {
        const std::string p = creating->path();
        if (creating->cfg_.directory.empty())
          ::shm_unlink(p.c_str());
        else
          ::unlink(p.c_str());
      }
    }
  };

  SharedRegion(std::string_view name, SharedRegionConfig cfg, const RegionLayout& layout, bool created)
      : name_(name), cfg_(std::move(cfg)), layout_(layout), created_(created) {
    if (name.empty() || name.size() > 200 || name.find('/') != std::string_view::npos || name == "." || name == "..")
      throw std::invalid_argument("hft::SharedRegion: name: must be 1-200 characters without '/', got '" +
                                  std::string(name) + "'");
    if (cfg_.huge_pages && cfg_.directory.empty())
      throw std::invalid_argument("hft::SharedRegion: huge_pages: needs directory on a hugetlbfs mount (" +
                                  std::string(name) + ")");
  }

  static void check_layout(std::string_view name, const RegionLayout& l) {
    const std::string n(name);
    if (l.channel_bytes == 0 || l.channel_bytes > kMaxChannelBytes)
      throw std::invalid_argument("hft::SharedRegion: " + n + ": channel_bytes: must be 1 .. 2^40, got " +
                                  std::to_string(l.channel_bytes));
    if (l.element_align > kMaxElementAlign || (l.element_align & (l.element_align - 1)) != 0)
      throw std::invalid_argument("hft::SharedRegion: " + n + ": element_align: must be a power of two <= 256, got " +
                                  std::to_string(l.element_align));
  }

  [[nodiscard]] std::string path() const {
    if (cfg_.directory.empty()) return "/" + name_;
    return cfg_.directory + "/" + name_;
  }

  int open_fd(const std::string& p, int flags) const {
    if (cfg_.directory.empty()) return ::shm_open(p.c_str(), flags | O_CLOEXEC, cfg_.mode);
    return ::open(p.c_str(), flags | O_CLOEXEC, cfg_.mode);
  }

  // Header + channel area, rounded up to the page (or huge page) size.
  std::uint64_t mapping_size(int fd, std::uint64_t channel_bytes) const {
    std::uint64_t page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    if (cfg_.huge_pages) {
      struct statfs fs {};
      if (::fstatfs(fd, &fs) != 0) throw sys_error("fstatfs", name_);
      if (static_cast<long>(fs.f_type) != kHugetlbfsMagic)
        throw std::invalid_argument("hft::SharedRegion: " + name_ + ": huge_pages: " + cfg_.directory +
                                    " is not a hugetlbfs mount");
      page = static_cast<std::uint64_t>(fs.f_bsize);
    }
    const std::uint64_t total = kHeaderBytes + channel_bytes;
    return (total + page - 1) / page * page;
  }

  void map(int fd) {
    // hugetlbfs maps huge pages by itself; MAP_HUGETLB is for anonymous memory.
    void* p = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) throw sys_error("mmap", name_);
    base_ = p;
  }

  void unmap() noexcept {
    if (base_ != nullptr) ::munmap(base_, size_);
    base_ = nullptr;
  }

  [[nodiscard]] Header& header() const noexcept { return *static_cast<Header*>(base_); }

  static std::system_error sys_error(const char* call, std::string_view name) {
    return {errno, std::generic_category(), "hft::SharedRegion: " + std::string(name) + ": " + call};
  }
  template <class V>
  static void check(std::string_view name, const char* field, V have, V want) {
    if (have != want) mismatch(name, field, static_cast<std::uint64_t>(have), static_cast<std::uint64_t>(want));
  }
  [[noreturn]] static void mismatch(std::string_view name, const char* field, std::uint64_t have, std::uint64_t want) {
    std::string m = "hft::SharedRegion: ";
    m += name;
    m += ": ";
    m += field;
    m += ": the region has ";
    m += std::to_string(have);
    m += ", expected ";
    m += std::to_string(want);
    throw std::runtime_error(m);
  }
  static std::string kind_text(std::uint32_t k) {
    if (k >= 1 && k <= 3) return to_string(static_cast<ChannelKind>(k));
    return std::to_string(k);
  }

  std::string name_;
  SharedRegionConfig cfg_;
  RegionLayout layout_;
  void* base_ = nullptr;
  std::size_t size_ = 0;
  bool created_ = false;
  ProcessIdentity creator_;
};

}  // namespace hft::ipc
