# depotctl: the manufacturer's admin CLI (certificate authority, broker config).
add_executable(depotctl
  depotctl.c
  ctl_pki.c
  ctl_broker.c
  ctl_stock.c
  ctl_http.c
  ctl_api.c
  ctl_catalog.c
  ctl_dealers.c
  ctl_orders.c
  ctl_alerts.c
  ctl_ranking.c
)
target_link_libraries(depotctl PRIVATE depot_pki depot_common hub_money PkgConfig::CJSON m)
