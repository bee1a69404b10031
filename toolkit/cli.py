"""Command-line plumbing shared by every tool, model-free ones included: ``--help`` from the tool's
docstring and one log format. The experiment flags (``--config``, ``--snapshot``, ...) build on
this in :mod:`pysot.utils.cli`."""

from __future__ import annotations

import argparse
import logging

#: One log format for every tool.
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def tool_parser(doc: str) -> argparse.ArgumentParser:
    """A parser whose ``--help`` shows ``doc``: its first paragraph as the description, the rest
    (usage examples) as the epilog, line breaks kept."""
    head, _, rest = doc.strip("\n").partition("\n\n")
    return argparse.ArgumentParser(
        description=head, epilog=rest or None, formatter_class=argparse.RawDescriptionHelpFormatter
    )


def setup_logging(level: int = logging.INFO) -> None:
    """Log to stderr in :data:`LOG_FORMAT` (a tool's ``main`` calls this once)."""
    logging.basicConfig(level=level, format=LOG_FORMAT)
