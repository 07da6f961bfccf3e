"""One resolver for every setting (hil/settings.py): option > environment > lab config > default,
the lab config parsed once per process, and a bad lab config one line in every entry point."""
from pathlib import Path

import pytest

from hil import lab_config
from hil.errors import ConfigError
from hil.settings import resolve

pytest_plugins = ["pytester"]


def test_option_beats_environment_beats_lab_config_beats_default(tmp_path, monkeypatch):
    lab = tmp_path / "lab.toml"
    lab.write_text('artifacts = "models"\ndb = "lab.db"\n[thresholds]\ntotal = 0.07\n')
    monkeypatch.delenv("HIL_DB", raising=False)
    monkeypatch.delenv("HIL_ARTIFACTS", raising=False)
    s = resolve(config=str(lab))
    assert (s.board, s.vectors, s.models) == ("stm32f4-qemu", None, ())
    assert s.db == Path("lab.db") and s.artifacts == tmp_path / "models" and s.config == lab
    monkeypatch.setenv("HIL_DB", "env.db")
    monkeypatch.setenv("HIL_ARTIFACTS", str(tmp_path / "env-art"))
    s = resolve(config=str(lab))
    assert s.db == Path("env.db") and s.artifacts == tmp_path / "env-art"
    s = resolve(config=str(lab), db="opt.db", artifacts=tmp_path / "opt", board="sim", vectors=3,
                models=["mnist_lenet,sine_mlp"])
    assert s.db == Path("opt.db") and s.artifacts == tmp_path / "opt"
    assert (s.board, s.vectors, s.models) == ("sim", 3, ("mnist_lenet", "sine_mlp"))
    monkeypatch.delenv("HIL_DB")
    assert resolve(db_from_lab=False, db_default=None).db is None      # the pytest plugin: not recorded


def test_the_artifacts_root_is_a_value_not_written_to_the_environment(tmp_path, monkeypatch, capsys):
    """`--artifacts` moves this process's root (golden.paths) and leaves os.environ as it was: a child
    process gets the root as an argument, never by inheritance."""
    import os
    from golden import paths
    from hil.cli import main
    monkeypatch.delenv("HIL_ARTIFACTS", raising=False)
    before = dict(os.environ)
    assert resolve(artifacts=tmp_path / "opt").apply_artifacts() == tmp_path / "opt"
    assert paths.root() == tmp_path / "opt" and dict(os.environ) == before
    (tmp_path / "cli").mkdir()
    assert main(["golden", "show", "--artifacts", str(tmp_path / "cli"), "--format", "json"]) == 0
    capsys.readouterr()
    assert paths.root() == tmp_path / "cli" and dict(os.environ) == before
    paths.set_root(None)
    monkeypatch.setenv("HIL_ARTIFACTS", str(tmp_path / "env"))   # still read, as an input
    assert paths.root() == tmp_path / "env"


def test_lab_config_is_parsed_once_per_process(tmp_path, monkeypatch):
    lab = tmp_path / "lab.toml"
    lab.write_text("[boards.stm32f4]\nbaud = 9600\n")
    calls = []
    real = lab_config.parse
    monkeypatch.setattr(lab_config, "parse", lambda *a: calls.append(a) or real(*a))
    lab_config._load.cache_clear()
    for _ in range(3):
        assert resolve(config=str(lab)).board_config("stm32f4").baud == 9600
        assert lab_config.board_section(str(lab), "stm32f4").baud == 9600
    assert len(calls) == 1
    lab.write_text("[boards.stm32f4]\nbaud = 19200\n")        # changed on disk: read again
    assert resolve(config=str(lab)).board_config("stm32f4").baud == 19200


def test_a_bad_lab_config_is_one_line_in_the_resolver(tmp_path):
    lab = tmp_path / "lab.toml"
    lab.write_text("[boards.stm32f4]\nbaud = 'fast'\n")
    with pytest.raises(ConfigError, match=r"boards.stm32f4.baud: expected an integer"):
        resolve(config=str(lab))


def test_a_bad_lab_config_is_one_line_in_pytest_even_without_a_board_test(pytester):
    pytester.makefile(".toml", lab="[boards.stm32f4]\nbaud = 'fast'\n")
    pytester.makepyfile(test_x="def test_x():\n    pass\n")
    r = pytester.runpytest_subprocess("--hil-config=lab.toml")
    assert r.ret == pytest.ExitCode.USAGE_ERROR
    text = r.stderr.str()
    assert "hil: lab config" in text and "expected an integer" in text and "Traceback" not in text
