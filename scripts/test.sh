#!/usr/bin/env bash
# The README's test command: builds and passes every test, the way CI does.
#   0. spin model check of FamilyScheduler's protocol (docs/scheduling/family_scheduler.pml)
#   1. package consumers (find_package, add_subdirectory, Conan test_package layout)
#   2. clang++ build + tests
#   3. AddressSanitizer + UBSan (clang++) + tests
#   4. ThreadSanitizer (clang++) + every test (all concurrent tests included)
#   5. g++ Release with -Werror + tests, benchmark and example smoke runs (last, so the
#      output ends with ctest's summary)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh test

start=$(date +%s)
step() { echo; echo "=== [$(( $(date +%s) - start ))s] $*"; }

step "spin model of FamilyScheduler's completion protocol"
bash scripts/check-model.sh

step "package consumers"
bash scripts/package-test.sh

for preset in clang asan tsan release; do
  step "preset $preset: configure, build, test"
  cmake --workflow --preset "$preset"
done
