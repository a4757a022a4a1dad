// What a state a crash or power loss left must be, checked the same way by the Catch2 sweeps
// (journal_faults_test.cpp) and the fuzz target (tests/fuzz/journal_faults.cpp).
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "fault_io.hpp"
#include "journal_support.hpp"

namespace hft::test {

// Crash states are written, reopened and read many thousands of times: on tmpfs where the
// machine has one, since what is tested is the journal's logic, not the disk.
inline std::string scratch_base() {
  std::error_code ec;
  if (std::filesystem::is_directory("/dev/shm", ec) && ::access("/dev/shm", W_OK) == 0) return "/dev/shm";
  return tmp_base();
}

/// A TempDir on tmpfs where there is one.
class ScratchDir : public TempDir {
 public:
  ScratchDir() : TempDir(scratch_base()) {}
};

struct CrashCheck {
  std::string error;       // "" when the state is as it must be
  bool holes_cut = false;  // recovery cut whole records behind a lost page
};

/// Writes `st` into `dir` (emptied first) and checks it: it opens (under `every`, whose
/// recovery is batch's), a reader from 1 gets exactly records 1..k of payload_for(seq,
/// max_len) with durable <= k <= committed, and the sequence continues at k + 1. Never
/// throws: it runs inside an I/O hook and a fuzz target.
inline CrashCheck check_crash_state(const SimIo::DirState& st, const std::string& dir, std::uint64_t durable,
                                    std::uint64_t committed, std::size_t segment_size, std::size_t max_len) {
  CrashCheck out;
  try {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    std::filesystem::create_directories(dir);
    SimIo::write_state(st, dir);
    std::uint64_t k = 0;
    {
      Journal j(dir, {.segment_size = segment_size, .durability = Durability::every, .prepare_next = false});
      const auto rb = read_all(dir, 1, max_len);
      out.holes_cut = j.recovery().dropped_whole_records > 0;
      if (!rb.in_order || !rb.payloads_ok || (rb.count != 0 && rb.first != 1)) {
        out.error = "the records read are not a prefix of those written (in order " + std::to_string(rb.in_order) +
                    ", payloads " + std::to_string(rb.payloads_ok) + ", first " + std::to_string(rb.first) + ")";
        return out;
      }
      k = rb.count;
      if (k < durable) {
        out.error = "a power loss lost durable records: read " + std::to_string(k) + ", durable_sequence() was " +
                    std::to_string(durable);
        return out;
      }
      if (k > committed) {
        out.error = "read " + std::to_string(k) + " records, only " + std::to_string(committed) + " committed";
        return out;
      }
      if (j.next_sequence() != k + 1) {
        out.error =
            "recovery continues at " + std::to_string(j.next_sequence()) + " after " + std::to_string(k) + " records";
        return out;
      }
      if (j.append(payload_for(k + 1, max_len)) != k + 1) {
        out.error = "the next append did not get sequence k + 1";
        return out;
      }
    }
    const auto again = read_all(dir, 1, max_len);
    if (again.count != k + 1 || !again.payloads_ok) out.error = "the record appended after recovery is not read back";
  } catch (const std::exception& e) {
    out.error = std::string("reopen failed: ") + e.what();
  }
  return out;
}

}  // namespace hft::test
