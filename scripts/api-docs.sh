#!/usr/bin/env bash
# The API reference: Doxygen over include/hft (docs/Doxyfile), with README.md as the entry
# page and docs/*.md as related pages. Fails on any Doxygen warning: an undocumented public
# member, a broken reference, a bad command in a /// comment (WARN_AS_ERROR).
#   bash scripts/api-docs.sh [OUTPUT_DIR]     (default build/api; the entry page is
#                                             OUTPUT_DIR/html/index.html)
# The CMake target `docs` runs the same configuration into <build dir>/api.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
if ! command -v doxygen >/dev/null; then
  echo "api-docs: doxygen is not installed (apt-get install doxygen; scripts/install-deps.sh)" >&2
  exit 1
fi
out="${1:-build/api}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
version=$(awk '/^#define HFT_VERSION_(MAJOR|MINOR|PATCH) / {v = v (v == "" ? "" : ".") $3} END {print v}' \
  include/hft/version.hpp)
log="$out/doxygen-warnings.log"
# Doxygen's WARN_AS_ERROR=FAIL_ON_WARNINGS reports every warning, then exits non-zero; the
# log is checked as well, so a warning can never pass silently.
status=0
HFT_API_OUT="$out" HFT_VERSION="$version" doxygen docs/Doxyfile 2>"$log" || status=$?
n=$(grep -c . "$log" || true)
if ((status != 0 || n != 0)); then
  cat "$log" >&2
  echo "api-docs: $n Doxygen warning line(s) (doxygen exit $status); see $log" >&2
  exit 1
fi
echo "api-docs: hft $version API reference, no warnings: $out/html/index.html"
