# Builds the telemetry unit tests in a separate tree with ThreadSanitizer and runs them.
# Invoked by the CTest test "telemetry_tsan":
#   cmake -DSOURCE_DIR=<repo> -DBINARY_DIR=<tsan build dir> -P run_tsan.cmake
# Only the telemetry test targets are built (the first run takes minutes: gRPC code and
# the whole telemetry library are compiled again with -fsanitize=thread).
if(NOT SOURCE_DIR OR NOT BINARY_DIR)
  message(FATAL_ERROR "run_tsan.cmake needs -DSOURCE_DIR=... -DBINARY_DIR=...")
endif()

execute_process(
  COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${BINARY_DIR} -DLANTERN_SANITIZE=thread
          -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLANTERN_NATIVE=OFF
  RESULT_VARIABLE configure_result)
if(NOT configure_result EQUAL 0)
  message(FATAL_ERROR "configuring the TSan tree failed")
endif()

file(GLOB tests RELATIVE ${SOURCE_DIR}/tests/unit/telemetry
     ${SOURCE_DIR}/tests/unit/telemetry/*_test.cc)
set(targets)
foreach(test IN LISTS tests)
  string(REGEX REPLACE "\\.cc$" "" name ${test})
  list(APPEND targets telemetry_${name})
endforeach()

include(ProcessorCount)
ProcessorCount(jobs)
execute_process(
  COMMAND ${CMAKE_COMMAND} --build ${BINARY_DIR} -j ${jobs} --target ${targets}
  RESULT_VARIABLE build_result)
if(NOT build_result EQUAL 0)
  message(FATAL_ERROR "building the telemetry tests with TSan failed")
endif()

# The GoogleTest cases of tests/unit/telemetry are named "telemetry.<Suite>.<Test>".
# halt_on_error makes any data race fail the test that found it.
set(ENV{TSAN_OPTIONS} "halt_on_error=1 second_deadlock_stack=1")
execute_process(
  COMMAND ${CMAKE_CTEST_COMMAND} --test-dir ${BINARY_DIR} -R "^telemetry\\."
          --output-on-failure
  RESULT_VARIABLE test_result)
if(NOT test_result EQUAL 0)
  message(FATAL_ERROR "telemetry tests failed under ThreadSanitizer")
endif()
