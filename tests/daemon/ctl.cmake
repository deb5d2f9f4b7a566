# Tests of the control socket (daemon/ctl.c server, daemon/ctl_client.c
# client: a real Unix socket and a real libuv loop, the client on a thread)
# and of the status commands' formatters (daemon/cli_status.c).
if(NOT TARGET rn_daemon)
  return()
endif()
find_package(Threads REQUIRED)

foreach(t ctl cli_status)
  add_executable(test_${t} ${CMAKE_CURRENT_LIST_DIR}/test_${t}.c)
  target_link_libraries(test_${t} PRIVATE rn_daemon PkgConfig::CMOCKA
    Threads::Threads)
  add_test(NAME test_${t} COMMAND test_${t})
  set_tests_properties(test_${t} PROPERTIES LABELS unit TIMEOUT 300)
endforeach()
