#!/usr/bin/env bash
# The one list of Debian packages hft's builds need (bookworm). Idempotent: apt is touched
# only when something is missing. .ci/run, scripts/test.sh and scripts/demo.sh call it.
#   scripts/install-deps.sh [demo|test]    install the profile (default: test)
#   scripts/install-deps.sh --list PROFILE print the profile's packages, one line
# Profiles:
#   demo: a C++ compiler and CMake (the library itself needs nothing else)
#   test: + clang with its sanitizer runtimes (libclang-rt-14-dev is only a Recommends of
#         clang, and we install without Recommends), the older/newer compilers CI also
#         builds with (g++-11, clang-16), Catch2, the benchmark anchors (Boost, moodycamel,
#         TBB), valgrind, spin (the model checker), and pkg-config and python3 (the
#         package test: a Make consumer, the Conan recipe's logic), clang-format (the
#         format check), clang-tidy and cppcheck (scripts/check-static.sh), ninja-build (the
#         presets' generator: it builds on every core, where a preset's Makefile build ran on
#         one), doxygen (the API reference, scripts/api-docs.sh), and a JDK with Debian's Java
#         HdrHistogram (the .hgrm/.hlog oracle, scripts/hdr_oracle), spdlog (bench_log's
#         anchor), and libc++ 16 (its std::format is the oracle of hft's log formatter:
#         libstdc++ 12 has no <format>), and Prometheus with promtool (Debian's prometheus)
#         and curl: scripts/prometheus_e2e.sh scrapes a running mini_oms serve with them;
#         iceoryx (its RouDi daemon, /usr/bin/iox-roudi, which bench_ipc starts and stops) and
#         libiceoryx-posh-dev (the headers and CMake package bench_ipc links): iceoryx 2.0 is
#         the shared-memory anchor hft/ipc's channels are measured against.
# scripts/check-deps.sh proves the test list from an empty package state.
set -euo pipefail

packages() {
  local pkgs=(cmake make g++)
  if [[ "$1" == "test" ]]; then
    pkgs+=(ninja-build clang libclang-rt-14-dev g++-11 clang-16 catch2 libboost-dev libconcurrentqueue-dev
           libreaderwriterqueue-dev libtbb-dev libquickfix-dev valgrind spin pkg-config python3 clang-format
           clang-tidy cppcheck doxygen default-jdk-headless libhdrhistogram-java libspdlog-dev libc++-16-dev
           libc++abi-16-dev prometheus curl iceoryx libiceoryx-posh-dev)
  elif [[ "$1" != "demo" ]]; then
    echo "install-deps.sh: unknown profile '$1' (demo or test)" >&2
    exit 2
  fi
  echo "${pkgs[@]}"
}

if [[ "${1:-}" == "--list" ]]; then
  packages "${2:-test}"
  exit 0
fi
list=$(packages "${1:-test}")  # exits on an unknown profile
read -r -a pkgs <<<"$list"
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
