"""FreeSurfer outputs: per-subject ``stats/`` files, group tables and ``aparc+aseg.mgz``.

Modules: :mod:`.stats_file` (the strict ``.stats`` grammar), :mod:`.subject` (M1,
precuneus and total gray matter of one subject), :mod:`.group` (``aparcstats2table`` /
``asegstats2table`` TSVs, ``aparc+aseg.mgz`` volumes).
"""

from alsstats._lazy import lazy_exports

_WHERE = {
    "DESIKAN_STRUCTURES": "subject",
    "FreeSurferSubject": "subject",
    "read_aparc": "subject",
    "read_aseg": "subject",
    "read_subject": "subject",
    "read_stats": "stats_file",
    "read_aparc_table": "group",
    "read_aseg_table": "group",
    "read_aparc_aseg_volumes": "group",
}
__all__ = sorted(_WHERE)
__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
