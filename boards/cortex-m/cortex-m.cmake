# The node images of a Cortex-M board, included by boards/<board>/CMakeLists.txt
# after it set DEPOT_BOARD_SOURCES (its board.c) and DEPOT_BOARD_LDSCRIPT.
# Each image is the firmware (depot_firmware) and the common node code of
# this folder; its size is printed and checked after every link
# (size_report.py: 24 KiB of flash, 6 KiB of RAM with the stack).
set(DEPOT_CORTEX_M_DIR ${CMAKE_SOURCE_DIR}/boards/cortex-m)
# No function may need more stack than this (gcc checks every frame at compile time).
add_compile_options(-Wstack-usage=384 -fno-unwind-tables -fno-asynchronous-unwind-tables)
target_compile_options(depot_firmware PRIVATE -Wstack-usage=384)

find_package(Python3 REQUIRED COMPONENTS Interpreter)

function(depot_mcu_image name)
  cmake_parse_arguments(I "" "" "DEFINES" ${ARGN})
  add_executable(${name} ${DEPOT_BOARD_SOURCES} ${DEPOT_CORTEX_M_DIR}/startup.c
                 ${DEPOT_CORTEX_M_DIR}/node_main.c ${DEPOT_CORTEX_M_DIR}/cfg_flash.c
                 ${DEPOT_CORTEX_M_DIR}/core.c)
  target_include_directories(${name} PRIVATE ${DEPOT_CORTEX_M_DIR})
  target_compile_definitions(${name} PRIVATE ${I_DEFINES})
  target_link_libraries(${name} PRIVATE depot_firmware)
  target_link_options(${name} PRIVATE -T${DEPOT_BOARD_LDSCRIPT} -L${DEPOT_CORTEX_M_DIR}
                      -Wl,-Map=$<TARGET_FILE:${name}>.map)
  set_target_properties(${name} PROPERTIES LINK_DEPENDS
                        "${DEPOT_BOARD_LDSCRIPT};${DEPOT_CORTEX_M_DIR}/cortex-m.ld")
  add_custom_command(TARGET ${name} POST_BUILD
    COMMAND ${Python3_EXECUTABLE} ${DEPOT_CORTEX_M_DIR}/size_report.py --size ${DEPOT_ARM_SIZE}
            --board ${DEPOT_BOARD} --report ${CMAKE_BINARY_DIR}/size-${name}.txt
            $<TARGET_FILE:${name}>
    COMMAND ${DEPOT_ARM_OBJCOPY} -O binary $<TARGET_FILE:${name}>
            $<TARGET_FILE_DIR:${name}>/${name}.bin
    VERBATIM)
endfunction()

depot_mcu_image(depot-scale)
depot_mcu_image(depot-scanner DEFINES DEPOT_NODE_SCANNER)
