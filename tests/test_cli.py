"""pysot.utils.cli: the experiment flags every tool shares, parsed the same way by each tool."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

from pysot.utils.cli import add_experiment_args, threads_count, tool_parser

DOC = """One-line summary.

Examples:
  python tools/x.py --config c.yaml
"""


def test_tool_parser_shows_the_summary_and_the_examples():
    parser = tool_parser(DOC)
    assert parser.description == "One-line summary."
    assert parser.epilog == "Examples:\n  python tools/x.py --config c.yaml"
    assert "  python tools/x.py --config c.yaml" in parser.format_help()  # indentation kept


def test_experiment_flags_defaults_and_trailing_overrides():
    parser = add_experiment_args(tool_parser(DOC), device="cpu", threads=1)
    args = parser.parse_args(["--config", "c.yaml", "TA.ENABLE", "False", "TRACK.LR", "0.3"])
    assert (args.config, args.snapshot, args.device, args.threads) == ("c.yaml", None, "cpu", 1)
    assert args.opts == ["TA.ENABLE", "False", "TRACK.LR", "0.3"]
    args = parser.parse_args(["--config", "c.yaml", "--snapshot", "m.pth", "--threads", "0"])
    assert (args.snapshot, args.threads, args.opts) == ("m.pth", 0, [])
    bare = add_experiment_args(tool_parser(DOC), snapshot=False, device=None, threads=None, overrides=False)
    assert vars(bare.parse_args(["--config", "c.yaml"])) == {"config": "c.yaml"}


@pytest.mark.parametrize("text, message", [("-1", "must be >= 0"), ("two", "must be an integer")])
def test_bad_thread_counts_are_named(text, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        add_experiment_args(tool_parser(DOC)).parse_args(["--config", "c.yaml", "--threads", text])
    assert exit_info.value.code == 2
    assert f"--threads {message}" in capsys.readouterr().err
    assert threads_count("3") == 3


@pytest.mark.parametrize(
    "tool, extra, device, threads",
    [
        ("test", ["--dataset", "SYNTH"], "auto", 1),
        ("demo", ["--video", "v.avi"], "cpu", 0),
        ("train", [], "auto", 0),
        ("hp_search", ["--dataset", "SYNTH"], "cpu", 1),
        ("export_onnx", ["--output-dir", "onnx"], None, None),
    ],
)
def test_every_experiment_tool_parses_the_shared_flags(tool, extra, device, threads):
    parser = importlib.import_module(f"tools.{tool}").build_parser()
    args = parser.parse_args(["--config", "c.yaml", *extra, "TRACK.LR", "0.3"])
    assert args.config == "c.yaml" and args.opts == ["TRACK.LR", "0.3"]
    assert getattr(args, "device", None) == device and getattr(args, "threads", None) == threads
    if tool != "train":  # training has --resume instead
        assert args.snapshot is None


REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("path", sorted((REPO / "tools").glob("*.py")), ids=lambda p: p.stem)
def test_every_tool_is_a_main_with_argv(path):
    # tools are thin command lines: main(argv) called from the __main__ guard; nothing parses
    # arguments at import time (read with ast: no tool is imported here)
    tree = ast.parse(path.read_text())
    mains = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "main"]
    assert mains and [a.arg for a in mains[0].args.args] == ["argv"], path.name
    assert "parse_args(" not in "".join(
        ast.unparse(n) for n in tree.body if not isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.If))
    )
    assert any(isinstance(n, ast.If) and "__main__" in ast.unparse(n.test) for n in tree.body), path.name


def test_tests_import_tools_as_modules_not_by_path():
    # one way to reach a tool from a test: `from tools import x` (pytest's pythonpath is the repo root)
    offenders = [
        p.name
        for p in (REPO / "tests").glob("*.py")
        if re.search(r"spec_from_file_location\([^)]*tools|runpy\.run_path", p.read_text())
    ]
    assert offenders == []
