#!/usr/bin/env bash
# The std::format oracle of hft/log/log_format.hpp: builds tests/log/log_format_oracle.cpp with clang++-16 and
# libc++ 16 (whose <format> is the reference; libstdc++ 12 has none) and runs it.
#   log_format_oracle.sh [CASES [SEED]]     defaults: LOG_FORMAT_CASES or 200000 cases, a random seed (printed)
# Exit 77 (ctest: skipped) when clang++-16 or libc++-16-dev is missing, unless CI or HFT_REQUIRE_ORACLE is set
# (scripts/test.sh sets it): there the test must run.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cxx="${LOG_FORMAT_CXX:-clang++-16}"
cases="${1:-${LOG_FORMAT_CASES:-200000}}"
seed="${2:-${LOG_FORMAT_SEED:-}}"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
if ! command -v "$cxx" >/dev/null ||
   ! printf '#include <format>\nint main() { return std::format("{}", 1).size() == 1 ? 0 : 1; }\n' |
     "$cxx" -std=c++20 -stdlib=libc++ -fexperimental-library -x c++ - -o "$tmp/probe" 2>/dev/null; then
  msg="$cxx with libc++'s <format> missing: apt-get install clang-16 libc++-16-dev libc++abi-16-dev"
  if [ -n "${CI:-}${HFT_REQUIRE_ORACLE:-}" ]; then
    echo "FAIL: $msg (CI or HFT_REQUIRE_ORACLE is set, so the oracle must run)"
    exit 1
  fi
  echo "SKIP: $msg"
  exit 77
fi

"$cxx" -std=c++20 -stdlib=libc++ -fexperimental-library -O2 -Wall -Wextra -Werror -I "$root/include" \
  "$root/tests/log/log_format_oracle.cpp" -o "$tmp/log_format_oracle"
"$tmp/log_format_oracle" "$cases" $seed
