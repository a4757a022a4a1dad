// Fuzz target: the journal's writer as a state machine under faults, not its parser. The
// input is a script: the durability policy (batch or every), then operations: append (of a
// chosen size), a claim scribbled over and committed short, a claim abandoned, flush, a
// clean reopen, a reader that tails to the end, an I/O error armed at the k-th next system
// call (EIO, ENOSPC, or EINTR at a restartable call), and a power loss at this moment: SimIo
// (tests/journal/fault_io.hpp) builds the crash states a power loss here can leave and one
// the input chooses is reopened and checked.
// Invariants: only JournalError escapes the journal; EINTR changes nothing; a reader that
//   reports itself caught up has every committed record; the files always hold every
//   committed record; every crash state opens, reads exactly records 1..k with k >= the
//   durable_sequence() observed, and continues at k + 1.
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <set>
#include <string>

#include "../journal/crash_check.hpp"
#include "fuzz_check.hpp"

namespace {

constexpr std::size_t kSegment = 8192;
constexpr std::size_t kMaxLen = 300;

struct State {
  std::unique_ptr<hft::Journal> j;
  std::uint64_t committed = 0;
  std::uint64_t durable = 0;
  bool eintr_armed = false;  // EINTR is the only fault this input has armed: nothing may fail
  bool hard_fault = false;   // an EIO or ENOSPC was armed: errors are documented outcomes from then on

  void observe() {
    if (!j) return;
    committed = std::max(committed, j->last_sequence());
    durable = std::max(durable, j->durable_sequence());
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  const auto policy = in.ConsumeBool() ? hft::Durability::every : hft::Durability::batch;
  hft::test::ScratchDir t;
  const std::string dir = t.sub("j");
  hft::test::SimIo io(dir);
  const hft::JournalConfig cfg{.segment_size = kSegment,
                               .durability = policy,
                               .batch_interval = std::chrono::hours(1),
                               .prepare_next = false,
                               .io = &io};
  State s;
  auto open = [&] {
    try {
      s.j = std::make_unique<hft::Journal>(dir, cfg);
    } catch (const hft::JournalError&) {
      FUZZ_CHECK(!s.eintr_armed, "EINTR made the journal fail to open");
    }
  };
  // Runs one journal operation: JournalError is a documented outcome, anything else is not.
  auto guarded = [&](auto&& op) {
    try {
      op();
    } catch (const hft::JournalError& e) {
      FUZZ_CHECK(!s.eintr_armed, "EINTR surfaced as an error: %s", e.what());
    }
    s.observe();
  };
  open();
  int ops = 0;
  while (in.remaining_bytes() > 0 && ops++ < 200) {
    if (!s.j) open();
    if (!s.j) continue;
    hft::Journal& j = *s.j;
    switch (in.ConsumeIntegralInRange(0, 8)) {
      case 0:
      case 1: {
        // payload_for(seq) fixes each record's size and bytes, so any record can be checked.
        guarded([&] { (void)j.append(hft::test::payload_for(j.next_sequence(), kMaxLen)); });
        break;
      }
      case 2: {
        const auto extra = in.ConsumeIntegralInRange<std::size_t>(1, 400);
        const auto scribble = in.ConsumeIntegral<std::uint8_t>();
        guarded([&] {
          const auto p = hft::test::payload_for(j.next_sequence(), kMaxLen);
          auto span = j.claim(std::min(p.size() + extra, j.max_payload()));
          std::memset(span.data(), scribble, span.size());
          std::memcpy(span.data(), p.data(), p.size());
          (void)j.commit(p.size());
        });
        break;
      }
      case 3: {
        const auto len = in.ConsumeIntegralInRange<std::size_t>(0, j.max_payload());
        const auto scribble = in.ConsumeIntegral<std::uint8_t>();
        guarded([&] {
          auto span = j.claim(len);
          std::memset(span.data(), scribble, span.size());  // abandoned
        });
        break;
      }
      case 4:
        guarded([&] { j.flush(); });
        break;
      case 5:
        s.observe();
        s.j.reset();
        open();
        s.observe();
        break;
      case 6: {
        try {
          hft::JournalReader r(dir, {.start_sequence = 1, .io = &io});
          std::uint64_t next = 1;
          while (r.poll([&](const hft::JournalRecord& rec) {
            FUZZ_CHECK(rec.sequence == next && hft::test::payload_matches(rec, kMaxLen),
                       "the reader delivered a wrong record at %llu", static_cast<unsigned long long>(next));
            ++next;
          }) != 0) {
          }
          FUZZ_CHECK(next - 1 >= j.last_sequence(), "the reader stopped at %llu of %llu",
                     static_cast<unsigned long long>(next - 1), static_cast<unsigned long long>(j.last_sequence()));
        } catch (const hft::JournalError& e) {
          FUZZ_CHECK(!s.eintr_armed, "EINTR stopped a reader: %s", e.what());
        }
        break;
      }
      case 7: {
        const auto k = in.ConsumeIntegralInRange<std::uint64_t>(1, 40);
        switch (in.ConsumeIntegralInRange(0, 2)) {
          case 0:
            io.fail_at(k, EIO);
            s.hard_fault = true;
            s.eintr_armed = false;
            break;
          case 1:
            io.fail_at(k, ENOSPC);
            s.hard_fault = true;
            s.eintr_armed = false;
            break;
          default:
            io.fail_at(k, EINTR, {"open", "fallocate", "flock", "fsync", "fdatasync", "msync"});
            s.eintr_armed = !s.hard_fault;
            break;
        }
        break;
      }
      default: {
        // A power loss now: one of the states it can leave, chosen by the input.
        s.observe();
        const auto pick = in.ConsumeIntegral<std::uint32_t>();
        std::mt19937_64 rng(in.ConsumeIntegral<std::uint64_t>());
        std::uint32_t n = 0;
        hft::test::SimIo::DirState chosen;
        std::string desc;
        io.enumerate(
            [&](const hft::test::SimIo::DirState& st, const std::string& d) {
              if (n++ == 0 || pick % 64 == n) {
                chosen = st;
                desc = d;
              }
            },
            rng, 6, 8);
        const auto r = hft::test::check_crash_state(chosen, t.sub("state"), s.durable, s.committed, kSegment, kMaxLen);
        FUZZ_CHECK(r.error.empty(), "power loss (%s): %s", desc.c_str(), r.error.c_str());
        break;
      }
    }
  }
  s.observe();
  s.j.reset();
  io.fail_at(0, 0);
  // No power loss: the files hold every committed record, and open cleanly.
  try {
    hft::Journal j(dir, {.segment_size = kSegment, .durability = policy, .prepare_next = false});
    const auto rb = hft::test::read_all(dir, 1, kMaxLen);
    FUZZ_CHECK(rb.in_order && rb.payloads_ok && rb.count == s.committed, "the files hold %llu of %llu records",
               static_cast<unsigned long long>(rb.count), static_cast<unsigned long long>(s.committed));
  } catch (const hft::JournalError& e) {
    FUZZ_CHECK(false, "the files do not reopen: %s", e.what());
  }
  // A power loss that keeps only what was synced keeps what was declared durable.
  const auto r =
      hft::test::check_crash_state(io.durable_only(), t.sub("state"), s.durable, s.committed, kSegment, kMaxLen);
  FUZZ_CHECK(r.error.empty(), "durable-only state: %s", r.error.c_str());
  return 0;
}
