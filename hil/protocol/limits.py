"""Limits derived from the spec that host and devices compute the same way (hil_device.c too)."""

from hil.protocol import spec


def max_repeat(macs: int) -> int:
    """Largest INFER repeat a device accepts for a model of `macs` MACs (>= 1): as hil_device_max_repeat()."""
    by_macs = spec.MAX_INFER_MACS // macs if macs > 0 else spec.MAX_INFER_REPEAT
    return max(1, min(spec.MAX_INFER_REPEAT, by_macs))
