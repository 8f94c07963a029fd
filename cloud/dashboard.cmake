# The dashboard (cloud/dashboard/: plain HTML, CSS and JavaScript, no build
# step). Copied into <build>/share/depot/dashboard, where <build>/bin/depot-hub
# looks by default (<exe dir>/../share/depot/dashboard), and installed into
# <prefix>/share/depot/dashboard for an installed depot-hub.
file(GLOB DEPOT_DASHBOARD_FILES CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/dashboard/*)
set(DEPOT_DASHBOARD_OUT ${CMAKE_BINARY_DIR}/share/depot/dashboard)
set(DEPOT_DASHBOARD_COPIES "")
foreach(f ${DEPOT_DASHBOARD_FILES})
  get_filename_component(n ${f} NAME)
  add_custom_command(OUTPUT ${DEPOT_DASHBOARD_OUT}/${n}
    COMMAND ${CMAKE_COMMAND} -E copy_if_different ${f} ${DEPOT_DASHBOARD_OUT}/${n}
    DEPENDS ${f}
    COMMENT "dashboard: ${n}")
  list(APPEND DEPOT_DASHBOARD_COPIES ${DEPOT_DASHBOARD_OUT}/${n})
endforeach()
add_custom_target(depot-dashboard ALL DEPENDS ${DEPOT_DASHBOARD_COPIES})
add_dependencies(depot-hub depot-dashboard)
install(FILES ${DEPOT_DASHBOARD_FILES} DESTINATION share/depot/dashboard)
