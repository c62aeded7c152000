"""LCModel outputs.

Strict readers (:mod:`.reader`) and the cohort's MRS columns with CRLB QC (:mod:`.mrs`).
"""

from alsstats._lazy import lazy_exports

_WHERE = {
    "LCModelResult": "reader",
    "read_lcmodel": "reader",
    "read_table": "reader",
    "read_coord": "reader",
    "read_csv": "reader",
    "MrsOptions": "mrs",
    "extract_mrs": "mrs",
}
__all__ = sorted(_WHERE)
__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
