# Unit tests of the gateway's modules (gateway/), cmocka.
set(GW_TEST_DIR ${CMAKE_CURRENT_LIST_DIR})
depot_unit_test(gw_config_test SOURCES ${GW_TEST_DIR}/gw_config_test.c LIBS depot_gateway_core)
depot_unit_test(gw_count_test SOURCES ${GW_TEST_DIR}/gw_count_test.c LIBS depot_gateway_core)
depot_unit_test(gw_ledger_test SOURCES ${GW_TEST_DIR}/gw_ledger_test.c LIBS depot_gateway_core)
depot_unit_test(gw_busplan_test SOURCES ${GW_TEST_DIR}/gw_busplan_test.c LIBS depot_gateway_core)
depot_unit_test(gw_terminal_test SOURCES ${GW_TEST_DIR}/gw_terminal_test.c
  LIBS depot_gateway_core depot_pki PkgConfig::SQLITE)
depot_unit_test(gw_movements_test SOURCES ${GW_TEST_DIR}/gw_movements_test.c
  LIBS depot_gateway_core PkgConfig::SQLITE)
depot_unit_test(gw_downlink_test SOURCES ${GW_TEST_DIR}/gw_downlink_test.c
  LIBS depot_gateway_core PkgConfig::SQLITE)
depot_unit_test(gw_metrics_test SOURCES ${GW_TEST_DIR}/gw_metrics_test.c
  LIBS depot_gateway_core PkgConfig::SQLITE)
