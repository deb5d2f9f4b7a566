# Tests of ringnetd's configuration file and of the key files and key
# commands of `ringnet` (daemon/config.c, daemon/keyfile.c,
# daemon/cli_keys.c): two cmocka suites, and a shell test that drives the
# real `ringnet` binary once it exists.
if(NOT TARGET rn_daemon)
  return()
endif()

foreach(t config keyfile)
  add_executable(test_${t} ${CMAKE_CURRENT_LIST_DIR}/test_${t}.c)
  target_include_directories(test_${t} PRIVATE ${CMAKE_SOURCE_DIR}/tests/unit)
  target_link_libraries(test_${t} PRIVATE rn_daemon PkgConfig::CMOCKA)
  add_test(NAME test_${t} COMMAND test_${t})
  set_tests_properties(test_${t} PROPERTIES LABELS unit TIMEOUT 300)
endforeach()

if(TARGET ringnet)
  add_test(NAME cli_keys
    COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/cli_keys.sh $<TARGET_FILE:ringnet>)
  set_tests_properties(cli_keys PROPERTIES LABELS unit TIMEOUT 300)
endif()
