// Test helpers for the FIX codec: wire messages written with '|' for SOH, framed by hand
// (BodyLength and CheckSum computed here, independently of hft::fix::MessageBuilder).
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace hft::test {

/// '|' -> SOH.
inline std::string soh(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c == '|') c = '\x01';
  return out;
}

/// SOH -> '|', for readable failure messages.
inline std::string bars(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c == '\x01') c = '|';
  return out;
}

inline unsigned byte_sum(std::string_view s) {
  unsigned sum = 0;
  for (const char c : s) sum += static_cast<unsigned char>(c);
  return sum % 256;
}

/// A framed message: "8=<begin>|9=<len>|" + body + "10=<sum>|", body in '|' notation
/// starting with "35=...|".
inline std::string frame(std::string_view body, std::string_view begin = "FIX.4.4") {
  const std::string b = soh(body);
  std::string head = "8=" + std::string(begin) + "\x01" + "9=" + std::to_string(b.size()) + "\x01";
  std::string msg = head + b;
  char cs[8];
  (void)std::snprintf(cs, sizeof cs, "%03u", byte_sum(msg));  // three digits
  return msg + "10=" + cs + "\x01";
}

}  // namespace hft::test
