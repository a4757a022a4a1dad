// hft/version.hpp: the library's version.
// What: the one place the version is written down.
// CMakeLists.txt and conanfile.py read the three macros below with a regular expression,
// so keep each on one line of the form `#define HFT_VERSION_X N`.
// When to use: feature tests in code (`#if HFT_VERSION >= 200`) and reports (the constants).
// Compatibility (CHANGELOG.md): while the major version is 0, a minor release may break the
// API, so the CMake package accepts a request only from the same 0.MINOR series.
// Thread-safety: compile-time constants only.
#pragma once

#define HFT_VERSION_MAJOR 0
#define HFT_VERSION_MINOR 2
#define HFT_VERSION_PATCH 0

#define HFT_VERSION_STR_(x) #x
#define HFT_VERSION_XSTR_(x) HFT_VERSION_STR_(x)

/// MAJOR * 10000 + MINOR * 100 + PATCH, for preprocessor comparisons.
#define HFT_VERSION (HFT_VERSION_MAJOR * 10000 + HFT_VERSION_MINOR * 100 + HFT_VERSION_PATCH)

namespace hft {
/// The MAJOR part of the version of the headers in use.
inline constexpr int version_major = HFT_VERSION_MAJOR;
/// The MINOR part of the version of the headers in use.
inline constexpr int version_minor = HFT_VERSION_MINOR;
/// The PATCH part of the version of the headers in use.
inline constexpr int version_patch = HFT_VERSION_PATCH;
/// "MAJOR.MINOR.PATCH".
inline constexpr const char* version_string = HFT_VERSION_XSTR_(HFT_VERSION_MAJOR) "." HFT_VERSION_XSTR_(
    HFT_VERSION_MINOR) "." HFT_VERSION_XSTR_(HFT_VERSION_PATCH);
}  // namespace hft
