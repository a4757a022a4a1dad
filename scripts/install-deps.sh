#!/usr/bin/env bash
# Installs what hft's builds need from Debian's packages. Idempotent: apt is only
# touched when something is missing. Usage: scripts/install-deps.sh [demo|test]
#   demo: a C++ compiler and CMake (the library itself needs nothing else)
#   test: + clang, Catch2, the benchmark anchors (Boost, moodycamel, TBB), valgrind and
#         spin (the model checker for FamilyScheduler's protocol)
set -euo pipefail
profile="${1:-test}"
pkgs=(cmake make g++)
if [[ "$profile" == "test" ]]; then
  pkgs+=(clang catch2 libboost-dev libconcurrentqueue-dev libreaderwriterqueue-dev libtbb-dev valgrind spin)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  echo "installing: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
