"""Report sections: lay out already-computed results as text, tables and figures.

Each builder takes result objects or frames and returns a
:class:`~alsstats.report.document.Section`; none of them computes statistics.
"""

from __future__ import annotations

import pandas as pd

from alsstats.report.document import Section, Table
from alsstats.report.figures import missingness_figure

__all__ = ["cohort_section"]


def cohort_section(summary: pd.DataFrame, patterns: pd.DataFrame, markers: list[str], *,
                   description: str) -> Section:
    """Cohort summary by group and the baseline missingness patterns."""
    n_subjects = int(summary["subjects"].sum())
    table = summary.reset_index()
    complete = patterns[patterns[markers].all(axis=1)]["total"].sum()
    return Section(
        title="Cohort",
        slug="cohort",
        paragraphs=[description,
                    f"{n_subjects} subjects; {int(complete)} ({100 * complete / n_subjects:.0f}%)"
                    " have every marker at baseline. Missing markers are never imputed: the "
                    "diagnostic model marginalizes them."],
        items=[
            Table("Baseline summary by group", table,
                  "Subjects, visits, mean age, % male, median ALSFRS-R, and each marker's median "
                  "and availability (% of subjects) at baseline.", slug="summary"),
            missingness_figure(patterns, markers, title="Missingness patterns at baseline",
                               caption="Each row is a pattern of available (dark) and missing "
                                       "(light) markers, with its number of subjects; the counts "
                                       "by group are in the CSV.", slug="missingness"),
        ],
    )
