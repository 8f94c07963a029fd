# Unit tests of the hub (cloud/hub_*.c); the store tests use real SQLite files in temp folders.
foreach(t hub_store hub_config hub_auth hub_accept hub_stale hub_ingest hub_orders hub_rank hub_alerts)
  depot_unit_test(${t}_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/${t}_test.c LIBS hub_core)
endforeach()

# order_sign (tests/system/order_sign.c): prints a signed up/order payload for
# system tests that publish orders by hand, genuine or forged on purpose.
add_executable(order_sign ${CMAKE_SOURCE_DIR}/tests/system/order_sign.c)
target_link_libraries(order_sign PRIVATE depot_pki depot_common)
set_target_properties(order_sign PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
