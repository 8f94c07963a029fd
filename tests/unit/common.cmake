depot_unit_test(msg_test SOURCES unit/msg_test.c LIBS depot_common)
depot_unit_test(alloc_test SOURCES unit/alloc_test.c LIBS depot_common)
depot_unit_test(money_test SOURCES unit/money_test.c LIBS depot_common)
