# Tests of ringnetd as a program (daemon/daemon.c, daemon/uvenv.c, the two
# mains): real processes on 127.0.0.1 only, driven by shell scripts that
# share tests/daemon/lib.sh. Label `daemon`; badconf is quick and also
# `unit`. The binaries are passed as arguments.
if(NOT (TARGET ringnetd AND TARGET ringnet))
  return()
endif()

foreach(t badconf ring12)
  add_test(NAME daemon_${t}
    COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/${t}.sh
      $<TARGET_FILE:ringnetd> $<TARGET_FILE:ringnet>)
  set_tests_properties(daemon_${t} PROPERTIES TIMEOUT 300)
endforeach()
set_tests_properties(daemon_badconf PROPERTIES LABELS "daemon;unit")
set_tests_properties(daemon_ring12 PROPERTIES LABELS daemon)
