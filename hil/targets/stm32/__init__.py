"""STM32 target: generated C model tables and the arm-none-eabi-gcc firmware build."""
