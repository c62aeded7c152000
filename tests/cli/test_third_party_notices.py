"""Third-party import notices a user cannot act on stay out of the command's output."""

from __future__ import annotations

import warnings

from alsstats import cli
from alsstats.cli._common import Outcome


def test_arviz_refactor_notice_is_not_shown(monkeypatch, capsys):
    # ArviZ 0.23 warns on import (FutureWarning, "ArviZ is undergoing a major refactor"):
    # `make demo` printed it above the report line.  Other warnings still show.
    def run(args):
        warnings.warn("\nArviZ is undergoing a major refactor to improve flexibility",
                      FutureWarning, stacklevel=1)
        warnings.warn("a warning the user should see", UserWarning, stacklevel=1)
        return Outcome(text="done")

    real_prepare = cli.prepare_run

    def prepare(args):
        args.func = run
        return real_prepare(args)

    monkeypatch.setattr(cli, "prepare_run", prepare)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        assert cli.main(["simulate", "--seed", "1"]) == 0
    messages = [str(w.message) for w in seen]
    assert not any("ArviZ is undergoing" in m for m in messages), messages
    assert "a warning the user should see" in messages
    assert "done" in capsys.readouterr().out
