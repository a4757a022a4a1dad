#!/usr/bin/env bash
# Runs one libFuzzer target for longer than CI does:
#   scripts/fuzz.sh TARGET [seconds]      (default 600; targets: ls tests/fuzz/*.cpp)
# Builds the `fuzz` preset (clang++, ASan + UBSan) if needed. New inputs go to
# build/fuzz/tests/fuzz/corpus/TARGET, the committed seeds in tests/fuzz/corpus/TARGET are
# read; a crash leaves crash-* in the current directory. To keep an input that found a bug,
# copy it into tests/fuzz/corpus/TARGET/ with the fix.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${1:-}"
seconds="${2:-600}"
if [[ -z "$target" || ! -f "tests/fuzz/$target.cpp" ]]; then
  echo "usage: scripts/fuzz.sh TARGET [seconds]; TARGET is one of:" >&2
  (cd tests/fuzz && ls *.cpp | sed 's/\.cpp$//; s/^/  /') >&2
  exit 2
fi
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || (( seconds < 1 )); then
  echo "scripts/fuzz.sh: seconds must be a positive integer, got '$seconds'" >&2
  exit 2
fi
[[ -f build/fuzz/CMakeCache.txt ]] || cmake --preset fuzz
cmake --build build/fuzz --target "hft_fuzz_$target" -j"$(nproc)"
work="build/fuzz/tests/fuzz/corpus/$target"
mkdir -p "$work"
exec "build/fuzz/tests/fuzz/fuzz_$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 "$work" "tests/fuzz/corpus/$target"
