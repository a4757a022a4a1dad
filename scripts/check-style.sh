#!/usr/bin/env bash
# The mechanical part of docs/style.md, checked on every public header:
#   - the header block has the eight sections, under their exact names (primitives), or
#     What / When to use / Thread-safety (utilities: core/, version.hpp, the umbrella, fix/tags.hpp), or
#     What / Thread-safety (internal building blocks);
#   - every exception the library throws says "hft::Type: ..." (or "hft::function: ...");
#   - member names: no m_/mu/cap_ spellings (mutex_, capacity_);
#   - no public header includes one of the expensive headers docs/headers.md names.
# Exit 1 with one line per violation.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bad=0
fail() { echo "check-style: $1" >&2; bad=1; }

primitive_sections=("What" "When to use" "When not" "Thread-safety" "Progress" "Memory ordering" "Complexity" "Compared with")
utility_sections=("What" "When to use" "Thread-safety")
for f in $(find include/hft -name '*.hpp' | sort); do
  block=$(awk '/^#pragma once/{exit} {print}' "$f")
  case "$f" in
    include/hft/core/* | include/hft/version.hpp | include/hft/hft.hpp | include/hft/fix/tags.hpp)
      sections=("${utility_sections[@]}") ;;
    # Internal building blocks (hft::detail, or a base no user names): What and Thread-safety.
    include/hft/queue/sequenced_ring.hpp | include/hft/disruptor/sequencer_base.hpp | include/hft/memory/asan.hpp | \
    include/hft/journal/journal_format.hpp | include/hft/trading/sorted_levels.hpp)
      sections=("What" "Thread-safety") ;;
    *) sections=("${primitive_sections[@]}") ;;
  esac
  for s in "${sections[@]}"; do
    # A section starts a comment line ("// When not: ...") or follows a sentence on one
    # ("... . When not: ...").
    grep -qE "^// ${s}:|^//.*[.;)] ${s}:" <<<"$block" || fail "$f: header block has no '${s}:' section"
  done
done

while IFS= read -r hit; do
  fail "exception message without the 'hft::' prefix: $hit"
done < <(grep -rnE 'throw std::[a-z_]+\("' include | grep -v 'throw std::[a-z_]*("hft::')

while IFS= read -r hit; do
  fail "member name outside the convention (mutex_, capacity_): $hit"
done < <(grep -rnE '\b(m_|mu|mu_|mtx_|cap_)\b' include examples benchmarks | grep -vE '^\S+:\s*//')

# Compile cost (docs/headers.md): no public header includes a header that costs every includer
# a large share of a TU for little use: the full intrinsics headers (<immintrin.h> and
# <x86intrin.h>, ~0.35 s of g++ CPU each: use the builtin or the one small header), <filesystem>,
# <random>, <regex>, <format>, <ranges> and the stream-object headers.
while IFS= read -r hit; do
  fail "a public header includes an expensive header (docs/headers.md): $hit"
done < <(grep -rnE '^#include <(immintrin|x86intrin)\.h>|^#include <(filesystem|random|regex|format|ranges|iostream|fstream|sstream)>' include)

if ((bad)); then exit 1; fi
echo "check-style: headers, error messages and member names follow docs/style.md"
