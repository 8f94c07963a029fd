# Unit tests of the hub (cloud/hub_*.c); the store tests use real SQLite files in temp folders.
foreach(t hub_store hub_config hub_auth hub_accept hub_stale hub_ingest)
  depot_unit_test(${t}_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/${t}_test.c LIBS hub_core)
endforeach()
