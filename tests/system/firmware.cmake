# System tests of the field-node firmware on the host board: depot-node
# against libmodbus (modbus_probe) and mbpoll, over TCP and RTU.
depot_system_test(node_interop test_node_interop.py TIMEOUT 180)
set_tests_properties(system.node_interop PROPERTIES LABELS "system;firmware")
depot_system_test(scanner_node test_scanner_node.py TIMEOUT 180)
set_tests_properties(system.scanner_node PROPERTIES LABELS "system;firmware")
# The firmware cross-compiled for a Cortex-M3 (boards/lm3s6965evb), run under
# qemu-system-arm and polled by the real gateway over Modbus RTU.
if(DEPOT_MCU_BUILT)
  depot_system_test(mcu_qemu test_mcu_qemu.py TIMEOUT 180)
  set_tests_properties(system.mcu_qemu PROPERTIES LABELS "system;firmware;mcu")
endif()
