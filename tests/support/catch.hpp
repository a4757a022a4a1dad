// Include shim: Debian ships Catch2 2.13 (catch2/catch.hpp); Catch2 3 splits its headers.
#pragma once
#if __has_include(<catch2/catch_test_macros.hpp>)
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#else
#include <catch2/catch.hpp>
#endif
