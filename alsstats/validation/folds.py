"""Repeated, stratified, subject-grouped K-fold splits.

All rows (visits) of one subject go to the same fold.  Subjects are
stratified by their class: within each class they are shuffled and dealt
round-robin to the K folds, continuing the deal across classes so that
fold sizes differ by at most one subject.  Repeat r uses the r-th child of
``SeedSequence(seed)``, so the splits depend only on the seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from alsstats.errors import DataValidationError, Problem
from alsstats.random import spawn_seeds

__all__ = ["Split", "grouped_stratified_folds", "subject_labels"]

MIN_SUBJECTS_PER_CLASS_PER_FOLD = 2


@dataclass(frozen=True)
class Split:
    """One train/test split: repeat and fold numbers and row positions."""

    repeat: int
    fold: int
    train: np.ndarray
    test: np.ndarray


def subject_labels(labels: np.ndarray, groups) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Codes of each row's subject, the subjects' ids and their (constant) class.

    Raises if a subject's rows carry both classes.
    """
    g = pd.Series(np.asarray(groups), dtype=object)
    if g.isna().any():
        raise DataValidationError([Problem(
            f"{int(g.isna().sum())} row(s) have no subject id", column="subject")])
    codes, ids = pd.factorize(g, sort=True)
    pos_per_subject = np.bincount(codes, weights=labels.astype(float), minlength=ids.size)
    rows_per_subject = np.bincount(codes, minlength=ids.size)
    mixed = (pos_per_subject > 0) & (pos_per_subject < rows_per_subject)
    if mixed.any():
        raise DataValidationError([Problem(
            "the outcome differs between rows of one subject; it must be constant per subject",
            column="subject", value=str(ids[np.flatnonzero(mixed)[0]]))])
    return codes, np.asarray(ids), pos_per_subject > 0


def grouped_stratified_folds(labels, groups=None, *, n_folds: int = 5, n_repeats: int = 1,
                             seed: int | np.random.SeedSequence | None = None) -> list[Split]:
    """Splits for ``n_repeats`` × ``n_folds`` subject-grouped, class-stratified CV.

    Parameters
    ----------
    labels : array of bool
        Row outcome (constant within a subject).
    groups : array, optional
        Subject id per row; ``None`` treats each row as its own subject.
    n_folds, n_repeats : int
    seed : int or SeedSequence

    Raises
    ------
    DataValidationError
        If a class has fewer than 2 subjects per fold (``2 * n_folds`` in all),
        so that every test fold holds at least two subjects of each class.
    """
    y = np.asarray(labels, dtype=bool)
    if int(n_folds) < 2 or int(n_repeats) < 1:
        raise DataValidationError([Problem("need n_folds >= 2 and n_repeats >= 1",
                                           value=(n_folds, n_repeats))])
    codes, _, subj_y = (np.arange(y.size), np.arange(y.size), y) if groups is None \
        else subject_labels(y, groups)
    problems = []
    for cls, name in ((True, "positive"), (False, "negative")):
        n_c = int((subj_y == cls).sum())
        if n_c < MIN_SUBJECTS_PER_CLASS_PER_FOLD * n_folds:
            most = n_c // MIN_SUBJECTS_PER_CLASS_PER_FOLD
            problems.append(Problem(
                f"the {name} class has {n_c} subject(s); {n_folds} folds need at least "
                f"{MIN_SUBJECTS_PER_CLASS_PER_FOLD * n_folds} (2 per class per fold); "
                f"use at most {most} folds" if most >= 2 else
                f"the {name} class has {n_c} subject(s); cross-validation needs at least 4"))
    if problems:
        raise DataValidationError(problems)
    splits = []
    for r, ss in enumerate(spawn_seeds(seed, int(n_repeats))):
        rng = np.random.default_rng(ss)
        subject_fold = np.empty(subj_y.size, dtype=int)
        dealt = 0
        for cls in (True, False):
            members = rng.permutation(np.flatnonzero(subj_y == cls))
            subject_fold[members] = (dealt + np.arange(members.size)) % n_folds
            dealt += members.size
        row_fold = subject_fold[codes]
        for k in range(n_folds):
            test = np.flatnonzero(row_fold == k)
            train = np.flatnonzero(row_fold != k)
            splits.append(Split(repeat=r, fold=k, train=train, test=test))
    return splits
