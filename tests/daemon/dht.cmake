# Unit tests of the daemon's DHT parts that need no daemon: the resolution
# cache (daemon/resolve_cache.c) and the printing and argument checks of
# `ringnet dht` and `ringnet resolve` (daemon/cli_dht.c). The end-to-end
# test, dht.sh, is registered with the other daemon tests (daemon.cmake).
if(NOT TARGET rn_daemon)
  return()
endif()

add_executable(test_resolve_cache ${CMAKE_CURRENT_LIST_DIR}/test_resolve_cache.c)
target_link_libraries(test_resolve_cache PRIVATE rn_daemon PkgConfig::CMOCKA)
add_test(NAME test_resolve_cache COMMAND test_resolve_cache)
set_tests_properties(test_resolve_cache PROPERTIES LABELS unit TIMEOUT 300)
