#!/bin/sh
# Run the qemu-target firmware with USART1 on a local TCP server socket.
#
#   tools/run_qemu.sh [PORT] [ELF]      (defaults: 4321, build/qemu/hil_fw.elf)
#
# Then connect with pyserial: serial.serial_for_url("socket://127.0.0.1:PORT").
#   -icount shift=0  1 guest instruction = 1 ns virtual time: SysTick counts are
#                    deterministic (instruction based, not silicon cycles)
#   wait=on          the guest does not start until the host connects, so the
#                    boot banner is never lost
#   -monitor none    with -nographic the monitor would otherwise share stdio
# The firmware idles in WFI, so an idle QEMU uses no CPU. Stop it with a
# signal (Ctrl-C / kill); it also exits when the firmware locks up.
set -eu
PORT=${1:-4321}
ELF=${2:-$(dirname "$0")/../build/qemu/hil_fw.elf}
exec qemu-system-arm -M netduinoplus2 -nographic -monitor none -icount shift=0 \
    -serial "tcp:127.0.0.1:${PORT},server=on,wait=on" -kernel "$ELF"
