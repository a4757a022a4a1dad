#!/usr/bin/env bash
# The README's main command: builds the mini-OMS in Release and runs its demo: an
# in-process server on a loopback port, the mixed / hot-family / uncorrelated / bad-input
# scenarios with verification, and a small-ring run that triggers REJ:BUSY.
# Extra arguments go to `mini_oms demo` (try --help).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh demo
cmake -S . -B build/demo -DCMAKE_BUILD_TYPE=Release -DHFT_BUILD_TESTS=OFF \
      -DHFT_BUILD_BENCHMARKS=OFF -DHFT_BUILD_EXAMPLES=ON >/dev/null
cmake --build build/demo -j "$(nproc)" --target hft_mini_oms
exec build/demo/examples/mini_oms/mini_oms demo "$@"
