"""The `hil` commands share their options (hil/cli_args.py): `--json` takes a path in every command
that has it, `--format json` prints the JSON document, `-v/-q` exist everywhere, every `--vectors`
goes through the same positive-int check, and each shared option is declared in one place."""
import argparse
import json
import re
from pathlib import Path

import pytest

from hil import cli
from hil.cli_args import output_file, positive_int

HIL = Path(cli.__file__).parent


def commands(parser=None, prefix=()):
    """(command words, its parser) for every leaf command of `hil`."""
    parser = parser or cli.build_parser()
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield prefix, parser
    for sub in subs:
        for name, p in sub.choices.items():
            yield from commands(p, prefix + (name,))


def option(parser, flag):
    return next((a for a in parser._actions if flag in a.option_strings), None)


ALL = list(commands())


def test_every_json_option_takes_a_path():
    with_json = [words for words, p in ALL if option(p, "--json")]
    assert len(with_json) >= 8, with_json         # run, profile, soak, bench x2, history, compare, golden show
    for words, p in ALL:
        a = option(p, "--json")
        if a is None:
            continue
        assert a.nargs is None and a.type is output_file and a.metavar == "FILE", words
        fmt = option(p, "--format")
        assert fmt is not None and set(fmt.choices) == {"table", "json"}, words


def test_every_command_takes_v_and_q():
    for words, p in ALL:
        assert option(p, "-v") and option(p, "-q"), words


def test_every_vectors_option_is_a_positive_int():
    seen = [words for words, p in ALL if option(p, "--vectors")]
    assert {("run",), ("profile",), ("soak",), ("nightly",)} <= set(seen)
    for words in seen:
        assert option(dict(ALL)[words], "--vectors").type is positive_int, words


def test_shared_options_are_declared_once():
    """`--board`, `--model`, `--hil-config`, `--json`, `--inject`, `--vectors`, `--format` appear as
    an argparse declaration only in hil/cli_args.py."""
    for path in HIL.rglob("*.py"):
        # the plugin's options are --hil-*; `python -m hil.targets.hls.cycles` is a tool, not a `hil` command
        if path.name in ("cli_args.py", "pytest_plugin.py") or path.relative_to(HIL).parts[0] == "targets":
            continue
        text = path.read_text()
        for flag in ("--board", "--model", "--hil-config", "--json", "--inject", "--vectors", "--format"):
            assert not re.search(rf'add_argument\(\s*"{flag}"', text), f"{path}: {flag}"


def test_format_json_prints_the_document_and_json_writes_it(tmp_path, capsys):
    out = tmp_path / "show.json"
    assert cli.main(["golden", "show", "--model", "sine_mlp", "--format", "json", "--json", str(out)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads(out.read_text()) and printed[0]["model"] == "sine_mlp"


def test_nightly_vectors_zero_is_refused(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["nightly", "--hil-config", "x.toml", "--vectors", "0"])
    assert exc.value.code == 2 and "--vectors: 0: give 1 or more" in capsys.readouterr().err


def test_quiet_and_verbose_set_the_log_level():
    import logging
    assert cli.log_level(0, 0) == logging.INFO
    assert cli.log_level(1, 0) == logging.DEBUG and cli.log_level(0, 1) == logging.WARNING
    assert cli.log_level(0, 5) == logging.ERROR
