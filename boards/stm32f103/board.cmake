# STM32F103 (Blue Pill): Cortex-M3, no FPU.
add_compile_options(-mcpu=cortex-m3 -mthumb)
add_link_options(-mcpu=cortex-m3 -mthumb)
