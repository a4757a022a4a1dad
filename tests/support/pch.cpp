// The translation unit that owns the test binaries' precompiled Catch2 header
// (tests/CMakeLists.txt, hft_test_pch): it defines nothing.
