# vcpkg port of hft: a pinned revision, fetched with git (vcpkg's binary cache keys on this
# file, so a new revision is a new REF here, never stale headers served from the cache).
#   vcpkg install hft --overlay-ports=<hft>/ports          the pinned REF
#   vcpkg install hft --overlay-ports=<hft>/ports --head   HEAD_REF, never binary-cached
# URL: the repository this port sits in (an overlay from a checkout). A registry copy of
# the port replaces it with the public repository's URL; nothing else changes.
get_filename_component(HFT_REPOSITORY "${CMAKE_CURRENT_LIST_DIR}/../.." ABSOLUTE)
vcpkg_from_git(
  OUT_SOURCE_PATH SOURCE_PATH
  URL "${HFT_REPOSITORY}"
  REF b2cfa57db78e98ac32584777bc36144b2de5b962  # hft 0.2.0 (docs/packaging.md, Releasing)
  HEAD_REF main
)

set(VCPKG_BUILD_TYPE release)  # header-only: one configuration is enough
vcpkg_cmake_configure(
  SOURCE_PATH "${SOURCE_PATH}"
  OPTIONS
    -DHFT_BUILD_TESTS=OFF
    -DHFT_BUILD_BENCHMARKS=OFF
    -DHFT_BUILD_EXAMPLES=OFF
    -DHFT_INSTALL=ON
)
vcpkg_cmake_install()
vcpkg_cmake_config_fixup(PACKAGE_NAME hft CONFIG_PATH share/hft)
vcpkg_fixup_pkgconfig()

file(REMOVE_RECURSE "${CURRENT_PACKAGES_DIR}/lib" "${CURRENT_PACKAGES_DIR}/debug")
file(INSTALL "${CMAKE_CURRENT_LIST_DIR}/usage" DESTINATION "${CURRENT_PACKAGES_DIR}/share/${PORT}")
vcpkg_install_copyright(FILE_LIST "${SOURCE_PATH}/LICENSE")
