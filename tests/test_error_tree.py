"""One exception tree (STYLE.md, as pyOCD keeps its whole tree in one file): every error class hil
raises is defined in hil/errors.py, every golden one in golden/errors.py, all under HilError."""
import ast
import inspect
from pathlib import Path

import golden.errors
import hil.errors
from golden.errors import HilError

ROOT = Path(__file__).resolve().parents[1]
# control flow inside one module, never raised to a caller: not part of the tree
INTERNAL = {("hil/boards/sim.py", "_Reject"), ("hil/device.py", "_TooNoisy"), ("golden/validate.py", "Invalid")}


def test_no_exception_class_outside_the_errors_modules():
    found = []
    for pkg in ("hil", "golden"):
        for path in (ROOT / pkg).rglob("*.py"):
            rel = str(path.relative_to(ROOT))
            if rel in ("hil/errors.py", "golden/errors.py"):
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ClassDef) and any(
                        "Error" in ast.unparse(b) or "Exception" in ast.unparse(b) for b in node.bases):
                    if (rel, node.name) not in INTERNAL:
                        found.append(f"{rel}: {node.name}")
    assert found == []


def test_every_error_is_a_hil_error():
    for mod in (hil.errors, golden.errors):
        for name, cls in inspect.getmembers(mod, inspect.isclass):
            if cls.__module__ == mod.__name__:
                assert issubclass(cls, HilError), name
