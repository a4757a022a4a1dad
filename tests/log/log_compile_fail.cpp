// The logger's compile-time checks, one case per compiler run (tests/CMakeLists.txt runs
// the compiler with -DHFT_COMPILE_CASE=N and requires the diagnostic that names the rule;
// case 0 is the control and must compile, so a failure of the others is not a typo here).
#include <hft/log/logger.hpp>

struct NotLoggable {
  int x;
};

#ifndef HFT_COMPILE_CASE
#define HFT_COMPILE_CASE 0
#endif

#if HFT_COMPILE_CASE == 7
// A wrapper function cannot pass its format string to the macro: the call site would be
// shared by every caller of the wrapper (it must be a literal at the macro).
template <class... A>
void wrapper(hft::Logger& log, hft::LogFormatString<A...> fmt, const A&... a) {
  HFT_LOG_INFO(log, fmt, a...);
}
#endif

void cases(hft::Logger& log) {
#if HFT_COMPILE_CASE == 0
  const int x = 1;
  HFT_LOG_INFO(log, "{} {:d} {:.2f} {:>5} {}", 1, 'c', 2.0, "s", static_cast<const void*>(&x));
#elif HFT_COMPILE_CASE == 1
  HFT_LOG_INFO(log, "{} {}", 1);  // two fields, one argument
#elif HFT_COMPILE_CASE == 2
  HFT_LOG_INFO(log, "{:d}", "text");  // an integer presentation for a string
#elif HFT_COMPILE_CASE == 3
  HFT_LOG_INFO(log, "{}", NotLoggable{1});  // no LogCodec
#elif HFT_COMPILE_CASE == 4
  const int x = 1;
  HFT_LOG_INFO(log, "{}", &x);  // a pointer that is not void*
#elif HFT_COMPILE_CASE == 5
  HFT_LOG_INFO(log, "{:.2}", 7);  // precision for an integer
#elif HFT_COMPILE_CASE == 6
  HFT_LOG_INFO(log, "{0} {}", 1, 2);  // manual and automatic indexing mixed
#elif HFT_COMPILE_CASE == 7
  wrapper(log, "{}", 1);
#endif
}

int main() { return 0; }
