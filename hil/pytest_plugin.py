"""pytest plugin: `pytest --board=...` (filled in by the end-to-end work)."""
