#!/usr/bin/env bash
# The README's demo command: builds the examples in Release and runs the main demo.
# (Until the mini-OMS lands, the main demo is the SPSC/MPSC queue pipeline.)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh demo
cmake -S . -B build/demo -DCMAKE_BUILD_TYPE=Release -DHFT_BUILD_TESTS=OFF \
      -DHFT_BUILD_BENCHMARKS=OFF -DHFT_BUILD_EXAMPLES=ON >/dev/null
cmake --build build/demo -j2 --target queue_pipeline
exec build/demo/examples/queues/queue_pipeline "$@"
