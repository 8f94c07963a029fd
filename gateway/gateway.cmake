# depot-gateway: the warehouse daemon. The modules are a static library so the
# unit tests link exactly what the program runs.
add_library(depot_gateway_core STATIC
  ${CMAKE_CURRENT_LIST_DIR}/config.c
  ${CMAKE_CURRENT_LIST_DIR}/busplan.c
  ${CMAKE_CURRENT_LIST_DIR}/backoff.c
  ${CMAKE_CURRENT_LIST_DIR}/count.c
  ${CMAKE_CURRENT_LIST_DIR}/ledger.c
  ${CMAKE_CURRENT_LIST_DIR}/poller.c
  ${CMAKE_CURRENT_LIST_DIR}/uplink.c
  ${CMAKE_CURRENT_LIST_DIR}/display.c
  ${CMAKE_CURRENT_LIST_DIR}/catalog.c
  ${CMAKE_CURRENT_LIST_DIR}/orders.c
  ${CMAKE_CURRENT_LIST_DIR}/terminal.c
  ${CMAKE_CURRENT_LIST_DIR}/movements.c
  ${CMAKE_CURRENT_LIST_DIR}/downlink.c
  ${CMAKE_CURRENT_LIST_DIR}/metrics.c
)
target_include_directories(depot_gateway_core PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(depot_gateway_core PUBLIC
  depot_common depot_pki PkgConfig::INIH PkgConfig::MODBUS PkgConfig::MOSQUITTO PkgConfig::SQLITE
  Threads::Threads m)

# keygen.c (the key and CSR made on the gateway) is a subcommand of main.c.
add_executable(depot-gateway ${CMAKE_CURRENT_LIST_DIR}/main.c ${CMAKE_CURRENT_LIST_DIR}/keygen.c)
target_link_libraries(depot-gateway PRIVATE depot_gateway_core PkgConfig::SYSTEMD)
