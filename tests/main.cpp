// Catch2 2.x main, compiled once per build and linked into every test binary.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
