# PKI on mbedTLS: keys, CSRs, the CA, issuing, signatures (common/pki*.c).
depot_unit_test(pki_test SOURCES unit/pki_test.c LIBS depot_pki)
# The one rule for dealer ids (common/id.c), which every CN we issue follows.
depot_unit_test(id_test SOURCES unit/id_test.c LIBS depot_pki)

# The gateway's keygen subcommand behind a tiny driver, for the system tests
# to use until depot-gateway itself exists.
add_executable(gw_keygen_driver unit/gw_keygen_driver.c ${CMAKE_SOURCE_DIR}/gateway/keygen.c)
target_include_directories(gw_keygen_driver PRIVATE ${CMAKE_SOURCE_DIR}/gateway)
target_link_libraries(gw_keygen_driver PRIVATE depot_pki depot_common)
set_target_properties(gw_keygen_driver PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
