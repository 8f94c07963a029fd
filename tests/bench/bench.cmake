# Benchmarks: C helpers built into ${CMAKE_BINARY_DIR}/tests and
# Python orchestrators that print figures (never pass/fail). Full-size runs
# are by hand (tests/bench/README.md); ctest only runs bench.smoke, a tiny
# run of every orchestrator that proves the programs work.

# depot_bench_program(NAME LIBS lib...): tests/bench/NAME.c -> <build>/tests/NAME.
function(depot_bench_program name)
  cmake_parse_arguments(B "" "" "LIBS" ${ARGN})
  add_executable(${name} ${CMAKE_CURRENT_LIST_DIR}/${name}.c)
  target_link_libraries(${name} PRIVATE ${B_LIBS})
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
endfunction()

depot_bench_program(modbus_bare_loop LIBS PkgConfig::MODBUS Threads::Threads)
depot_bench_program(http_load)
depot_bench_program(mqtt_flood LIBS depot_common PkgConfig::MOSQUITTO)
depot_bench_program(mqtt_sink LIBS PkgConfig::MOSQUITTO)
depot_bench_program(dealer_load LIBS depot_common depot_pki PkgConfig::MOSQUITTO PkgConfig::CJSON)
depot_bench_program(policy_fanout LIBS depot_common PkgConfig::MOSQUITTO)
depot_bench_program(ecdsa_verify_rate LIBS depot_pki Threads::Threads)
depot_bench_program(order_flood LIBS depot_pki PkgConfig::MOSQUITTO)
depot_bench_program(bench_alerts LIBS hub_core)
depot_bench_program(bench_ranking LIBS hub_core)
depot_bench_program(bench_login LIBS hub_core)
depot_bench_program(bench_ledger LIBS depot_gateway_core)
depot_bench_program(bench_chain LIBS hub_core)

add_test(NAME bench.smoke
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/bench_smoke.py)
set_tests_properties(bench.smoke PROPERTIES TIMEOUT 400 LABELS bench RUN_SERIAL TRUE
  ENVIRONMENT "DEPOT_BIN=${CMAKE_BINARY_DIR}/bin;DEPOT_TESTBIN=${CMAKE_BINARY_DIR}/tests;DEPOT_SRC=${CMAKE_SOURCE_DIR}")
