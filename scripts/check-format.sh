#!/usr/bin/env bash
# Formatting, checked in CI: examples/ and benchmarks/ follow .clang-format exactly; the
# library headers keep their hand layout (aligned comment tables, protocol sketches) and
# are held to the same 120 columns. Fix with:
#   find examples benchmarks -name '*.[ch]pp' | xargs clang-format -i
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
if ! command -v clang-format >/dev/null; then
  echo "check-format: clang-format is not installed (scripts/install-deps.sh test installs it)" >&2
  exit 1
fi
bad=0
while IFS= read -r -d '' f; do
  if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
    echo "check-format: $f differs from .clang-format (clang-format -i $f)" >&2
    bad=1
  fi
done < <(find examples benchmarks \( -name '*.hpp' -o -name '*.cpp' \) -print0 | sort -z)
while IFS= read -r hit; do
  echo "check-format: longer than 120 columns: $hit" >&2
  bad=1
done < <(find include -name '*.hpp' -print0 | xargs -0 awk 'length > 120 {print FILENAME ":" FNR}')
if ((bad)); then exit 1; fi
echo "check-format: examples/ and benchmarks/ match .clang-format; the library fits 120 columns"
