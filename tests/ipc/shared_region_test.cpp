// hft/ipc/shared_region.hpp: create is exclusive, open checks every header field and names
// the one that differs, waits for the creator's mark_ready, sizes are checked before
// mapping, permissions are exact, bad names and layouts are refused, huge pages are refused
// where they cannot be had, and two mappings (two processes) share the memory.
#include "hft/ipc/shared_region.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <type_traits>

#include "../journal/journal_support.hpp"
#include "../support/catch.hpp"
#include "ipc_test_support.hpp"

using hft::ipc::ChannelKind;
using hft::ipc::RegionLayout;
using hft::ipc::SharedRegion;
using hft::ipc::SharedRegionConfig;
using hft::test::ShmName;
using namespace std::chrono_literals;

namespace {

RegionLayout layout() {
  return {.kind = ChannelKind::SpscQueue,
          .element_size = 16,
          .element_align = 8,
          .type_tag = hft::ipc::type_tag("test::Quote/v1"),
          .capacity = 64,
          .channel_bytes = 64 * 16 + 256};
}

// The message of what `f` throws (empty when it throws nothing).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return {};
}

mode_t shm_mode(const std::string& name) {
  struct stat st {};
  REQUIRE(::stat(("/dev/shm/" + name).c_str(), &st) == 0);
  return st.st_mode & 0777;
}

}  // namespace

TEST_CASE("shared region: create then open sees the header, the creator and a zeroed area", "[ipc][region]") {
  ShmName name("region");
  SharedRegion a = SharedRegion::create(name, layout());
  CHECK(a.created());
  CHECK(a.creator() == hft::ipc::ProcessIdentity::self());
  CHECK(a.channel_bytes() == layout().channel_bytes);
  CHECK(a.mapped_bytes() % static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)) == 0);
  CHECK(reinterpret_cast<std::uintptr_t>(a.channel()) % 256 == 0);
  for (std::size_t i = 0; i < a.channel_bytes(); ++i) REQUIRE(a.channel()[i] == std::byte{0});
  a.channel()[7] = std::byte{42};
  a.mark_ready();
  SharedRegion b = SharedRegion::open(name, layout());
  CHECK_FALSE(b.created());
  CHECK(b.creator() == a.creator());
  CHECK(b.channel()[7] == std::byte{42});  // one memory, two mappings
  b.channel()[8] = std::byte{7};
  CHECK(a.channel()[8] == std::byte{7});
}

TEST_CASE("shared region: create is exclusive and a refused create removes nothing", "[ipc][region]") {
  ShmName name("excl");
  SharedRegion a = SharedRegion::create(name, layout());
  a.mark_ready();
  try {
    (void)SharedRegion::create(name, layout());
    FAIL("a second create succeeded");
  } catch (const std::system_error& e) {
    CHECK(e.code().value() == EEXIST);
    CHECK(std::string(e.what()).find(name.str()) != std::string::npos);
  }
  CHECK_NOTHROW(SharedRegion::open(name, layout()));
}

TEST_CASE("shared region: opening a region that does not exist is ENOENT", "[ipc][region]") {
  ShmName name("missing");
  try {
    (void)SharedRegion::open(name, layout());
    FAIL("opened a missing region");
  } catch (const std::system_error& e) {
    CHECK(e.code().value() == ENOENT);
  }
}

TEST_CASE("shared region: every header field is checked and a mismatch names it with both values", "[ipc][region]") {
  ShmName name("fields");
  SharedRegion a = SharedRegion::create(name, layout());
  a.mark_ready();
  auto refused = [&](RegionLayout l) {
    return error_of([&] { (void)SharedRegion::open(name, l, {.open_timeout = 0ms}); });
  };
  RegionLayout l = layout();
  l.kind = ChannelKind::BroadcastRing;
  CHECK(refused(l) == "hft::SharedRegion: " + name.str() + ": kind: the region has SpscQueue, expected BroadcastRing");
  l = layout();
  l.element_size = 24;
  CHECK(refused(l) == "hft::SharedRegion: " + name.str() + ": element_size: the region has 16, expected 24");
  l = layout();
  l.element_align = 16;
  CHECK(refused(l) == "hft::SharedRegion: " + name.str() + ": element_align: the region has 8, expected 16");
  l = layout();
  l.type_tag = hft::ipc::type_tag("test::Quote/v2");
  CHECK(refused(l).find(": type_tag: the region has ") != std::string::npos);
  l = layout();
  l.capacity = 128;
  CHECK(refused(l) == "hft::SharedRegion: " + name.str() + ": capacity: the region has 64, expected 128");
  l = layout();
  l.channel_bytes += 8;  // same pages: the header's own field tells
  CHECK(refused(l) == "hft::SharedRegion: " + name.str() + ": channel_bytes: the region has 1280, expected 1288");
  l = layout();
  l.channel_bytes = 1 << 20;  // another object size too: the header's field says why, first
  CHECK(refused(l) == "hft::SharedRegion: " + name.str() + ": channel_bytes: the region has 1280, expected 1048576");
  CHECK(refused(layout()).empty());
}

TEST_CASE("shared region: a damaged or foreign header is refused, never trusted", "[ipc][region]") {
  ShmName name("magic");
  SharedRegion a = SharedRegion::create(name, layout());
  a.mark_ready();
  auto* base = a.channel() - SharedRegion::kHeaderBytes;
  SECTION("magic") {
    base[0] = std::byte{'X'};
    CHECK(error_of([&] { (void)SharedRegion::open(name, layout()); }).find(": magic: not an hft::ipc region") !=
          std::string::npos);
  }
  SECTION("layout version") {
    base[8] = std::byte{9};
    CHECK(error_of([&] { (void)SharedRegion::open(name, layout()); }).find(": layout_version: the region has 9,") !=
          std::string::npos);
  }
  SECTION("an unknown kind") {
    base[12] = std::byte{77};
    CHECK(error_of([&] { (void)SharedRegion::open(name, layout()); }).find(": kind: the region has 77,") !=
          std::string::npos);
  }
  SECTION("total_bytes in the header") {
    base[56] = std::byte{1};  // total_bytes's low byte (4096 -> 4097)
    CHECK(error_of([&] { (void)SharedRegion::open(name, layout()); }).find(": total_bytes: the region has ") !=
          std::string::npos);
  }
}

TEST_CASE("shared region: an object whose size differs from its header's is refused, whatever the header says",
          "[ipc][region]") {
  ShmName name("size");
  SharedRegion a = SharedRegion::create(name, layout());
  a.mark_ready();
  const int fd = ::shm_open(("/" + name.str()).c_str(), O_RDWR, 0);
  REQUIRE(fd >= 0);
  REQUIRE(::ftruncate(fd, off_t{3} * 4096) == 0);  // grown: the header is intact
  CHECK(error_of([&] { (void)SharedRegion::open(name, layout()); }) ==
        "hft::SharedRegion: " + name.str() + ": total_bytes (the object's size): the region has 12288, expected 4096");
  REQUIRE(::ftruncate(fd, 100) == 0);  // shorter than a header: refused before reading it
  CHECK(error_of([&] { (void)SharedRegion::open(name, layout()); }) ==
        "hft::SharedRegion: " + name.str() + ": total_bytes (the object's size): the region has 100, expected 4096");
  ::close(fd);
}

TEST_CASE("shared region: open waits for mark_ready, up to open_timeout", "[ipc][region]") {
  ShmName name("ready");
  SharedRegion a = SharedRegion::create(name, layout());
  CHECK(error_of([&] {
          (void)SharedRegion::open(name, layout(), {.open_timeout = 20ms});
        }).find(": ready: not marked ready within open_timeout") != std::string::npos);
  std::thread t([&] {
    std::this_thread::sleep_for(30ms);
    a.channel()[0] = std::byte{5};
    a.mark_ready();
  });
  SharedRegion b = SharedRegion::open(name, layout(), {.open_timeout = 60s});
  CHECK(b.channel()[0] == std::byte{5});  // what the creator wrote before mark_ready
  t.join();
}

TEST_CASE("shared region: permissions are exactly the configured mode, whatever the umask", "[ipc][region]") {
  const mode_t old = ::umask(0);
  {
    ShmName name("mode");
    SharedRegion a = SharedRegion::create(name, layout());
    CHECK(shm_mode(name.str()) == 0600);
  }
  ::umask(0077);
  {
    ShmName name("mode");
    SharedRegion a = SharedRegion::create(name, layout(), {.mode = 0640});
    CHECK(shm_mode(name.str()) == 0640);
  }
  ::umask(old);
}

TEST_CASE("shared region: bad names and layouts are refused with the field named", "[ipc][region]") {
  CHECK(error_of([] { (void)SharedRegion::create("", layout()); }).find("name: must be 1-200 characters") !=
        std::string::npos);
  CHECK(error_of([] { (void)SharedRegion::create("a/b", layout()); }).find("name:") != std::string::npos);
  CHECK(error_of([] { (void)SharedRegion::create("..", layout()); }).find("name:") != std::string::npos);
  CHECK(error_of([] { (void)SharedRegion::create(std::string(201, 'x'), layout()); }).find("name:") !=
        std::string::npos);
  ShmName name("layout");
  RegionLayout l = layout();
  l.channel_bytes = 0;
  CHECK(error_of([&] { (void)SharedRegion::create(name, l); }).find("channel_bytes: must be 1 .. 2^40, got 0") !=
        std::string::npos);
  l.channel_bytes = (std::uint64_t{1} << 40) + 1;
  CHECK(error_of([&] { (void)SharedRegion::create(name, l); }).find("channel_bytes:") != std::string::npos);
  l = layout();
  l.element_align = 3;
  CHECK(error_of([&] { (void)SharedRegion::create(name, l); }).find("element_align: must be a power of two") !=
        std::string::npos);
  l.element_align = 512;
  CHECK(error_of([&] { (void)SharedRegion::create(name, l); }).find("element_align:") != std::string::npos);
  CHECK_FALSE(SharedRegion::remove(name));  // nothing was created
}

TEST_CASE("shared region: huge pages are refused where they cannot be had", "[ipc][region]") {
  ShmName name("huge");
  CHECK(error_of([&] {
          (void)SharedRegion::create(name, layout(), {.huge_pages = true});
        }).find("huge_pages: needs directory on a hugetlbfs mount") != std::string::npos);
  CHECK(error_of([&] {
          (void)SharedRegion::create(name, layout(), {.directory = "/dev/shm", .huge_pages = true});
        }).find("huge_pages: /dev/shm is not a hugetlbfs mount") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists("/dev/shm/" + name.str()));  // the refused create left nothing
}

TEST_CASE("shared region: a file in a directory, and remove", "[ipc][region]") {
  hft::test::TempDir dir;
  const SharedRegionConfig cfg{.directory = dir.path()};
  {
    SharedRegion a = SharedRegion::create("chan", layout(), cfg);
    a.mark_ready();
    CHECK(std::filesystem::exists(dir.path() + "/chan"));
    SharedRegion b = SharedRegion::open("chan", layout(), cfg);
    CHECK(b.channel_bytes() == layout().channel_bytes);
  }
  CHECK(SharedRegion::remove("chan", cfg));
  CHECK_FALSE(SharedRegion::remove("chan", cfg));
  CHECK_FALSE(std::filesystem::exists(dir.path() + "/chan"));
}

TEST_CASE("shared region: moved, the mapping follows and is unmapped once", "[ipc][region]") {
  ShmName name("move");
  SharedRegion a = SharedRegion::create(name, layout());
  std::byte* area = a.channel();
  SharedRegion b = std::move(a);
  CHECK(b.channel() == area);
  SharedRegion c = SharedRegion::create(name.str() + "x", layout());
  c = std::move(b);  // c's own mapping is released, b's taken over
  CHECK(c.channel() == area);
  area[0] = std::byte{1};
  CHECK(SharedRegion::remove(name.str() + "x"));
}

TEST_CASE("shared region: another process opens it and writes what this one reads", "[ipc][region]") {
  ShmName name("fork");
  SharedRegion a = SharedRegion::create(name, layout());
  a.mark_ready();
  const pid_t pid = hft::test::fork_child([&] {
    SharedRegion b = SharedRegion::open(name, layout());
    if (!(b.creator() == hft::ipc::ProcessIdentity::of(::getppid()))) return 3;
    std::memcpy(b.channel(), "from the child", 15);
    return 0;
  });
  REQUIRE(hft::test::wait_child(pid) == 0);
  CHECK(std::string(reinterpret_cast<const char*>(a.channel())) == "from the child");
}

// A tag and a capacity swapped at a call site must not compile (docs/style.md, rule 3).
static_assert(!std::is_convertible_v<hft::ipc::TypeTag, std::size_t> &&
              !std::is_convertible_v<std::uint64_t, hft::ipc::TypeTag> &&
              !std::is_constructible_v<hft::ipc::TypeTag, const char*>);
static_assert(hft::ipc::type_tag("a") == hft::ipc::type_tag("a") && hft::ipc::type_tag("a") != hft::ipc::type_tag("b"));
