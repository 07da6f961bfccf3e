"""docs/adding-a-board.md and docs/adding-an-op.md stay true: every file a checklist line names
exists for one real example (the board `fpga-sim`, the op `channel_shuffle`) and names it."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = {
    "adding-a-board.md": {"<board>": "fpga-sim", "<module>": "fpga_sim"},
    "adding-an-op.md": {"<op>": "channel_shuffle"},
}


def checklist(doc: str) -> list[str]:
    """The first backticked path of each `- [ ]` line."""
    text = (ROOT / "docs" / doc).read_text()
    return [m.group(1) for m in re.finditer(r"^- \[ \] `([^`]+)`", text, re.M)]


@pytest.mark.parametrize("doc", sorted(EXAMPLES))
def test_every_checklist_file_exists_and_names_the_example(doc):
    subs = EXAMPLES[doc]
    paths = checklist(doc)
    assert len(paths) >= 7, paths
    name = next(iter(subs.values()))
    for raw in paths:
        path = raw
        for k, v in subs.items():
            path = path.replace(k, v)
        f = ROOT / path
        assert f.is_file(), f"{doc}: {raw} -> {path} does not exist"
        text = f.read_text()
        assert name in text or any(v in text for v in subs.values()), f"{doc}: {path} does not name {name}"


def test_the_example_board_is_registered_as_the_board_doc_says():
    from hil.boards import board_class
    cls = board_class("fpga-sim")
    assert cls.name == "fpga-sim" and cls.__module__ == "hil.boards.fpga_sim" and cls.description
    assert (ROOT / "tests" / "test_fpga_sim_board.py").is_file()
