"""The command-line flags every experiment tool shares, defined once.

``--config`` (the experiment's ``config.yaml``), ``--snapshot`` (its checkpoint; default
``model.pth`` beside the config, see :func:`pysot.integrations.loading.resolve_snapshot`),
``--device``, ``--threads`` and trailing ``KEY VALUE`` config overrides, parsed the same way by
``tools/test.py``, ``demo.py``, ``train.py``, ``hp_search.py`` and ``export_onnx.py``::

    parser = tool_parser(__doc__)
    add_experiment_args(parser, device="auto", threads=1)
    parser.add_argument(...)  # the tool's own flags
    args = parser.parse_args(argv)
    setup_logging()
    set_threads(args.threads)
    cfg = load_cfg(args.config, args.opts)
"""

from __future__ import annotations

import argparse

import torch

from toolkit.cli import LOG_FORMAT, setup_logging, tool_parser

__all__ = [
    "LOG_FORMAT",
    "add_experiment_args",
    "set_threads",
    "setup_logging",
    "threads_count",
    "tool_parser",
]


def threads_count(text: str) -> int:
    """``--threads`` value: an integer >= 0, 0 meaning torch's default (one thread per core)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--threads must be an integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"--threads must be >= 0 (0: torch's default), got {value}")
    return value


def add_experiment_args(
    parser: argparse.ArgumentParser,
    *,
    snapshot: bool = True,
    device: str | None = "auto",
    threads: int | None = 1,
    threads_help: str = "torch CPU threads",
    overrides: bool = True,
) -> argparse.ArgumentParser:
    """Add the shared experiment flags to ``parser``.

    Args:
        snapshot: add ``--snapshot`` (default None: ``model.pth`` beside ``--config``).
        device: default of ``--device`` (``auto`` | ``cpu`` | ``cuda`` | ``cuda:K``); None: no flag.
        threads: default of ``--threads`` (0: torch's default); None: no flag.
        threads_help: what the thread count applies to, for ``--help``.
        overrides: add the trailing ``opts`` (``KEY VALUE ...`` config overrides).
    """
    parser.add_argument("--config", required=True, help="experiment config.yaml")
    if snapshot:
        parser.add_argument(
            "--snapshot", default=None, help="checkpoint (default: model.pth beside --config)"
        )
    if device is not None:
        parser.add_argument(
            "--device", default=device, help=f"auto | cpu | cuda | cuda:K (default: {device})"
        )
    if threads is not None:
        parser.add_argument(
            "--threads",
            type=threads_count,
            default=threads,
            help=f"{threads_help}; 0: torch's default (default: {threads})",
        )
    if overrides:
        parser.add_argument("opts", nargs=argparse.REMAINDER, help="config overrides: KEY VALUE ...")
    return parser


def set_threads(threads: int | None) -> None:
    """``torch.set_num_threads(threads)``; 0 or None keeps torch's default."""
    if threads:
        torch.set_num_threads(threads)
