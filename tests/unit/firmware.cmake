# Unit tests of the field-node firmware (firmware/), one file per module.
depot_unit_test(mb_slave_test SOURCES unit/mb_slave_test.c LIBS depot_firmware)
depot_unit_test(scale_test SOURCES unit/scale_test.c LIBS depot_firmware)
depot_unit_test(scanner_test SOURCES unit/scanner_test.c LIBS depot_firmware)
