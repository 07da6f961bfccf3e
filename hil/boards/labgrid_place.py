"""`labgrid`: a board on a labgrid place, on whichever host of the lab it sits.

labgrid (the `hil[lab]` extra) is the engine: a coordinator keeps the places
and their locks, an exporter on each lab host exports the board's USB-UART
(through ser2net, as RFC 2217) and its debug probe (`NetworkUSBDebugger`).
This board

* picks a place by name, or by tags through a reservation (`board=stm32f4`:
  with `pytest -n N` each worker gets a different place), and acquires it;
* builds the firmware of the board kind named by the place's `board` tag (an
  hil board name: `stm32f4`, `stm32f4-qemu`, ...);
* flashes with pyOCD on the exporter host: the ELF goes there as a labgrid
  `ManagedFile`, and `pyocd flash --uid <probe_uid>` runs through the debugger
  resource's `wrap_command` (ssh to the exporter); a place without a debugger
  must be an emulated twin, whose emulator runs its own image (the runner
  refuses a model hash that differs);
* talks to the UART at the exported port's URL (`rfc2217://host:port`, or
  `socket://` for a raw TCP port);
* releases the place on every way out: close(), atexit, SIGTERM (a cancelled
  CI job) and SIGINT. A job killed with SIGKILL leaves its lock behind: the
  next run with the same identity (`host/user`, plus `-gwN` under xdist)
  releases a place it finds acquired by itself before acquiring it again.

Lab config (or $LG_COORDINATOR / $LG_PLACE), hil/lab_config.py:

    [boards.labgrid]
    coordinator = "labhost:20408"
    tags = { board = "stm32f4" }      # or: place = "bench-3"
    wait = 300                        # seconds to wait for a reserved place
    [boards.labgrid.places.bench-3]
    board = "stm32f4"
    probe_uid = "066DFF485550755187121723"
"""
from __future__ import annotations

import atexit
import getpass
import logging
import os
import signal
import socket
import subprocess
import time

from hil.boards import board_class
from hil.boards.base import Board, BoardError, Capability
from hil.workers import worker_id

log = logging.getLogger(__name__)
LAB_EXTRA = "pip install 'hil[lab]' (labgrid)"


def _grpc_error(exc) -> str:
    return exc.details() if hasattr(exc, "details") else str(exc)


def identity() -> str:
    """`host/user` as the coordinator records lock holders; xdist workers get `user-gwN`."""
    user = os.environ.get("LG_USERNAME") or getpass.getuser()
    w = worker_id()
    if w and not user.endswith(f"-{w}"):
        user = f"{user}-{w}"
        os.environ["LG_USERNAME"] = user        # labgrid's client reads it at session start
    return f"{os.environ.get('LG_HOSTNAME') or socket.gethostname()}/{user}"


class _QuietLabgridClient(logging.Filter):
    """Within the block, drop what labgrid's client logs on the root logger (its "coordinator is
    unavailable" ERROR would precede our one-line error, which already says it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return f"{os.sep}labgrid{os.sep}" not in record.pathname      # a record from the labgrid package

    def __enter__(self):
        logging.getLogger().addFilter(self)

    def __exit__(self, *exc):
        logging.getLogger().removeFilter(self)


_SESSIONS: dict = {}     # coordinator address -> session: one per process (the coordinator
                         # refuses a second stream from the same connection)


class PlaceLock:
    """Holds at most one place (and its reservation) through the process's coordinator session."""

    def __init__(self, coordinator: str, board: str = "labgrid"):
        try:
            from labgrid.remote.client import start_session
            from labgrid.remote.generated import labgrid_coordinator_pb2 as pb2
        except ImportError as exc:
            raise BoardError(f"{board}: labgrid is not importable ({exc}): {LAB_EXTRA}") from None
        self.pb2, self.board, self.coordinator = pb2, board, coordinator
        self.me = identity()
        self.place: str | None = None
        self.token: str | None = None
        quiet = _QuietLabgridClient()
        try:
            if coordinator not in _SESSIONS:
                with quiet:
                    _SESSIONS[coordinator] = start_session(coordinator)
            self.session = _SESSIONS[coordinator]
        except Exception as exc:  # noqa: BLE001 - grpc/asyncio raise many types
            raise BoardError(f"{board}: cannot reach the labgrid coordinator at {coordinator}: {exc}; "
                             f"is `labgrid-coordinator` running there?") from None

    def _call(self, method: str, request):
        import grpc
        try:
            out = self.session.loop.run_until_complete(getattr(self.session.stub, method)(request))
            self.session.loop.run_until_complete(self.session.sync_with_coordinator())
            return out
        except grpc.aio.AioRpcError as exc:
            raise BoardError(f"{self.board}: coordinator {self.coordinator}: {method} failed: "
                             f"{_grpc_error(exc)}") from None

    def places(self) -> dict:
        """The coordinator's places as of now (the session's view is only updated when pumped)."""
        self.session.loop.run_until_complete(self.session.sync_with_coordinator())
        return self.session.places

    def reserve(self, tags: dict[str, str], wait: float) -> str:
        """A reservation for a place with these tags, waited for; returns the place name."""
        flt = {"main": self.pb2.Reservation.Filter(filter=tags)}
        res = self._call("CreateReservation", self.pb2.CreateReservationRequest(filters=flt, prio=0.0))
        self.token = res.reservation.token
        want = " ".join(f"{k}={v}" for k, v in tags.items())
        deadline = time.monotonic() + wait
        while True:
            r = self._call("PollReservation", self.pb2.PollReservationRequest(token=self.token)).reservation
            if r.allocations.get("main"):
                return r.allocations["main"]
            if time.monotonic() > deadline:
                raise BoardError(f"{self.board}: no place tagged {want} became free within {wait:.0f} s "
                                 f"(`labgrid-client places`, `labgrid-client reservations` show who holds them)")
            time.sleep(0.5)

    def acquire(self, name: str) -> None:
        places = self.places()
        if name not in places:
            raise BoardError(f"{self.board}: no labgrid place '{name}' at {self.coordinator}; known: "
                             f"{', '.join(sorted(places)) or 'none'} (`labgrid-client places`)")
        holder = places[name].acquired
        if holder == self.me:
            self.take_back(name)
        elif holder:
            raise BoardError(f"{self.board}: labgrid place '{name}' is acquired by {holder}; wait, or choose "
                             f"places by tag so a free one is reserved")
        self._call("AcquirePlace", self.pb2.AcquirePlaceRequest(placename=name))
        self.place = name
        log.info("acquired labgrid place %s as %s", name, self.me)

    def take_back(self, name: str) -> None:
        """Release a place our own identity still holds: a killed run of ours left it."""
        log.warning("labgrid place %s was still acquired by %s (a killed run?): releasing it", name, self.me)
        self._call("ReleasePlace", self.pb2.ReleasePlaceRequest(placename=name))

    def release(self) -> None:
        """Release the place and cancel the reservation; safe to call twice."""
        place, token, self.place, self.token = self.place, self.token, None, None
        calls = []
        if place:
            calls.append(("ReleasePlace", self.pb2.ReleasePlaceRequest(placename=place)))
        if token:
            calls.append(("CancelReservation", self.pb2.CancelReservationRequest(token=token)))
        for method, request in calls:
            try:
                self._call(method, request)
            except BoardError as exc:     # keep going: the other call may still succeed
                log.warning("%s", exc)
        if place:
            log.info("released labgrid place %s", place)


_SIGNALS_INSTALLED = False


def _raise_exit(signum, frame):
    raise SystemExit(128 + signum)


def _exit_on_sigterm() -> None:
    """SIGTERM (a cancelled CI job) raises SystemExit, so finally blocks and atexit release."""
    global _SIGNALS_INSTALLED
    if _SIGNALS_INSTALLED or signal.getsignal(signal.SIGTERM) not in (signal.SIG_DFL, None):
        return                   # someone else handles SIGTERM: leave theirs
    try:
        signal.signal(signal.SIGTERM, _raise_exit)
        _SIGNALS_INSTALLED = True
    except ValueError:           # not the main thread: atexit still releases on a normal exit
        pass


class LabgridPlaceBoard(Board):
    name = "labgrid"
    description = "a board on a labgrid place anywhere in the lab: RFC 2217 UART, pyOCD on the exporter host"
    capabilities = frozenset({Capability.FLASH})

    def __init__(self, options=None):
        super().__init__(options)
        self.lock: PlaceLock | None = None
        self.inner: Board | None = None
        self.target = None

    # -- place ---------------------------------------------------------------
    def _settings(self) -> tuple[str, str | None, dict]:
        cfg = self.options.config
        coordinator = cfg.coordinator or os.environ.get("LG_COORDINATOR") or "127.0.0.1:20408"
        place = cfg.place or os.environ.get("LG_PLACE")
        tags = dict(cfg.tags)
        if not place and not tags:
            raise BoardError(f"{self.name}: say which place: [boards.{self.name}] place = \"...\" or "
                             f"tags = {{ board = \"stm32f4\" }} in the lab config, or $LG_PLACE")
        return coordinator, place, tags

    def acquire(self) -> None:
        coordinator, place, tags = self._settings()
        self.lock = PlaceLock(coordinator, self.name)
        atexit.register(self.close)
        _exit_on_sigterm()
        if not place:
            self._release_own_stale(tags)
            place = self.lock.reserve(tags, self.options.config.wait)
        self.lock.acquire(place)
        from labgrid import Target
        from labgrid.resource.remote import RemotePlace, RemotePlaceManager
        mgr = RemotePlaceManager.get()
        if mgr.session is None:          # reuse our session for the resource view
            mgr.session, mgr.loop, mgr.url = self.lock.session, self.lock.session.loop, coordinator
        mgr.loop.run_until_complete(mgr.session.sync_with_coordinator())
        self.target = Target(place)
        RemotePlace(self.target, name=place)
        kind = self.lock.places()[place].tags.get("board")
        if not kind:
            raise BoardError(f"{self.name}: place '{place}' has no board tag: "
                             f"`labgrid-client -p {place} set-tags board=stm32f4`")
        expected = self.options.config.place_config(place).board
        if expected and expected != kind:
            raise BoardError(f"{self.name}: the lab config says place '{place}' holds a {expected}, its board "
                             f"tag says {kind}: fix one of them")
        self.inner = board_class(kind)(self.options)
        self.capabilities = type(self.inner).capabilities
        log.info("place %s holds a %s board", place, kind)

    def _release_own_stale(self, tags: dict) -> None:
        for name, p in self.lock.places().items():
            if p.acquired == self.lock.me and all(p.tags.get(k) == v for k, v in tags.items()):
                self.lock.take_back(name)

    def open(self):
        if self.lock is None or self.lock.place is None:
            try:
                self.acquire()
            except BaseException:
                self.close()
                raise
        return super().open()

    # -- build, flash, link --------------------------------------------------
    def build(self) -> None:
        # Only a place with a probe is flashed; an emulated twin runs the image its
        # exporter host started, and the runner refuses a model hash that differs.
        if self._resource("NetworkUSBDebugger") is not None:
            self.inner.build()

    def _resource(self, cls_name: str):
        from labgrid.resource import NetworkSerialPort
        from labgrid.resource.remote import NetworkUSBDebugger
        cls = {"NetworkSerialPort": NetworkSerialPort, "NetworkUSBDebugger": NetworkUSBDebugger}[cls_name]
        found = [r for r in self.target.resources if isinstance(r, cls)]
        return found[0] if found else None

    def baudrate(self) -> int:
        port = self._resource("NetworkSerialPort")
        return port.speed if port is not None else super().baudrate()

    def deploy(self) -> str:
        place = self.lock.place
        port = self._resource("NetworkSerialPort")
        if port is None:
            raise BoardError(f"{self.name}: place '{place}' has no serial port: export the board's "
                             f"USBSerialPort and `labgrid-client -p {place} add-match EXPORTER/GROUP/*`")
        debugger = self._resource("NetworkUSBDebugger")
        if debugger is not None:
            self.flash(debugger)
        elif Capability.EMULATED not in self.capabilities:
            raise BoardError(f"{self.name}: place '{place}' has no debug probe (NetworkUSBDebugger) to flash "
                             f"its {self.inner.name} with: export the probe's USBDebugger (docs/lab-farm.md)")
        if port.port is None:
            raise BoardError(f"{self.name}: the exporter of place '{place}' published no TCP port for the "
                             f"serial port (is ser2net installed on {port.host}?)")
        if port.protocol == "rfc2217":   # as labgrid's own SerialDriver: a pty or USB-UART may not ack SET_CONTROL
            return f"rfc2217://{port.host}:{port.port}?ign_set_control&timeout=3"
        return f"socket://{port.host}:{port.port}"

    def flash_command(self, remote_elf: str) -> list[str]:
        """pyOCD on the exporter host, the probe chosen by unique ID."""
        uid = self.options.config.place_config(self.lock.place).probe_uid or self.options.config.probe_uid
        target = getattr(type(self.inner), "pyocd_target", None)
        if not uid or not target:
            raise BoardError(f"{self.name}: flashing {self.inner.name} on place '{self.lock.place}' needs its "
                             f"probe_uid in [boards.{self.name}.places.{self.lock.place}] and a pyOCD target "
                             f"for the board")
        return ["pyocd", "flash", "--target", target, "--uid", uid, "--format", "elf", remote_elf]

    def flash(self, debugger) -> None:
        from labgrid.util.managedfile import ManagedFile
        elf = getattr(self.inner, "elf", None)
        if elf is None:
            raise BoardError(f"{self.name}: board {self.inner.name} produced no ELF to flash")
        try:
            mf = ManagedFile(str(elf), debugger)
            mf.sync_to_resource()
            cmd = debugger.wrap_command(self.flash_command(mf.get_remote_path()))
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
        except BoardError:
            raise
        except Exception as exc:  # noqa: BLE001 - ssh/labgrid raise many types; name the place
            raise BoardError(f"{self.name}: uploading {elf.name} to {debugger.host} failed: {exc}") from None
        if r.returncode != 0:
            tail = "\n".join((r.stdout + r.stderr).strip().splitlines()[-10:])
            raise BoardError(f"{self.name}: pyOCD on {debugger.host} failed to flash place "
                             f"'{self.lock.place}':\n{tail}")

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self.lock is not None:
                self.lock.release()
