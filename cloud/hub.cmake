# depot-hub: the central service. hub_core is everything but main(), so the
# unit tests link the same objects the program runs.
add_library(hub_core STATIC
  hub_config.c
  hub_auth.c
  hub_accept.c
  hub_stale.c
  hub_metrics.c
  hub_store.c
  hub_store_sqlite.c
  hub_store_sqlite_util.c
  hub_ingest.c
  hub_mqtt.c
  hub_api.c
  hub_api_orders.c
  hub_api_catalog.c
  hub_static.c
  hub_orders.c
  hub_approval.c
  hub_downlink.c
  hub_store_sqlite_orders.c
  hub_rank.c
  hub_ranking.c
  hub_api_ranking.c
  hub_store_ranking.c
  hub_store_sqlite_ranking.c
  hub_store_alerts.c
  hub_store_sqlite_alerts.c
  hub_alerts.c
  hub_api_alerts.c
)
# Decimal money <-> cents, shared by the hub and depotctl.
add_library(hub_money STATIC hub_money.c)
target_include_directories(hub_money PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
target_link_libraries(hub_money PUBLIC m)
target_include_directories(hub_core PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
target_link_libraries(hub_core PUBLIC depot_common depot_pki hub_money PkgConfig::MOSQUITTO PkgConfig::SQLITE
  PkgConfig::CJSON PkgConfig::INIH PkgConfig::MHD Threads::Threads m)

add_executable(depot-hub hub_main.c)
target_link_libraries(depot-hub PRIVATE hub_core)
