"""`hil golden show` as a user runs it."""
import json
import subprocess
import sys

from golden import models
from golden.registry import BUILTIN_MODELS

KEYS = {"model", "params", "macs", "test_vectors", "bundle_hash"}


def _hil(*args):
    return subprocess.run([sys.executable, "-m", "hil.cli", *args], capture_output=True, text=True, timeout=120)


def test_show_json_has_the_documented_keys():
    r = _hil("golden", "show", "--model", "all", "--format", "json")
    assert r.returncode == 0, r.stderr
    recs = json.loads(r.stdout)
    # the built-in list, not this process's registry: earlier tests may have registered user models here
    assert [x["model"] for x in recs] == list(BUILTIN_MODELS)
    for rec in recs:
        assert KEYS <= rec.keys()
        if rec["model"] == "sine_mlp":
            assert {"float_mae", "int_mae"} <= rec.keys()
        else:
            assert {"float_accuracy", "int_accuracy", "agreement"} <= rec.keys()


def test_show_table_and_unknown_model():
    r = _hil("golden", "show", "--model", "mnist_lenet")
    assert r.returncode == 0 and "mnist_lenet" in r.stdout
    r = _hil("golden", "show", "--model", "nope")
    assert r.returncode == 2 and "unknown model 'nope'" in r.stderr


def test_show_names_the_data_set_of_every_figure():
    r = _hil("golden", "show", "--format", "json")
    assert r.returncode == 0, r.stderr
    recs = {x["model"]: x for x in json.loads(r.stdout)}
    for name, rec in recs.items():
        assert rec["dataset"] == models.get(name).dataset and rec["dataset_name"]
    for name in ("squeezenet_mini", "shufflenetv2_mini", "resnet8"):
        assert "not CIFAR-10" in recs[name]["dataset_name"]
    r = _hil("golden", "show", "--model", "resnet8")
    assert r.returncode == 0 and "Colour-MNIST-32" in r.stdout
    assert "Colour-MNIST-32 = Colour-MNIST-32 stand-in" in " ".join(r.stdout.split())   # the caption
    assert "not CIFAR-10" in " ".join(r.stdout.split())
