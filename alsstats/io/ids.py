"""One subject-ID normaliser for every source (FreeSurfer folders, LCModel files, ICA maps, sheets).

A raw name (folder name, file stem, sheet cell) is matched against a regular
expression with a named group ``subject`` and an optional group ``visit``
(default ``^(?P<subject>.+?)(?:_ses-(?P<visit>[0-9]+))?$``, i.e. BIDS-style
``sub-01_ses-1``).  The subject part then loses a ``sub-`` prefix, and, only
when configured, its case and the zero padding of an all-digit label.  Every
raw → normalised mapping is reported in the provenance sidecar.

Duplicates are detected on a stricter *collision key* (case folded, ``sub``
prefix and separators removed, zero padding removed), so ``sub-01``, ``01``
and ``SUB01`` (and a re-run ``sub-01_rerun``) are refused as the same
participant even when the configured normalisation keeps them apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["DEFAULT_ID_PATTERN", "IdRules", "collision_key", "duplicate_groups", "strip_rerun"]

DEFAULT_ID_PATTERN = r"^(?P<subject>.+?)(?:_ses-(?P<visit>[0-9]+))?$"
_SUB_PREFIX = re.compile(r"^sub-", re.IGNORECASE)
_RERUN = re.compile(r"[_.-]?(re-?run|redo|repeat)[0-9]*$", re.IGNORECASE)


@dataclass(frozen=True)
class IdRules:
    """How raw names become ``(subject_id, visit)`` keys.

    Parameters
    ----------
    pattern
        Regular expression (full match) with a ``subject`` group and an
        optional ``visit`` group (an integer).
    strip_prefix
        Remove a leading ``sub-``.
    casefold
        Upper-case the subject label (``s01`` and ``S01`` become one).
    strip_zeros
        Remove the zero padding of all-digit labels (``007`` → ``7``).
    default_visit
        Visit used when the name carries none.
    """

    pattern: str = DEFAULT_ID_PATTERN
    strip_prefix: bool = True
    casefold: bool = False
    strip_zeros: bool = False
    default_visit: int = 0

    def __post_init__(self):
        compiled = re.compile(self.pattern)
        if "subject" not in compiled.groupindex:
            raise ValueError(f"ID pattern {self.pattern!r} has no (?P<subject>...) group")
        object.__setattr__(self, "_regex", compiled)

    def subject(self, raw: str) -> str:
        """Normalise a subject label (no visit parsing)."""
        s = str(raw).strip()
        if self.strip_prefix:
            s = _SUB_PREFIX.sub("", s)
        if self.casefold:
            s = s.upper()
        if self.strip_zeros and s.isdigit():
            s = str(int(s))
        return s

    def key(self, raw: str) -> tuple[str, int] | None:
        """``(subject_id, visit)`` for a raw name, or ``None`` if it does not match."""
        m = self._regex.fullmatch(str(raw).strip())
        if m is None or not m.group("subject"):
            return None
        visit = m.groupdict().get("visit")
        return self.subject(m.group("subject")), (int(visit) if visit is not None
                                                  else self.default_visit)


def strip_rerun(name: str) -> str:
    """``name`` without a re-run suffix (``_rerun``, ``-redo2``, ``.repeat``), any case."""
    return _RERUN.sub("", str(name).strip(), count=1)


def collision_key(subject: str) -> str:
    """Aggressive normalisation used only to detect duplicates.

    ``sub-01``, ``01``, ``SUB01`` and the re-run ``sub-01_rerun`` all give ``1``.
    """
    s = re.sub(r"^sub[-_]?", "", str(subject).strip().lower())
    s = _RERUN.sub("", s)
    s = re.sub(r"[^0-9a-z]", "", s)
    return re.sub(r"(?<![0-9])0+(?=[0-9])", "", s)


def duplicate_groups(entries: list[tuple[str, str, int]]) -> list[list[str]]:
    """Groups of raw names that resolve to the same participant and visit.

    ``entries`` are ``(raw_name, subject_id, visit)``; two entries collide when
    their :func:`collision_key` and visit agree.  Returns the colliding raw
    names, one list per group, in input order.
    """
    groups: dict[tuple[str, int], list[str]] = {}
    for raw, subject, visit in entries:
        groups.setdefault((collision_key(subject), visit), []).append(raw)
    return [names for names in groups.values() if len(names) > 1]
