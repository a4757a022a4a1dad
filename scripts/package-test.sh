#!/usr/bin/env bash
# Proves the three ways users consume hft, each building and running a small program:
#   1. find_package(hft CONFIG) against a `cmake --install` prefix (tests/package)
#   2. add_subdirectory(hft)                                          (tests/package)
#   3. Conan's test_package/ built against the same prefix with plain CMake
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$root/build/package"
rm -rf "$work"
mkdir -p "$work"

echo "== package: configure + install hft into $work/prefix"
cmake -S "$root" -B "$work/hft" -DHFT_BUILD_TESTS=OFF -DHFT_BUILD_BENCHMARKS=OFF \
      -DHFT_BUILD_EXAMPLES=OFF -DHFT_INSTALL=ON >/dev/null
cmake --install "$work/hft" --prefix "$work/prefix" >/dev/null
test -f "$work/prefix/include/hft/hft.hpp"
test -f "$work/prefix/share/hft/hftConfig.cmake"
test -f "$work/prefix/share/hft/hftConfigVersion.cmake"

echo "== package: find_package(hft) consumer"
cmake -S "$root/tests/package" -B "$work/find" -DHFT_CONSUME=find_package \
      -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/find" -j2 >/dev/null
"$work/find/consumer"

echo "== package: add_subdirectory(hft) consumer"
cmake -S "$root/tests/package" -B "$work/subdir" -DHFT_CONSUME=subdirectory >/dev/null
cmake --build "$work/subdir" -j2 >/dev/null
"$work/subdir/consumer"

echo "== package: Conan test_package/ (plain CMake against the installed prefix)"
cmake -S "$root/test_package" -B "$work/conan_test_package" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/conan_test_package" -j2 >/dev/null
"$work/conan_test_package/test_package"

echo "== package: a version request hft cannot satisfy must fail (SameMajorVersion)"
mkdir -p "$work/badver"
cat > "$work/badver/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.21)
project(badver LANGUAGES CXX)
find_package(hft 1.0 CONFIG REQUIRED)
CM
if cmake -S "$work/badver" -B "$work/badver/build" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null 2>&1; then
  echo "error: find_package(hft 1.0) accepted hft 0.1.0" >&2
  exit 1
fi
echo "package consumers: all OK"
