# CMake toolchain file for Depot's microcontroller boards: arm-none-eabi-gcc
# with newlib-nano (Debian packages gcc-arm-none-eabi, libnewlib-arm-none-eabi).
#   cmake -S . -B build-lm3s -DCMAKE_TOOLCHAIN_FILE=cmake/arm-none-eabi.cmake \
#         -DDEPOT_BOARD=lm3s6965evb          (or: cmake --preset lm3s6965evb)
# The CPU flags are the board's (boards/<board>/board.cmake); this file names
# the compiler, the C library and what every bare-metal image is linked with:
# no start files (each board has its own vector table and reset handler),
# unused sections dropped, and no system-call stubs, so a call that would
# need a heap (malloc, printf's buffers) fails at link time.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)

find_program(CMAKE_C_COMPILER arm-none-eabi-gcc)
if(NOT CMAKE_C_COMPILER)
  message(FATAL_ERROR "arm-none-eabi-gcc not found: apt-get install gcc-arm-none-eabi "
                      "libnewlib-arm-none-eabi")
endif()
find_program(DEPOT_ARM_SIZE arm-none-eabi-size REQUIRED)
find_program(DEPOT_ARM_OBJCOPY arm-none-eabi-objcopy REQUIRED)

# Compiler checks link a static library: a test executable would need a board.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

set(CMAKE_C_FLAGS_INIT "-ffunction-sections -fdata-sections -fno-common --specs=nano.specs")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-nostartfiles -Wl,--gc-sections")
set(CMAKE_EXECUTABLE_SUFFIX_C ".elf")

set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
