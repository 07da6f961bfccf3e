"""A user's own model in a folder of their own: --torch, one artifacts root
(option, env, lab config), listed by `golden show`, rebuilt by name, run on
the `sim` board, and errors that name the root searched and what helps."""
import json
import os

import numpy as np
import pytest

from golden import bundle, models, paths
from hil.cli import main

NET = '''
from golden.models import MnistLeNet


class UserNet(MnistLeNet):
    """A user's module: built with no arguments."""
'''


@pytest.fixture
def user_repo(tmp_path, monkeypatch):
    monkeypatch.setenv("HIL_ARTIFACTS", "")   # recorded, so whatever the CLI sets is undone after the test
    monkeypatch.delenv("HIL_ARTIFACTS")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "net.py").write_text(NET)
    yield tmp_path
    models.REGISTRY.pop("user_net", None)


def _json(capsys, argv) -> list[dict]:
    capsys.readouterr()
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_torch_module_into_own_root_listed_rebuilt_and_run(user_repo, capsys):
    weights = paths.BUILTIN / "mnist_lenet" / "weights.pt"
    assert main(["golden", "build", "--torch", "net.py:UserNet", "--weights", str(weights),
                 "--name", "user_net", "--dataset", "mnist", "--artifacts", "art"]) == 0
    out = user_repo / "art" / "user_net"
    source = json.loads((out / "source.json").read_text())
    assert source == {"kind": "torch", "module": "../../net.py", "class": "UserNet",
                      "weights": os.path.relpath(weights, out), "dataset": "mnist"}
    # same weights as the built-in LeNet: the same integer logits, bit for bit
    np.testing.assert_array_equal(bundle.read(out).int_logits,
                                  bundle.read(paths.BUILTIN / "mnist_lenet").int_logits)
    assert not (paths.BUILTIN / "user_net").exists(), "a user model was written into the package"

    names = [r["model"] for r in _json(capsys, ["golden", "show", "--format", "json", "--artifacts", "art"])]
    assert names[-1] == "user_net" and "mnist_lenet" in names
    (user_repo / "hil-lab.toml").write_text('artifacts = "art"\n')      # the lab config key
    models.REGISTRY.pop("user_net", None)
    assert main(["golden", "build", "--model", "user_net"]) == 0       # by name, from source.json
    assert _json(capsys, ["golden", "show", "--format", "json", "--model", "user_net"])[0]["test_vectors"] == 999

    assert main(["run", "--board", "sim", "--model", "user_net", "--vectors", "10", "--json", "r.json"]) == 0
    doc = json.loads((user_repo / "r.json").read_text())
    assert doc["int_mismatches"] == 0 and len(doc["per_class"]) == 10


def test_errors_name_the_root_and_the_command(user_repo, capsys):
    (user_repo / "art").mkdir()        # a root that exists but lacks the model (a missing root: test_hostile_cli)
    assert main(["run", "--board", "sim", "--model", "ghost_net", "--artifacts", "art"]) == 2
    err = "".join(capsys.readouterr().err.split())   # rich wraps long paths
    assert "ghost_net" in err and str(user_repo / "art") in err and "--artifacts" in err
    assert main(["golden", "build", "--model", "ghost_net", "--artifacts", "art"]) == 2
    err = "".join(capsys.readouterr().err.split())   # rich wraps long paths
    assert "ghost_net/source.json" in err and "--torch" in err and "--onnx" in err
    assert main(["golden", "build", "--torch", "net.py:Nope", "--weights", "w.pt", "--name", "x",
                 "--dataset", "mnist", "--artifacts", "art"]) == 2
    assert "w.pt" in capsys.readouterr().err
