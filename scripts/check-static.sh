#!/usr/bin/env bash
# Static analysis with zero findings, as CI runs it (scripts/test.sh):
#   - clang-tidy 14 with the committed .clang-tidy (its checks, and why each exclusion) over
#     the library headers, through one TU that includes hft/hft.hpp, and over every example
#     and test TU (fuzz targets included), which instantiate the templates;
#   - cppcheck over the same files.
# A false positive is suppressed where it occurs, with its reason: NOLINT(check) for
# clang-tidy, `// cppcheck-suppress id` for cppcheck. Exit 1 on any finding.
#   scripts/check-static.sh [tidy|cppcheck]    one of the two (default: both)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
what="${1:-both}"
jobs="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}"
build=build/static
log="$build/check-static.log"

# Configure only: compile_commands.json is all clang-tidy needs, and nothing is built (so no
# precompiled header: HFT_TEST_PCH=OFF), and each mini-OMS source its own entry
# (HFT_MINI_OMS_UNITY=OFF).
cmake -S . -B "$build" -G "Unix Makefiles" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_EXPORT_COMPILE_COMMANDS=ON -DHFT_BUILD_FUZZ=ON -DHFT_BUILD_BENCHMARKS=OFF -DHFT_INSTALL=OFF -DHFT_TEST_PCH=OFF -DHFT_MINI_OMS_UNITY=OFF >/dev/null
printf '#include "hft/hft.hpp"\n' >"$build/all_headers.cpp"
mapfile -t sources < <(git ls-files 'examples/*.cpp' 'tests/*.cpp')

bad=0
if [[ "$what" != cppcheck ]]; then
  echo "clang-tidy: the headers through hft/hft.hpp, ${#sources[@]} example and test TUs ($jobs jobs)"
  : >"$log"
  if ! clang-tidy --quiet --config-file=.clang-tidy "$build/all_headers.cpp" -- -std=c++20 -Iinclude >>"$log" 2>&1 ||
     ! run-clang-tidy -quiet -p "$build" -j "$jobs" "$root/(examples|tests)/" >>"$log" 2>&1; then
    # The diagnostics and their notes, once each (a header's finding repeats per TU).
    sed -E 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^/.*: (error|warning|note): ' | sed "s#^$root/##" | sort -u >&2 || true
    echo "check-static: clang-tidy found the above (full output: $log)" >&2
    bad=1
  fi
fi
if [[ "$what" != tidy ]]; then
  echo "cppcheck: the same files"
  # __GNUC__: the headers refuse other compilers (#error), so cppcheck must see one of ours.
  # internalAstError in sequenced_ring.hpp: cppcheck 2.10 cannot parse
  # `if constexpr (trait<T, Args&&...>)` (a pack expansion); that is its parser, not a finding.
  # syntaxError in log_format_oracle.cpp: nor C++20 template lambdas (`[&]<int R>()`); the
  # oracle is built by clang++-16 against libc++ only (scripts/log_format_oracle.sh).
  if ! cppcheck --quiet --std=c++20 --language=c++ --enable=warning,performance,portability --inline-suppr \
       --error-exitcode=1 -j "$jobs" -I include -I examples/common -D__linux__ -D__x86_64__ -D__GNUC__=12 \
       --suppress=internalAstError:include/hft/queue/sequenced_ring.hpp \
       --suppress=syntaxError:tests/log/log_format_oracle.cpp \
       --template='{file}:{line}: {severity}: {message} [{id}]' \
       "$build/all_headers.cpp" "${sources[@]}"; then
    echo "check-static: cppcheck found the above" >&2
    bad=1
  fi
fi
exit "$bad"
