"""A one-line progress display on stderr for long loops (simulations, bootstraps).

Callers decide whether it is shown (the CLI: an interactive terminal, not ``--quiet``;
see :mod:`alsstats.cli._progress`); library calls leave it off.
"""

from __future__ import annotations

import sys
import time

__all__ = ["Progress"]


class Progress:
    """A one-line progress display on stderr (silent when ``enabled`` is false)."""

    def __init__(self, total: int, label: str = "replicates", enabled: bool = True):
        self.total, self.label, self.enabled = total, label, enabled
        self.done = 0
        self.start = time.perf_counter()

    def update(self, n: int) -> None:
        self.done += n
        if not self.enabled:
            return
        elapsed = time.perf_counter() - self.start
        width = 30
        filled = int(width * self.done / max(self.total, 1))
        sys.stderr.write(f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] "
                         f"{self.done}/{self.total} {elapsed:6.1f} s")
        if self.done >= self.total:
            sys.stderr.write("\n")
        sys.stderr.flush()
