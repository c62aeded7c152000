"""The user guide runs: every fenced block marked ``bash run`` in docs/guide/*.md.

Slow tier: each page's blocks run in order in one temporary folder, with the installed
``alsstats`` (the interpreter's ``bin`` first on ``PATH``), under ``bash -euo pipefail``;
a ``# writes: FILE ...`` line in a block names the files it must leave behind.  Blocks
marked ``bash run slow`` sample a Bayesian model.

Default tier (cheap): every ``alsstats`` command of every block is parsed by the
current command line's parser (so an option renamed in the tool fails here), and the
non-sampling blocks of one page (plan-slope-trial) run as above.  Running all eight
pages costs minutes (some 30 processes, each importing the scientific stack).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "guide"
JOBS = ("plan-slope-trial", "plan-bayesian-trial", "size-diagnostic-study", "validate-cutoff",
        "added-value", "score-patients", "model-decline", "ingest-site-data", "make-report")
FENCE = re.compile(r"^```bash[ \t]+run(?P<slow>[ \t]+slow)?[ \t]*\n(?P<body>.*?)^```[ \t]*$",
                   re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class Block:
    page: str
    code: str
    slow: bool
    writes: tuple[str, ...]


def blocks(page: str) -> list[Block]:
    """The runnable blocks of one guide page, in page order."""
    text = (GUIDE / f"{page}.md").read_text(encoding="utf-8")
    found = []
    for m in FENCE.finditer(text):
        body = m.group("body")
        writes = tuple(w for line in body.splitlines()
                       if line.strip().startswith("# writes:")
                       for w in line.split(":", 1)[1].split())
        found.append(Block(page, body, bool(m.group("slow")), writes))
    return found


def run_blocks(selected: list[Block], folder: Path) -> None:
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    for block in selected:
        result = subprocess.run(["bash", "-euo", "pipefail", "-c", block.code], cwd=folder,
                                env=env, capture_output=True, text=True, timeout=1800)
        assert result.returncode == 0, (
            f"{block.page}.md block failed (exit {result.returncode}):\n{block.code}\n"
            f"stdout:\n{result.stdout[-3000:]}\nstderr:\n{result.stderr[-3000:]}")
        for name in block.writes:
            path = folder / name
            assert path.is_file() and path.stat().st_size > 0, (
                f"{block.page}.md block did not write {name}:\n{block.code}")


def commands(block: Block) -> list[list[str]]:
    """The ``alsstats`` command lines of a block as argument lists (no redirections)."""
    text = re.sub(r"\\\n", " ", block.code)
    found = []
    for line in text.splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line.startswith("alsstats "):
            continue
        argv = shlex.split(line)
        for stop in (">", ">>", "|", "2>"):
            if stop in argv:
                argv = argv[:argv.index(stop)]
        found.append(argv[1:])
    return found


def test_one_page_per_job_each_with_runnable_blocks():
    assert sorted(p.stem for p in GUIDE.glob("*.md")) == sorted(JOBS)
    for page in JOBS:
        found = blocks(page)
        assert any(not b.slow for b in found), f"{page}.md has no default-tier block"
        assert all(b.code.strip() for b in found)


@pytest.mark.parametrize("page", JOBS)
def test_guide_commands_parse_with_the_current_cli(page, capsys):
    from alsstats.cli import build_parser

    argvs = [argv for block in blocks(page) for argv in commands(block)]
    assert argvs, f"{page}.md runs no alsstats command"
    for argv in argvs:
        try:
            build_parser().parse_args(argv)
        except SystemExit as exc:
            if exc.code != 0 or "--help" not in argv:
                pytest.fail(f"{page}.md: 'alsstats {shlex.join(argv)}' does not parse "
                            f"(exit {exc.code}): {capsys.readouterr().err.strip()}")


def test_guide_page_runs_plan_slope_trial(tmp_path):
    run_blocks([b for b in blocks("plan-slope-trial") if not b.slow], tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("page", JOBS)
def test_guide_page_runs(page, tmp_path):
    run_blocks(blocks(page), tmp_path)
