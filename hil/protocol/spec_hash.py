"""Content hash of the protocol spec, stamped into every generated file."""

import hashlib
import json

from hil.protocol import spec


def spec_tables() -> dict:
    """All spec tables as one JSON-able dict (tuples become lists)."""
    # Every UPPER_CASE name in spec.py is a table, so a new one cannot be forgotten.
    tables = {name: value for name, value in vars(spec).items() if name.isupper()}
    return json.loads(json.dumps(tables, default=lambda entry: entry.to_json()))   # spec.Message


def spec_hash() -> str:
    """'sha256:<hex>' of the canonical JSON of the spec tables."""
    canonical = json.dumps(spec_tables(), sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def spec_hash32() -> int:
    """First 4 digest bytes as a little-endian u32 (what PING_RSP carries)."""
    return int.from_bytes(bytes.fromhex(spec_hash()[7:15]), "little")
