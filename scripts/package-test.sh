#!/usr/bin/env bash
# Proves the ways users consume hft, each building and running a small program:
#   0. every file that states the version agrees with include/hft/version.hpp, and the vcpkg
#      port's pinned REF is a commit of this repository with that version
#   1. find_package(hft MAJOR.MINOR CONFIG) against a `cmake --install` prefix (tests/package)
#   2. add_subdirectory(hft)                                               (tests/package)
#   3. FetchContent from this git checkout at HEAD                         (tests/package)
#   4. pkg-config: a plain Makefile against the installed hft.pc           (tests/package/Makefile)
#   5. Conan's test_package/ built against the same prefix with plain CMake, and the recipe's
#      own logic (set_version, validate) run against a stand-in for conan
#   6. version requests the package must refuse: the next major, and (at 0.x, where
#      SameMinorVersion holds) another minor
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$root/build/package"
rm -rf "$work"
mkdir -p "$work"
jobs="-j${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}"

ver() { sed -n "s/^#define HFT_VERSION_$1 \([0-9]*\)$/\1/p" "$root/include/hft/version.hpp"; }
major=$(ver MAJOR) minor=$(ver MINOR) patch=$(ver PATCH)
version="$major.$minor.$patch"

echo "== package: every file that states the version agrees with include/hft/version.hpp ($version)"
json_version() { sed -n 's/^ *"version": "\([^"]*\)",*$/\1/p' "$1"; }
for f in vcpkg.json ports/hft/vcpkg.json; do
  v="$(json_version "$root/$f")"
  [[ "$v" == "$version" ]] || { echo "error: $f says version $v, version.hpp $version" >&2; exit 1; }
done
grep -q "^## \[$version\]" "$root/CHANGELOG.md" || { echo "error: CHANGELOG.md has no '## [$version]' entry" >&2; exit 1; }
# The vcpkg port builds a pinned commit: it must exist here and carry this version.
port_ref="$(sed -n 's/^ *REF \([0-9a-f]\{40\}\).*/\1/p' "$root/ports/hft/portfile.cmake")"
if [[ -z "$port_ref" ]]; then
  echo "error: ports/hft/portfile.cmake pins no 40-hex REF" >&2; exit 1
elif ! git -C "$root" rev-parse --git-dir >/dev/null 2>&1; then
  echo "   (not a git checkout: the vcpkg port's REF $port_ref cannot be checked here)"
elif git -C "$root" cat-file -e "$port_ref^{commit}" 2>/dev/null; then
  ref_version="$(git -C "$root" show "$port_ref:include/hft/version.hpp" |
    sed -n 's/^#define HFT_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\)$/\2/p' | paste -sd.)"
  [[ "$ref_version" == "$version" ]] ||
    { echo "error: the vcpkg port's REF $port_ref is hft $ref_version, not $version" >&2; exit 1; }
elif [[ "$(git -C "$root" rev-parse --is-shallow-repository 2>/dev/null)" == "true" ]]; then
  echo "   (shallow clone: the vcpkg port's REF $port_ref cannot be checked here)"
else
  echo "error: the vcpkg port's REF $port_ref is not a commit of this repository" >&2; exit 1
fi

echo "== package: configure + install hft $version into $work/prefix"
cmake -S "$root" -B "$work/hft" -DHFT_BUILD_TESTS=OFF -DHFT_BUILD_BENCHMARKS=OFF \
      -DHFT_BUILD_EXAMPLES=OFF -DHFT_INSTALL=ON >/dev/null
cmake --install "$work/hft" --prefix "$work/prefix" >/dev/null
for f in include/hft/hft.hpp include/hft/version.hpp share/hft/hftConfig.cmake \
         share/hft/hftConfigVersion.cmake share/pkgconfig/hft.pc share/doc/hft/LICENSE; do
  test -f "$work/prefix/$f" || { echo "error: the install lacks $f" >&2; exit 1; }
done

echo "== package: find_package(hft $major.$minor) consumer"
cmake -S "$root/tests/package" -B "$work/find" -DHFT_CONSUME=find_package \
      -DHFT_REQUEST_VERSION="$major.$minor" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/find" "$jobs" >/dev/null
"$work/find/consumer"

echo "== package: add_subdirectory(hft) consumer"
cmake -S "$root/tests/package" -B "$work/subdir" -DHFT_CONSUME=subdirectory >/dev/null
cmake --build "$work/subdir" "$jobs" >/dev/null
"$work/subdir/consumer"

echo "== package: FetchContent consumer"
if [[ -z "${HFT_PACKAGE_TEST_WORKTREE:-}" ]] && git -C "$root" rev-parse --verify -q HEAD >/dev/null; then
  # From the repository at HEAD, as a user's GIT_REPOSITORY/GIT_TAG would (committed code only).
  fetch_args=(-DHFT_GIT_REPOSITORY="$root" -DHFT_GIT_TAG="$(git -C "$root" rev-parse HEAD)")
else
  # A source tarball (no history to fetch from), or HFT_PACKAGE_TEST_WORKTREE=1: the
  # uncommitted tree, for trying a change to the build before committing it.
  fetch_args=(-DHFT_SOURCE_DIR="$root")
fi
cmake -S "$root/tests/package" -B "$work/fetch" -DHFT_CONSUME=fetchcontent "${fetch_args[@]}" >/dev/null
cmake --build "$work/fetch" "$jobs" >/dev/null
"$work/fetch/consumer"

echo "== package: pkg-config consumer (Makefile)"
export PKG_CONFIG_PATH="$work/prefix/share/pkgconfig"
pc_version="$(pkg-config --modversion hft)"
[[ "$pc_version" == "$version" ]] || { echo "error: hft.pc says $pc_version, version.hpp $version" >&2; exit 1; }
mkdir -p "$work/make"
make -s -f "$root/tests/package/Makefile" OUT="$work/make" >/dev/null
"$work/make/consumer"
unset PKG_CONFIG_PATH

echo "== package: Conan test_package/ (plain CMake against the installed prefix)"
cmake -S "$root/test_package" -B "$work/conan_test_package" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/conan_test_package" "$jobs" >/dev/null
"$work/conan_test_package/test_package"

echo "== package: the Conan recipe's set_version() and validate() (a stand-in for conan; see the script)"
python3 "$root/tests/package/conan_recipe_test.py" >"$work/conan_recipe_test.log" ||
  { cat "$work/conan_recipe_test.log" >&2; exit 1; }
tail -1 "$work/conan_recipe_test.log"

# A request the installed version must refuse. Returns 0 if CMake refused it, for that reason.
refuses() {
  local request="$1" dir="$work/refuse-$1"
  mkdir -p "$dir"
  printf 'cmake_minimum_required(VERSION 3.21)\nproject(r LANGUAGES CXX)\nfind_package(hft %s CONFIG REQUIRED)\n' \
    "$request" >"$dir/CMakeLists.txt"
  ! cmake -S "$dir" -B "$dir/build" -DCMAKE_PREFIX_PATH="$work/prefix" >"$dir/log" 2>&1 &&
    grep -q "with requested version" "$dir/log"
}
echo "== package: version requests hft $version must refuse"
next_major="$((major + 1)).0"
refuses "$next_major" || { echo "error: find_package(hft $next_major) accepted hft $version" >&2; exit 1; }
if ((major == 0)); then
  # SameMinorVersion: 0.(MINOR-1) may have had an API this release dropped.
  if ((minor > 0)); then
    older="0.$((minor - 1))"
    refuses "$older" || { echo "error: find_package(hft $older) accepted hft $version (SameMinorVersion)" >&2; exit 1; }
  fi
  newer="0.$((minor + 1))"
  refuses "$newer" || { echo "error: find_package(hft $newer) accepted hft $version" >&2; exit 1; }
fi
echo "package consumers: all OK"
