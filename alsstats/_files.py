"""Atomic file output and content hashing.

Every file alsstats writes goes through :func:`atomic_write`: the content is
written to a temporary file in the destination folder and renamed into place
only when complete, so an error never leaves a half-written file behind.

The target must be a regular file or not exist: a rename over a FIFO, a device
or a folder would replace it with a regular file, so it is refused.  Missing
parent folders are created; a parent that is a file, or a folder that cannot be
written, is one :class:`OutputError` naming the target (never the temporary file).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alsstats.errors import DataValidationError, OutputError, Problem

__all__ = ["atomic_path", "atomic_write", "check_output_target", "check_utf8", "file_sha256",
           "write_json"]


def check_output_target(path: str | os.PathLike, *, folder: bool = False) -> Path:
    """Check that ``path`` can be written (created or replaced) as a file or a folder.

    Raises :class:`OutputError` when ``path`` exists and is not a regular file
    (``folder=False``) or not a folder (``folder=True``), or when an ancestor
    that exists is not a folder.  Nothing is created.
    """
    target = Path(path)
    try:
        st = os.stat(target)
    except (FileNotFoundError, NotADirectoryError):
        st = None
    except OSError as exc:
        raise OutputError(f"{target}: cannot be written: {exc.strerror}") from None
    if st is not None:
        if folder and not stat.S_ISDIR(st.st_mode):
            raise OutputError(f"{target}: exists and is not a folder; give a folder path")
        if not folder and not stat.S_ISREG(st.st_mode):
            kind = _KINDS.get(stat.S_IFMT(st.st_mode), "not a regular file")
            raise OutputError(f"{target}: exists and is {kind}; only a regular file is "
                              "replaced (give another path)")
    for parent in target.absolute().parents:
        if parent.exists():
            if not parent.is_dir():
                raise OutputError(f"{target}: cannot create it because {parent} is a file, "
                                  "not a folder")
            break
    return target


_KINDS = {stat.S_IFDIR: "a folder", stat.S_IFIFO: "a FIFO (named pipe)",
          stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
          stat.S_IFSOCK: "a socket"}


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it to ``path`` on success.

    On any exception the temporary file is removed and ``path`` is untouched.

    Raises
    ------
    OutputError
        ``path`` exists and is not a regular file, a parent is a file, or the
        folder cannot be created or written (the message names ``path``).
    """
    target = check_output_target(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise OutputError(f"{target}: cannot be written: {exc.strerror}") from None
    os.close(fd)
    tmp_path = Path(tmp)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp_path, 0o666 & ~umask)  # mkstemp makes 0600; give the usual permissions
    try:
        yield tmp_path
        check_output_target(target)  # it may have been replaced meanwhile
        try:
            os.replace(tmp_path, target)
        except OSError as exc:
            raise OutputError(f"{target}: cannot be written: {exc.strerror}") from None
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w", **kwargs: Any) -> Iterator[Any]:
    """Open a temporary file for writing and move it to ``path`` when closed cleanly."""
    with atomic_path(path) as tmp, open(tmp, mode, **kwargs) as handle:
        yield handle


def write_json(path: str | os.PathLike, obj: Any) -> None:
    """Write ``obj`` as indented, key-sorted JSON, atomically."""
    with atomic_write(path, encoding="utf-8") as fh:
        json.dump(obj, fh, indent=2, sort_keys=True, default=str)
        fh.write("\n")


def file_sha256(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """SHA-256 hex digest of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def check_utf8(path: str | os.PathLike) -> None:
    """Raise a one-line :class:`DataValidationError` naming the line of the first byte that
    is not UTF-8 (a text table saved as Latin-1 or UTF-16, or a binary file)."""
    p = Path(path)
    data = p.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise DataValidationError([Problem(
            f"line {line}: not UTF-8 text (byte {exc.start}); save the file as UTF-8",
            file=str(p))]) from None
