#!/usr/bin/env bash
# Proves that scripts/install-deps.sh's test list is enough on a fresh Debian machine,
# where nothing but the list (and what it depends on, without Recommends) is installed:
#   1. `apt-get install --simulate` of exactly the list against an empty package state
#      resolves, and the packages it would install own the sanitizer runtimes that
#      clang++ links (libclang_rt.asan/ubsan/tsan/fuzzer: the files a Recommends used to
#      bring);
#   2. one ASan+UBSan and one TSan binary link and run.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

read -r -a pkgs <<<"$(bash "$root/scripts/install-deps.sh" --list test)"
: >"$work/status"  # an empty dpkg status: apt believes nothing is installed
apt-get install --simulate --no-install-recommends -o Dir::State::status="$work/status" \
  "${pkgs[@]}" >"$work/simulate.txt" 2>"$work/simulate.err" || {
  cat "$work/simulate.err" >&2
  echo "check-deps: the test list does not resolve from an empty package state" >&2
  exit 1
}
awk '/^Inst /{print $2}' "$work/simulate.txt" | sort -u >"$work/installed.txt"
echo "check-deps: from an empty state the test list installs $(wc -l <"$work/installed.txt") packages"

runtime_dir="$(clang++ --print-runtime-dir)"
for rt in asan ubsan_standalone tsan fuzzer; do
  file="$runtime_dir/libclang_rt.$rt-x86_64.a"
  owner="$(dpkg-query -S "$file" 2>/dev/null | cut -d: -f1 || true)"
  if [[ -z "$owner" ]]; then
    echo "check-deps: no package owns $file (clang++ cannot link -fsanitize)" >&2
    exit 1
  fi
  if ! grep -qx "$owner" "$work/installed.txt"; then
    echo "check-deps: $file comes from $owner, which the test list does not install" >&2
    exit 1
  fi
  echo "check-deps: $(basename "$file") <- $owner (in the list's closure)"
done

# The analyzers scripts/check-static.sh runs, by the files it calls.
for tool in /usr/bin/clang-tidy /usr/bin/run-clang-tidy /usr/bin/cppcheck; do
  owner="$(dpkg-query -S "$tool" 2>/dev/null | cut -d: -f1 || true)"
  if [[ -z "$owner" ]] || ! grep -qx "$owner" "$work/installed.txt"; then
    echo "check-deps: $tool comes from '${owner:-no package}', which the test list does not install" >&2
    exit 1
  fi
done
echo "check-deps: clang-tidy, run-clang-tidy and cppcheck are in the list's closure"

# The tools scripts/prometheus_e2e.sh runs (Prometheus, promtool, curl), by the files it calls.
for tool in /usr/bin/prometheus /usr/bin/promtool /usr/bin/curl; do
  owner="$(dpkg-query -S "$tool" 2>/dev/null | cut -d: -f1 || true)"
  if [[ -z "$owner" ]] || ! grep -qx "$owner" "$work/installed.txt"; then
    echo "check-deps: $tool comes from '${owner:-no package}', which the test list does not install" >&2
    exit 1
  fi
done
echo "check-deps: prometheus, promtool and curl are in the list's closure"

# The daemon bench_ipc starts (RouDi) and the CMake package it links (iceoryx_posh), by file.
for file in /usr/bin/iox-roudi /usr/lib/x86_64-linux-gnu/cmake/iceoryx_posh/iceoryx_poshConfig.cmake; do
  owner="$(dpkg-query -S "$file" 2>/dev/null | cut -d: -f1 || true)"
  if [[ -z "$owner" ]] || ! grep -qx "$owner" "$work/installed.txt"; then
    echo "check-deps: $file comes from '${owner:-no package}', which the test list does not install" >&2
    exit 1
  fi
done
echo "check-deps: iox-roudi and the iceoryx_posh CMake package are in the list's closure"

cat >"$work/t.cpp" <<'CPP'
#include <atomic>
#include <thread>
#include <vector>
int main() {
  std::atomic<int> n{0};
  std::vector<int> v(8, 1);
  std::thread t([&] { n.fetch_add(v[7]); });
  t.join();
  return n.load() == 1 ? 0 : 1;
}
CPP
clang++ -std=c++20 -fsanitize=address,undefined -o "$work/asan" "$work/t.cpp" -pthread
clang++ -std=c++20 -fsanitize=thread -o "$work/tsan" "$work/t.cpp" -pthread
"$work/asan"
"$work/tsan"
echo "check-deps: an ASan+UBSan and a TSan binary linked and ran"
