# Overlay port that installs hft from this checkout (no download):
#   vcpkg install hft --overlay-ports=<hft>/ports
set(VCPKG_BUILD_TYPE release)  # header-only: one configuration is enough
get_filename_component(SOURCE_PATH "${CMAKE_CURRENT_LIST_DIR}/../.." ABSOLUTE)

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

file(REMOVE_RECURSE "${CURRENT_PACKAGES_DIR}/lib" "${CURRENT_PACKAGES_DIR}/debug")
file(INSTALL "${CMAKE_CURRENT_LIST_DIR}/usage" DESTINATION "${CURRENT_PACKAGES_DIR}/share/${PORT}")
vcpkg_install_copyright(FILE_LIST "${SOURCE_PATH}/LICENSE")
