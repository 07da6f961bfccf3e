"""`stm32f4`: a real STM32F429I-DISC1 over its ST-LINK.

Builds with TARGET=disc1, flashes with pyOCD's Python API (target
`stm32f429xi`, built into pyOCD, no pack download), resets, and talks over the
ST-LINK virtual COM port (USART1, PA9/PA10). The probe is chosen by unique ID
from the lab config (`[boards.stm32f4] probe_uid = ...`), and the serial port
is the one whose USB serial number is that same ID, so two identical boards
are never mixed up. Only a board can prove this path; see docs/board-bringup.md.
"""
from __future__ import annotations

from hil.boards.base import Board, BoardError, Capability
from hil.targets.stm32.firmware import build_stm32, image_info, locate
from hil.workers import hold_exclusive

PYOCD_TARGET = "stm32f429xi"


def _probes():
    try:
        from pyocd.core.helpers import ConnectHelper
    except ImportError as exc:   # pragma: no cover - pyocd is a dependency
        raise BoardError(f"pyocd not importable: {exc}") from None
    return ConnectHelper.get_all_connected_probes(blocking=False, print_wait_message=False)


def _ports():
    from serial.tools import list_ports
    return list(list_ports.comports())


class Stm32Disc1Board(Board):
    name = "stm32f4"
    description = "STM32F429I-DISC1 via ST-LINK: pyOCD flashing, DWT cycle counts"
    capabilities = frozenset({Capability.FLASH, Capability.CYCLE_COUNTER, Capability.LAYER_TENSORS})
    target = "disc1"
    pyocd_target = PYOCD_TARGET

    def baudrate(self) -> int:
        return self.options.config.baud

    def locate(self, address: int) -> str | None:
        return locate(getattr(self, "elf", None), address)

    def open(self):
        self._choose_probe()     # no probe, or not the configured one: say so before a firmware build
        return super().open()

    def build(self) -> None:
        self.elf = build_stm32(self.target, self.options.models, self.baudrate(), board=self.name,
                               kernels=self.options.config.kernels)

    def memory(self) -> dict | None:
        from hil.targets.stm32.memory import elf_memory
        return elf_memory(self.elf, self.options.models) if self.elf else None

    def build_info(self) -> dict:
        return image_info(self.elf) if getattr(self, "elf", None) else {}

    def _choose_probe(self):
        probes = _probes()
        uid = self.options.config.probe_uid
        if not probes and uid is None:
            raise BoardError(f"{self.name}: no debug probe attached. {self.attached_text()}")
        if uid is None:
            if len(probes) > 1:
                raise BoardError(f"{self.name}: {len(probes)} probes attached and no probe_uid in the lab "
                                 f"config; set [boards.{self.name}] probe_uid. {self.attached_text()}")
            return probes[0]
        for p in probes:      # probe UIDs are hex: match them as the port match does, ignoring case
            if p.unique_id.upper() == str(uid).upper():
                return p
        raise BoardError(f"{self.name}: probe {uid} from the lab config is not attached. {self.attached_text()}")

    def stop(self) -> None:
        lock, self._probe_lock = getattr(self, "_probe_lock", None), None
        if lock is not None:
            lock.close()

    def _port_for(self, uid: str) -> str:
        if self.options.config.port:
            return self.options.config.port
        for port in _ports():
            if port.serial_number and port.serial_number.upper() == uid.upper():
                return port.device
        raise BoardError(f"{self.name}: no serial port with USB serial number {uid} (the ST-LINK VCP); "
                         f"set [boards.{self.name}] port. {self.attached_text()}")

    def _session(self, probe):
        """A pyOCD session on `probe`; never waits for a probe to appear (blocking=False)."""
        from pyocd.core.helpers import ConnectHelper
        session = ConnectHelper.session_with_chosen_probe(
            blocking=False, unique_id=probe.unique_id, target_override=PYOCD_TARGET,
            options={"frequency": 4_000_000})
        if session is None:
            raise BoardError(f"{self.name}: probe {probe.unique_id} went away before pyOCD could open it; "
                             f"check the USB cable. {self.attached_text()}")
        return session

    def deploy(self) -> str:
        from pyocd.flash.file_programmer import FileProgrammer
        probe = self._choose_probe()
        self._probe_lock = hold_exclusive(f"probe-{probe.unique_id}", f"{self.name}: probe {probe.unique_id}")
        try:
            with self._session(probe) as session:
                FileProgrammer(session).program(str(self.elf), file_format="elf")
                session.board.target.reset()
        except BoardError:
            raise
        except Exception as exc:  # noqa: BLE001 - pyOCD raises many types; name the board and probe
            raise BoardError(f"{self.name}: flashing {self.elf.name} through probe {probe.unique_id} "
                             f"failed: {exc}") from None
        return self._port_for(probe.unique_id)

    def reset_target(self) -> str:
        """A dead or hung board: reset it through the probe (no reflash), same port."""
        probe = self._choose_probe()
        try:
            with self._session(probe) as session:
                session.board.target.reset()
        except BoardError:
            raise
        except Exception as exc:  # noqa: BLE001 - pyOCD raises many types
            raise BoardError(f"{self.name}: reset through probe {probe.unique_id} failed: {exc}") from None
        return self._port_for(probe.unique_id)

    @classmethod
    def attached(cls) -> list[str]:
        out = []
        try:
            for p in _probes():
                out.append(f"probe {p.unique_id} ({p.description})")
        except Exception as exc:  # noqa: BLE001 - listing must not fail `hil boards`
            out.append(f"probes: cannot list ({exc})")
        for port in _ports():
            if port.vid is None:      # built-in UARTs (/dev/ttyS*) are never a board's VCP
                continue
            out.append(f"port {port.device} ({port.description}, serial {port.serial_number})")
        return out
