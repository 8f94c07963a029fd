# Unit tests of the gateway's modules (gateway/), cmocka.
set(GW_TEST_DIR ${CMAKE_CURRENT_LIST_DIR})
depot_unit_test(gw_config_test SOURCES ${GW_TEST_DIR}/gw_config_test.c LIBS depot_gateway_core)
depot_unit_test(gw_count_test SOURCES ${GW_TEST_DIR}/gw_count_test.c LIBS depot_gateway_core)
depot_unit_test(gw_ledger_test SOURCES ${GW_TEST_DIR}/gw_ledger_test.c LIBS depot_gateway_core)
depot_unit_test(gw_busplan_test SOURCES ${GW_TEST_DIR}/gw_busplan_test.c LIBS depot_gateway_core)
depot_unit_test(gw_scanner_test SOURCES ${GW_TEST_DIR}/gw_scanner_test.c
  LIBS depot_gateway_core depot_pki PkgConfig::SQLITE)
