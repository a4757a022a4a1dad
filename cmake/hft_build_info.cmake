# What every result file says about the build that produced it (harness.hpp writes them):
# the commit HEAD was at when CMake configured this build tree, and the build type with
# its flags.
execute_process(COMMAND git rev-parse --short=12 HEAD WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
                OUTPUT_VARIABLE HFT_BENCH_COMMIT OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET
                RESULT_VARIABLE hft_bench_git_rc)
if(NOT hft_bench_git_rc EQUAL 0 OR HFT_BENCH_COMMIT STREQUAL "")
  set(HFT_BENCH_COMMIT "unknown")
endif()
set(hft_bench_flags "${CMAKE_CXX_FLAGS}")
if(CMAKE_BUILD_TYPE)
  string(TOUPPER "${CMAKE_BUILD_TYPE}" hft_bench_bt)
  string(APPEND hft_bench_flags " ${CMAKE_CXX_FLAGS_${hft_bench_bt}}")
endif()
string(REGEX REPLACE " +" " " hft_bench_flags "${hft_bench_flags}")
string(STRIP "${hft_bench_flags}" hft_bench_flags)
if(CMAKE_BUILD_TYPE)
  set(HFT_BENCH_BUILD_TYPE "${CMAKE_BUILD_TYPE}: ${hft_bench_flags}")
else()
  set(HFT_BENCH_BUILD_TYPE "(no build type): ${hft_bench_flags}")
endif()
