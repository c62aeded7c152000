"""Headless Chromium for report tests: load a page, collect console errors and page requests.

Chromium is Debian's package; where it is missing and we are root, :func:`find_or_install`
installs it (apt-get).  The ``chromium`` fixture (``tests/conftest.py``) otherwise skips with
the reason, or fails under CI.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def find_or_install() -> tuple[str | None, str]:
    """Path of chromium (installing Debian's package if possible) and, if none, why."""
    path = shutil.which("chromium")
    if path:
        return path, ""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return None, "chromium is not installed and apt-get cannot be run (not root)"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, timeout=600,
                       capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=True, env=env,
                       timeout=900, capture_output=True)
    except (subprocess.SubprocessError, OSError) as exc:
        return None, f"chromium could not be installed with apt-get: {exc}"
    path = shutil.which("chromium")
    return path, "" if path else "apt-get install chromium did not provide a chromium binary"


@dataclass
class PageLoad:
    console_messages: list[str]
    requests: list[str]
    screenshot: Path


def load_page(chromium: str, html: Path, workdir: Path) -> PageLoad:
    """Load ``html`` headless; return console errors, page-initiated requests and a screenshot."""
    netlog = workdir / "netlog.json"
    shot = workdir / "shot.png"
    cmd = [chromium, *FLAGS, f"--user-data-dir={workdir / 'profile'}", "--enable-logging=stderr",
           "--v=0", f"--log-net-log={netlog}", "--window-size=1200,1600",
           f"--screenshot={shot}", html.resolve().as_uri()]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    # Chromium logs every console message (errors, CSP violations) as ":CONSOLE" lines; a
    # report has no scripts, so any console message is a problem.
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    log = json.loads(netlog.read_text())
    names = {v: k for k, v in log["constants"]["logEventTypes"].items()}
    requests = []
    for event in log["events"]:
        params = event.get("params", {})
        # page-initiated requests carry the page's origin ("null" for file://);
        # Chromium's own background requests have initiator "not an origin"
        if names.get(event["type"]) == "URL_REQUEST_START_JOB" and \
                params.get("initiator") not in (None, "not an origin"):
            requests.append(params.get("url", ""))
    return PageLoad(console, requests, shot)
