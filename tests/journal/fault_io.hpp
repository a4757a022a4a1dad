// SimIo: a JournalIo for tests that (1) fails the n-th system call with a chosen errno, and
// (2) keeps, beside the real files, what a power loss would leave of them: the content each
// successful sync made durable, file by file and page by page, and the directory as its last
// fsync left it plus every change since. At any moment (a "crash point": the hook runs
// before each call) it can write out the file states a power loss could leave, for the test
// to reopen.
//
// The model, after LevelDB's and RocksDB's fault-injection file systems (which drop unsynced
// data) and ALICE/CrashMonkey (which enumerate what a crash can persist):
//   - a page (4 KiB) that a successful msync covered, or a whole file that fdatasync/fsync
//     covered, is durable with the content it had at that sync;
//   - every other page holds either its last durable content or its current content, chosen
//     independently (the kernel writes dirty pages back in any order), or a torn mix of the
//     two at 512-byte sector granularity;
//   - a file's size is durable after fdatasync/fsync/msync; before, it is either size;
//   - directory entries are durable after an fsync of the directory; the changes since are
//     kept as a prefix (ext4's journal commits metadata in order).
// What it does not model: the kernel dropping a page whose writeback failed (an injected
// failure leaves the page as unsynced as it was, which is what the journal must assume).
#pragma once

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "hft/journal/journal_io.hpp"

namespace hft::test {

class SimIo : public JournalIo {
 public:
  static constexpr std::size_t kPage = 4096;
  static constexpr std::size_t kSector = 512;

  /// `dir`: the journal directory whose files are modelled (absolute, no trailing slash).
  explicit SimIo(std::string dir) : dir_(std::move(dir)) {}
  ~SimIo() override {
    for (auto& [key, f] : files_)
      if (f.dupfd >= 0) ::close(f.dupfd);
  }

  // ---- fault injection -------------------------------------------------------------------
  /// Fails call number `n` (1-based, counting every call through this object) with `err`,
  /// once. 0: no fault. `only`: count only calls of these names (empty: all).
  void fail_at(std::uint64_t n, int err, std::set<std::string> only = {}) { set_fault(n, err, std::move(only), false); }
  /// Fails every call from number `n` on (a disk that stays full), until fail_at(0, 0).
  void fail_from(std::uint64_t n, int err, std::set<std::string> only = {}) {
    set_fault(n, err, std::move(only), true);
  }
  void set_fault(std::uint64_t n, int err, std::set<std::string> only, bool persistent) {
    std::lock_guard lk(mu_);
    persistent_ = persistent;
    fail_at_ = n;
    fail_errno_ = err;
    only_ = std::move(only);
    counted_ = 0;
    failed_call_.clear();
  }
  [[nodiscard]] std::uint64_t calls() const {
    std::lock_guard lk(mu_);
    return counted_;
  }
  /// The name of the call that was failed ("" if none yet).
  [[nodiscard]] std::string failed_call() const {
    std::lock_guard lk(mu_);
    return failed_call_;
  }
  /// Runs before each call, with the call's name, under this object's lock (so the files
  /// do not change under it). Typically: enumerate crash states.
  std::function<void(const char* call)> on_call;

  // ---- the power-loss model --------------------------------------------------------------
  /// One file of a crash state: its name and bytes.
  struct FileState {
    std::string name;
    std::vector<std::byte> bytes;
  };
  using DirState = std::vector<FileState>;

  /// Calls `visit(state, description)` for crash states a power loss at this moment could
  /// leave: each directory prefix since the last directory fsync, each file size choice, and
  /// either every subset of the dirty pages (when there are at most `max_exhaustive`) or
  /// `samples` random ones from `rng`, plus torn variants of each dirty page. Call from
  /// on_call (the lock is held) or when no journal is running.
  void enumerate(const std::function<void(const DirState&, const std::string&)>& visit, std::mt19937_64& rng,
                 std::size_t max_exhaustive = 8, std::size_t samples = 64) {
    std::vector<Dir> dirs = history_;
    dirs.insert(dirs.begin(), durable_dir_);
    dirs.push_back(live_dir());
    std::map<Key, std::vector<std::byte>> now;  // every file's current bytes, read once
    for (const Dir& d : dirs)
      for (const auto& [name, key] : d)
        if (auto [it, fresh] = now.try_emplace(key); fresh) it->second = current(files_.at(key));
    std::set<Dir> seen;
    for (const Dir& d : dirs) {
      if (!seen.insert(d).second) continue;
      // The dirty pages of the files in this directory state, and the files whose size is not
      // durable yet (at most 4 of them get both size choices).
      std::vector<std::pair<Key, std::size_t>> dirty;
      std::vector<Key> grown;
      for (const auto& [name, key] : d) {
        const File& f = files_.at(key);
        const auto& cur = now.at(key);
        if (cur.size() != f.durable.size() && grown.size() < 4) grown.push_back(key);
        for (std::size_t p = 0; p * kPage < cur.size(); ++p)
          if (page_of(cur, p) != page_of(f.durable, p)) dirty.emplace_back(key, p);
      }
      for (std::size_t sizes = 0; sizes < (std::size_t{1} << grown.size()); ++sizes) {
        // choose(i) for dirty page i: 0 durable, 1 current, 2 torn (first half of its sectors
        // current), 3 torn (second half current).
        auto build = [&](const std::function<int(std::size_t)>& choose) {
          DirState st;
          for (const auto& [name, key] : d) {
            const File& f = files_.at(key);
            const auto& cur = now.at(key);
            const auto gi = static_cast<std::size_t>(std::find(grown.begin(), grown.end(), key) - grown.begin());
            const bool durable_size = gi < grown.size() && ((sizes >> gi) & 1) != 0;
            const std::size_t size = durable_size ? f.durable.size() : cur.size();
            std::vector<std::byte> out(size);
            for (std::size_t p = 0; p * kPage < size; ++p) {
              const std::size_t at = p * kPage;
              const std::size_t n = std::min(kPage, size - at);
              const auto dur = page_of(f.durable, p);
              const auto cnt = page_of(cur, p);
              int c = 0;
              for (std::size_t i = 0; i < dirty.size(); ++i)
                if (dirty[i].first == key && dirty[i].second == p) c = choose(i);
              for (std::size_t b = 0; b < n; ++b) {
                const std::size_t sector = b / kSector;
                const std::size_t half = kPage / kSector / 2;
                const bool take_now = c == 1 || (c == 2 && sector < half) || (c == 3 && sector >= half);
                out[at + b] = take_now ? cnt[b] : dur[b];
              }
            }
            st.push_back({name, std::move(out)});
          }
          return st;
        };
        const std::string base = "dir state " + std::to_string(&d - dirs.data()) + "/" + std::to_string(dirs.size()) +
                                 ", size choice " + std::to_string(sizes) + ", " + std::to_string(dirty.size()) +
                                 " dirty pages: ";
        if (dirty.size() <= max_exhaustive) {
          for (std::uint64_t mask = 0; mask < (std::uint64_t{1} << dirty.size()); ++mask)
            visit(build([&](std::size_t i) { return static_cast<int>((mask >> i) & 1); }),
                  base + "pages kept mask " + std::to_string(mask));
        } else {
          visit(build([](std::size_t) { return 0; }), base + "all lost");
          visit(build([](std::size_t) { return 1; }), base + "all kept");
          for (std::size_t s = 0; s < samples; ++s) {
            const std::uint64_t bits = rng();
            const std::uint64_t salt = rng();
            visit(build([&](std::size_t i) { return static_cast<int>(((bits ^ (salt * (i / 64))) >> (i % 64)) & 1); }),
                  base + "random subset " + std::to_string(bits) + "/" + std::to_string(salt));
          }
        }
        for (std::size_t t = 0; t < dirty.size(); ++t)
          for (int how : {2, 3}) {
            visit(build([&](std::size_t i) { return i == t ? how : 1; }),
                  base + "page " + std::to_string(t) + " torn (" + std::to_string(how) + "), others kept");
            visit(build([&](std::size_t i) { return i == t ? how : 0; }),
                  base + "page " + std::to_string(t) + " torn (" + std::to_string(how) + "), others lost");
          }
      }
    }
  }

  /// The one state where everything not synced is lost (the durable directory, durable sizes).
  [[nodiscard]] DirState durable_only() {
    std::lock_guard lk(mu_);
    DirState st;
    for (const auto& [name, key] : durable_dir_) st.push_back({name, files_.at(key).durable});
    return st;
  }

  /// Writes `st` into the empty directory `to`.
  static void write_state(const DirState& st, const std::string& to) {
    for (const auto& f : st) {
      const std::string p = to + "/" + f.name;
      const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd < 0) throw std::runtime_error("SimIo: cannot create " + p);
      std::size_t done = 0;
      while (done < f.bytes.size()) {
        const ssize_t w = ::write(fd, f.bytes.data() + done, f.bytes.size() - done);
        if (w <= 0) break;
        done += static_cast<std::size_t>(w);
      }
      ::close(fd);
    }
  }

  // ---- JournalIo --------------------------------------------------------------------------
  int open(const char* path, int flags, mode_t mode) noexcept override {
    std::lock_guard lk(mu_);
    if (const int e = enter("open"); e != 0) return fail(e);
    const int fd = ::open(path, flags, mode);
    if (fd < 0) return fd;
    struct stat st {};
    if (::fstat(fd, &st) == 0) {
      if (S_ISDIR(st.st_mode)) {
        dir_fds_[fd] = path;
      } else if (in_dir(path)) {
        const Key key{st.st_dev, st.st_ino};
        fds_[fd] = key;
        auto& f = files_[key];
        if (f.dupfd < 0) f.dupfd = ::dup(fd);
        if ((flags & O_CREAT) != 0) dir_changed();
      }
    }
    return fd;
  }
  int close(int fd) noexcept override {
    std::lock_guard lk(mu_);
    fds_.erase(fd);
    dir_fds_.erase(fd);
    if (const int e = enter("close"); e != 0) {
      (void)::close(fd);  // Linux closes it even when close reports an error
      return fail(e);
    }
    return ::close(fd);
  }
  int fstat(int fd, struct stat* st) noexcept override {
    std::lock_guard lk(mu_);
    if (const int e = enter("fstat"); e != 0) return fail(e);
    return ::fstat(fd, st);
  }
  int fallocate(int fd, off_t offset, off_t len) noexcept override {
    std::lock_guard lk(mu_);
    if (const int e = enter("fallocate"); e != 0) return e;
    return ::posix_fallocate(fd, offset, len);
  }
  int ftruncate(int fd, off_t len) noexcept override {
    std::lock_guard lk(mu_);
    if (const int e = enter("ftruncate"); e != 0) return fail(e);
    return ::ftruncate(fd, len);
  }
  void* mmap(void* addr, size_t len, int prot, int flags, int fd, off_t offset) noexcept override {
    std::lock_guard lk(mu_);
    if (const int e = enter("mmap"); e != 0) {
      errno = e;
      return MAP_FAILED;
    }
    void* p = ::mmap(addr, len, prot, flags, fd, offset);
    if (p != MAP_FAILED && fds_.count(fd) != 0) maps_.push_back({static_cast<std::byte*>(p), len, fds_.at(fd)});
    return p;
  }
  int munmap(void* addr, size_t len) noexcept override {
    std::lock_guard lk(mu_);
    maps_.erase(std::remove_if(maps_.begin(), maps_.end(), [&](const Map& m) { return m.base == addr; }), maps_.end());
    if (const int e = enter("munmap"); e != 0) {
      (void)::munmap(addr, len);  // keep the test process clean; the journal ignores this error
      return fail(e);
    }
    return ::munmap(addr, len);
  }
  int msync(void* addr, size_t len, int flags) noexcept override {
    std::lock_guard lk(mu_);
    if (const int e = enter("msync"); e != 0) return fail(e);
    const int rc = ::msync(addr, len, flags);
    if (rc == 0) {
      auto* a = static_cast<std::byte*>(addr);
      for (const Map& m : maps_)
        if (a >= m.base && a + len <= m.base + m.len) {
          File& f = files_.at(m.key);
          const auto cur = current(f);
          const std::size_t from = static_cast<std::size_t>(a - m.base);
          if (f.durable.size() < cur.size()) f.durable.resize(cur.size());
          std::copy(cur.begin() + static_cast<long>(from), cur.begin() + static_cast<long>(from + len),
                    f.durable.begin() + static_cast<long>(from));
        }
    }
    return rc;
  }
  int fdatasync(int fd) noexcept override {
    return sync_file("fdatasync", fd, [&] { return ::fdatasync(fd); });
  }
  int fsync(int fd) noexcept override {
    return sync_file("fsync", fd, [&] { return ::fsync(fd); });
  }
  int rename(const char* from, const char* to) noexcept override {
    std::lock_guard lk(mu_);
    if (const int e = enter("rename"); e != 0) return fail(e);
    const int rc = std::rename(from, to);
    if (rc == 0) dir_changed();
    return rc;
  }
  int unlink(const char* path) noexcept override {
    std::lock_guard lk(mu_);
    if (const int e = enter("unlink"); e != 0) return fail(e);
    const int rc = ::unlink(path);
    if (rc == 0) dir_changed();
    return rc;
  }
  int flock(int fd, int op) noexcept override {
    std::lock_guard lk(mu_);
    if (const int e = enter("flock"); e != 0) return fail(e);
    return ::flock(fd, op);
  }
  int madvise(void* addr, size_t len, int advice) noexcept override {
    std::lock_guard lk(mu_);
    if (const int e = enter("madvise"); e != 0) return fail(e);
    return ::madvise(addr, len, advice);
  }
  int access(const char* path, int mode) noexcept override {
    std::lock_guard lk(mu_);
    if (const int e = enter("access"); e != 0) return fail(e);
    return ::access(path, mode);
  }

 private:
  using Key = std::pair<dev_t, ino_t>;
  using Dir = std::map<std::string, Key>;  // name -> file
  struct File {
    int dupfd = -1;                  // a descriptor of our own, valid after the journal closes its
    std::vector<std::byte> durable;  // what a power loss keeps for sure; its size is the durable size
  };
  struct Map {
    std::byte* base;
    std::size_t len;
    Key key;
  };

  static int fail(int e) noexcept {
    errno = e;
    return -1;
  }

  // Counts the call, runs the crash-point hook, and returns the errno to fail it with (0: run it).
  int enter(const char* name) noexcept {
    if (on_call) on_call(name);
    if (!only_.empty() && only_.count(name) == 0) return 0;
    ++counted_;
    if (fail_at_ != 0 && (counted_ == fail_at_ || (persistent_ && counted_ > fail_at_))) {
      failed_call_ = name;
      return fail_errno_;
    }
    return 0;
  }

  template <class F>
  int sync_file(const char* name, int fd, F call) noexcept {
    std::lock_guard lk(mu_);
    if (const int e = enter(name); e != 0) return fail(e);
    const int rc = call();
    if (rc != 0) return rc;
    if (auto it = dir_fds_.find(fd); it != dir_fds_.end()) {
      if (it->second == dir_) {
        durable_dir_ = live_dir();
        history_.clear();
      }
    } else if (auto f = fds_.find(fd); f != fds_.end()) {
      File& file = files_.at(f->second);
      file.durable = current(file);
    }
    return 0;
  }

  [[nodiscard]] bool in_dir(const char* path) const {
    const std::string p(path);
    return p.size() > dir_.size() && p.compare(0, dir_.size(), dir_) == 0 && p[dir_.size()] == '/';
  }

  [[nodiscard]] static std::vector<std::byte> current(const File& f) {
    struct stat st {};
    if (::fstat(f.dupfd, &st) != 0) return {};
    std::vector<std::byte> out(static_cast<std::size_t>(st.st_size));
    std::size_t done = 0;
    while (done < out.size()) {
      const ssize_t r = ::pread(f.dupfd, out.data() + done, out.size() - done, static_cast<off_t>(done));
      if (r <= 0) break;
      done += static_cast<std::size_t>(r);
    }
    return out;
  }

  // Page p of `v`, zero-filled past its end.
  [[nodiscard]] static std::vector<std::byte> page_of(const std::vector<std::byte>& v, std::size_t p) {
    std::vector<std::byte> out(kPage);
    const std::size_t at = p * kPage;
    if (at < v.size())
      std::copy(v.begin() + static_cast<long>(at), v.begin() + static_cast<long>(std::min(v.size(), at + kPage)),
                out.begin());
    return out;
  }

  // The directory as it is now: the files it names that this object has seen opened.
  [[nodiscard]] Dir live_dir() const {
    Dir d;
    DIR* h = ::opendir(dir_.c_str());
    if (h == nullptr) return d;
    while (const dirent* e = ::readdir(h)) {
      const std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      struct stat st {};
      if (::stat((dir_ + "/" + name).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
      const Key key{st.st_dev, st.st_ino};
      if (files_.count(key) != 0) d[name] = key;
    }
    ::closedir(h);
    return d;
  }

  void dir_changed() { history_.push_back(live_dir()); }

  std::string dir_;
  mutable std::recursive_mutex mu_;
  std::uint64_t fail_at_ = 0;
  bool persistent_ = false;
  int fail_errno_ = EIO;
  std::set<std::string> only_;
  std::uint64_t counted_ = 0;
  std::string failed_call_;
  std::map<Key, File> files_;
  std::map<int, Key> fds_;
  std::map<int, std::string> dir_fds_;
  std::vector<Map> maps_;
  Dir durable_dir_;
  std::vector<Dir> history_;  // the directory after each change since durable_dir_
};

}  // namespace hft::test
