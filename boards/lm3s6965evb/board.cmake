# Stellaris LM3S6965: Cortex-M3, no FPU.
add_compile_options(-mcpu=cortex-m3 -mthumb)
add_link_options(-mcpu=cortex-m3 -mthumb)
