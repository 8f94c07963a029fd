# From the host build: each microcontroller board of DEPOT_MCU_BOARD_LIST as a
# cross-compiled build of this same tree (ExternalProject), rebuilt with the
# host build, into ${CMAKE_BINARY_DIR}/boards/<board>. Its images are
# boards/<board>/bin/depot-{scale,scanner}.elf there, and their size reports
# boards/<board>/size-depot-{scale,scanner}.txt.
find_program(DEPOT_ARM_GCC arm-none-eabi-gcc)
if(NOT DEPOT_ARM_GCC)
  message(FATAL_ERROR "The microcontroller boards need arm-none-eabi-gcc: apt-get install "
                      "gcc-arm-none-eabi libnewlib-arm-none-eabi (or -DDEPOT_MCU_BOARDS=OFF)")
endif()
include(ExternalProject)
set(DEPOT_MCU_DIR ${CMAKE_BINARY_DIR}/boards)
foreach(board IN LISTS DEPOT_MCU_BOARD_LIST)
  ExternalProject_Add(board-${board}
    SOURCE_DIR ${CMAKE_SOURCE_DIR}
    BINARY_DIR ${DEPOT_MCU_DIR}/${board}
    CMAKE_ARGS -DCMAKE_TOOLCHAIN_FILE=${CMAKE_SOURCE_DIR}/cmake/arm-none-eabi.cmake
               -DDEPOT_BOARD=${board} -DCMAKE_BUILD_TYPE=MinSizeRel
    BUILD_ALWAYS ON
    INSTALL_COMMAND ""
    USES_TERMINAL_BUILD ON)
endforeach()
