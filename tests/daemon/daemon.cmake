# Tests of ringnetd as a program (daemon/daemon*.c, daemon/uvenv.c, the two
# mains): real processes on 127.0.0.1 only, driven by shell scripts that
# share tests/daemon/lib.sh. Label `daemon`; badconf is quick and also
# `unit`. The binaries are passed as arguments.
#
#   badconf  bad configurations, command lines and reloads
#   ring12   twelve daemons form, repair and leave a ring
#   refuse   non-members are refused: another group's daemon, bad
#            certificates at start
#   replay   replayed and bit-flipped DATA through a UDP relay
#            (udp_relay.py) are counted and dropped
#   dht      five daemons: ringnet dht put/create/get/remove and
#            ringnet resolve across them
#   lease    range members claim distinct addresses through the DHT,
#            keep them across a restart, and one finds none in a full range
if(NOT (TARGET ringnetd AND TARGET ringnet))
  return()
endif()

foreach(t badconf ring12 refuse replay dht lease)
  add_test(NAME daemon_${t}
    COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/${t}.sh
      $<TARGET_FILE:ringnetd> $<TARGET_FILE:ringnet>)
  set_tests_properties(daemon_${t} PROPERTIES TIMEOUT 300 LABELS daemon)
endforeach()
set_tests_properties(daemon_badconf PROPERTIES LABELS "daemon;unit")
