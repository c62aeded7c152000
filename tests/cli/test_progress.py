"""Progress only for an interactive terminal, never with --quiet/--json or in CI."""

from __future__ import annotations

import argparse
import sys

import pytest

from alsstats.cli._progress import show_progress
from alsstats.inference.sampling import _PROGRESS, sampler_progress


@pytest.mark.parametrize(("quiet", "json", "tty", "ci", "expected"), [
    (False, False, True, None, True),
    (True, False, True, None, False),
    (False, True, True, None, False),
    (False, False, False, None, False),
    (False, False, True, "true", False),
])
def test_show_progress(monkeypatch, quiet, json, tty, ci, expected):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: tty, raising=False)
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    assert show_progress(argparse.Namespace(quiet=quiet, json=json)) is expected


def test_sampler_progress_is_scoped():
    assert _PROGRESS.get() is False
    with sampler_progress(True):
        assert _PROGRESS.get() is True
    assert _PROGRESS.get() is False
