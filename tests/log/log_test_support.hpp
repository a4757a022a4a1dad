// Shared by the logger's tests: a sink that keeps every line it is given.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "hft/log/log_sink.hpp"

namespace hft::test {

struct CapturedLine {
  std::int64_t time_ns = 0;
  hft::LogLevel level = hft::LogLevel::Info;
  std::string logger, thread, file, message, text;
  std::uint32_t tid = 0, line = 0;
};

// Called by the backend thread; read by the test after flush() (the mutex makes the reads
// race-free whatever the backend does meanwhile).
class CaptureSink final : public hft::LogSink {
 public:
  void write(const hft::LogRecordView& r) override {
    const std::lock_guard lock(mutex_);
    lines_.push_back(CapturedLine{r.time_ns, r.level, std::string(r.logger), std::string(r.thread), std::string(r.file),
                                  std::string(r.message), std::string(r.text), r.tid, r.line});
  }
  void flush() override { flushes_.fetch_add(1, std::memory_order_relaxed); }
  std::vector<CapturedLine> lines() const {
    const std::lock_guard lock(mutex_);
    return lines_;
  }
  std::vector<std::string> messages() const {
    const std::lock_guard lock(mutex_);
    std::vector<std::string> m;
    m.reserve(lines_.size());
    for (const auto& l : lines_) m.push_back(l.message);
    return m;
  }
  std::size_t size() const {
    const std::lock_guard lock(mutex_);
    return lines_.size();
  }
  std::uint64_t flushes() const { return flushes_.load(std::memory_order_relaxed); }

 private:
  mutable std::mutex mutex_;
  std::vector<CapturedLine> lines_;
  std::atomic<std::uint64_t> flushes_{0};
};

}  // namespace hft::test
