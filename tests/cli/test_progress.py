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


def test_cutoff_bootstrap_progress_reaches_the_total(capsys):
    import numpy as np

    from alsstats.validation import cutoff_stability

    rng = np.random.default_rng(1)
    y = np.arange(80) % 2 == 0
    s = rng.normal(size=80) + y
    cutoff_stability(y, s, n_boot=120, seed=1, progress=True)
    err = capsys.readouterr().err
    assert "bootstrap [" in err and "120/120" in err
    cutoff_stability(y, s, n_boot=120, seed=1)
    assert capsys.readouterr().err == ""
