"""`BoardIdentity`: what a board is, captured once when it opens.

The results (runner, recorder, provenance) read a board through this frozen
record, never through the live `Board`: an xdist worker sends it to the
controller as JSON, and a merged run reads the same record.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, fields


@dataclass(frozen=True)
class BoardIdentity:
    name: str                              # as given to --board
    device_board: str                      # what the device said in INFO ...
    fw_version: str
    build_hash: str
    clock_hz: int
    counter: str                           # counter kind (`icount`, `dwt`, `modelled`, `none`, ...)
    capabilities: tuple[str, ...] = ()
    build_info: dict = field(default_factory=dict)      # image_hash, compiler, cflags, ... (Board.build_info)
    default_models: tuple[str, ...] = ()
    config: dict = field(default_factory=dict)          # this board's lab-config table as plain data

    @classmethod
    def of(cls, board) -> "BoardIdentity":
        """The identity of an opened board."""
        info, cfg = board.info, board.options.config
        return cls(name=board.name, device_board=info.board, fw_version=info.fw_version,
                   build_hash=info.build_hash, clock_hz=info.clock_hz, counter=info.counter,
                   capabilities=tuple(sorted(c.value for c in board.capabilities)),
                   build_info=dict(board.build_info()), default_models=tuple(board.default_models),
                   config=dataclasses.asdict(cfg) if dataclasses.is_dataclass(cfg) else dict(cfg or {}))

    @property
    def probe_uid(self) -> str | None:
        return self.config.get("probe_uid")

    def to_json(self) -> dict:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["capabilities"], out["default_models"] = list(self.capabilities), list(self.default_models)
        return out

    @classmethod
    def from_json(cls, j: dict) -> "BoardIdentity":
        kw = {f.name: j[f.name] for f in fields(cls) if f.name in j}
        kw["capabilities"] = tuple(kw.get("capabilities", ()))
        kw["default_models"] = tuple(kw.get("default_models", ()))
        return cls(**kw)
