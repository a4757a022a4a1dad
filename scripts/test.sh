#!/usr/bin/env bash
# The README's test command: builds and passes every test, the way CI does.
#   0. the package list proven from an empty state (scripts/check-deps.sh); formatting and
#      the mechanical style rules (scripts/check-format.sh, scripts/check-style.sh); clang-tidy
#      and cppcheck with zero findings (scripts/check-static.sh)
#   1. spin model check of FamilyScheduler's protocol (docs/scheduling/family_scheduler.pml)
#   2. package consumers (find_package, add_subdirectory, FetchContent, pkg-config, Conan's
#      test_package layout, a refused version request)
#   3. clang++ 14 build + tests
#   4. AddressSanitizer + UBSan (clang++) + tests
#   5. ThreadSanitizer (clang++) + every test (all concurrent tests included)
#   6. every libFuzzer target (tests/fuzz, ASan + UBSan) for 60 s from its committed seeds
#   7. the oldest and newest compilers bookworm offers beside the defaults: g++-11, clang++-16
#      (stress tests at a quarter of their size: the same checks; the full sizes run in 3 and 8;
#      no benchmarks: they include the same headers the tests do, and clang++ 14 and g++ 12
#      build and smoke-run them in 3 and 8, so two more builds would add CI time, not coverage)
#   8. g++ 12 Release + tests, valgrind, benchmark and example smoke runs (last, so the
#      output ends with ctest's summary)
# Every preset builds with HFT_WERROR=ON.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh test
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}"

start=$(date +%s)
step() { echo; echo "=== [$(( $(date +%s) - start ))s] $*"; }

step "the package list, from an empty package state"
bash scripts/check-deps.sh

step "formatting and the style rules of docs/style.md"
bash scripts/check-format.sh
bash scripts/check-style.sh

step "static analysis: clang-tidy and cppcheck"
bash scripts/check-static.sh

step "spin model of FamilyScheduler's completion protocol"
bash scripts/check-model.sh

step "package consumers"
bash scripts/package-test.sh

for preset in clang asan tsan fuzz gcc11 clang16 release; do
  step "preset $preset: configure, build, test"
  cmake --workflow --preset "$preset"
done
