"""When the CLI shows progress: on stderr, for an interactive terminal, unless ``--quiet``.

Long steps show a progress display: nutpie's (or PyMC's) own bar while sampling, a
one-line replicate counter for simulations (:class:`alsstats.power.engine.Progress`) and
stage lines for the demo.  It is off with ``--quiet`` or ``--json``, when stderr is not a
terminal (a pipe, a file, CI) and when the ``CI`` environment variable is set, so logs
and machine-read output never carry it.
"""

from __future__ import annotations

import argparse
import os
import sys

__all__ = ["show_progress"]


def show_progress(args: argparse.Namespace) -> bool:
    """True when this command may draw a progress display on stderr."""
    return (not getattr(args, "quiet", False) and not getattr(args, "json", False)
            and sys.stderr.isatty() and not os.environ.get("CI"))
