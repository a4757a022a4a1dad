#!/usr/bin/env bash
# The compile cost of including each public header, next to the headers users compare us with.
#   scripts/header-cost.sh [--old REV] [--runs N] [--cxx COMPILER] [--json FILE]
# One translation unit per header (`#include <h>` and nothing else), compiled with
# `$CXX -std=c++20 -fsyntax-only`: the cost every file that includes the header pays before any
# code of its own. CPU seconds (user + system, from /usr/bin/time), not wall time, so that other
# load on the machine moves the figures less; the rounds are interleaved (every TU once per
# round) and the table gives the minimum and the median of N rounds (default 5).
# --old REV also measures the headers of git revision REV (checked out to a temp dir), so old
# and new are compared in one run. Anchors: Boost.Lockfree (libboost-dev), moodycamel's queues
# (libconcurrentqueue-dev, libreaderwriterqueue-dev) and {fmt} (libfmt-dev); an anchor that is
# not installed is listed as such. Prints a Markdown table (docs/headers.md holds the last one).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
runs=5 old="" cxx="${CXX:-g++}" json=""
while (($#)); do
  case "$1" in
    --old) old="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --cxx) cxx="$2"; shift 2 ;;
    --json) json="$2"; shift 2 ;;
    -h | --help) sed -n 2,13p "$0"; exit 0 ;;
    *) echo "header-cost: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "header-cost: --runs must be a positive integer" >&2; exit 2; }
command -v "$cxx" >/dev/null || { echo "header-cost: no compiler '$cxx'" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "header-cost: needs /usr/bin/time (Debian package 'time')" >&2; exit 2; }
if [[ -n "$json" ]]; then : >"$json" || { echo "header-cost: cannot write $json" >&2; exit 2; }; fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if [[ -n "$old" ]]; then
  git -C "$root" rev-parse --verify -q "$old^{commit}" >/dev/null || { echo "header-cost: no revision '$old'" >&2; exit 2; }
  mkdir -p "$work/old"
  git -C "$root" archive "$old" include | tar -x -C "$work/old"
fi

# Rows: label | include directory | header. The new tree's headers, the umbrella first.
rows=()
mapfile -t headers < <(cd "$root/include" && { echo hft/hft.hpp; find hft -mindepth 2 -name '*.hpp' | sort; })
for h in "${headers[@]}"; do
  rows+=("$h|$root/include|$h")
  if [[ -n "$old" && -f "$work/old/include/$h" ]]; then rows+=("$h @ $old|$work/old/include|$h"); fi
done
anchors=("boost/lockfree/spsc_queue.hpp" "boost/lockfree/queue.hpp" "concurrentqueue/concurrentqueue.h"
         "readerwriterqueue/readerwriterqueue.h" "fmt/format.h")
missing=()
for a in "${anchors[@]}"; do
  if echo "#include <$a>" | "$cxx" -std=c++20 -fsyntax-only -x c++ - 2>/dev/null; then
    rows+=("<$a>|/usr/include|$a")
  else
    missing+=("$a")
  fi
done
rows+=("(empty TU)||")

cpu_seconds() {  # $1 include dir, $2 header: prints user+sys seconds of one compile
  local src
  if [[ -n "$2" ]]; then src="#include <$2>"; else src=""; fi
  /usr/bin/time -f "%U %S" -o "$work/t" "$cxx" -std=c++20 -fsyntax-only ${1:+-I"$1"} -x c++ - <<<"$src" >/dev/null \
    || { echo "header-cost: $2 does not compile" >&2; exit 1; }
  awk '{printf "%.3f\n", $1 + $2}' "$work/t"
}

for ((r = 1; r <= runs; ++r)); do
  echo "header-cost: round $r/$runs (${#rows[@]} TUs)" >&2
  for i in "${!rows[@]}"; do
    IFS='|' read -r _ dir h <<<"${rows[$i]}"
    cpu_seconds "$dir" "$h" >>"$work/r$i"
  done
done

stats() { sort -n "$1" | awk '{v[NR] = $1} END {m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
                                             printf "%.2f %.2f %.2f\n", v[1], m, v[NR]}'; }
cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
commit="$(git -C "$root" describe --always --dirty --abbrev=12 2>/dev/null || echo unknown)"
version="$("$cxx" --version | head -1)"
echo
echo "$(date -u +%F), $cpu, $(nproc) CPUs, $version, \`-std=c++20 -fsyntax-only\`, commit $commit,"
echo "CPU seconds (user + sys) per TU, $runs interleaved rounds."
echo
echo "| TU: \`#include\` of | min s | median s | max s |"
echo "| --- | ---: | ---: | ---: |"
[[ -z "$json" ]] || printf '{"date": "%s", "commit": "%s", "cpu": "%s", "cores": %d, "compiler": "%s", "runs": %d, "rows": [' \
  "$(date -u +%FT%TZ)" "$commit" "$cpu" "$(nproc)" "$version" "$runs" >>"$json"
sep=""
for i in "${!rows[@]}"; do
  IFS='|' read -r label _ _ <<<"${rows[$i]}"
  read -r lo med hi < <(stats "$work/r$i")
  echo "| \`$label\` | $lo | $med | $hi |"
  [[ -z "$json" ]] || { printf '%s{"tu": "%s", "min_s": %s, "median_s": %s, "max_s": %s}' "$sep" "$label" "$lo" "$med" "$hi" >>"$json"; sep=", "; }
done
[[ -z "$json" ]] || echo "]}" >>"$json"
for a in "${missing[@]}"; do echo "(not installed: <$a>)"; done
