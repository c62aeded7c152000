"""Added value of each modality over NfL, and the posterior of the M1/precuneus cutoff.

Computes what the report's sections "Does each modality add to NfL?" and "How sure is the
1.00 cutoff?" show (:mod:`alsstats.validation.increment`,
:mod:`alsstats.validation.cutoff_posterior`).
"""

from __future__ import annotations

import pandas as pd

from alsstats.describe import baseline
from alsstats.validation.cutoff_posterior import CutoffPosterior, cutoff_posterior
from alsstats.validation.increment import IncrementResult, increment

__all__ = ["MODALITY_SETS", "modality_increment", "ratio_cutoff_posterior"]

#: The added sets of the report: each modality on top of NfL.
MODALITY_SETS = {"MRS (Glu/NAA, Glu/GABA)": ["glu_naa", "glu_gaba"],
                 "sMRI (M1/precuneus)": ["m1_precuneus_ratio"],
                 "fMRI (SMN)": ["smn_sma"], "blood (CHI3L1)": ["chi3l1_ng_ml"]}


def modality_increment(data: pd.DataFrame, *, seed: int, n_repeats: int = 5,
                       n_boot: int = 200) -> IncrementResult:
    """Out-of-fold added value of each modality over NfL (logistic, 5 folds).

    ALS (with PMA) against MIMIC and HC at baseline; intervals from the refit bootstrap.
    """
    return increment(data, base=["nfl_pg_ml"], added=list(MODALITY_SETS.values()),
                     n_repeats=n_repeats, n_boot=n_boot, seed=seed)


def ratio_cutoff_posterior(data: pd.DataFrame, *, seed: int, cutoff: float = 1.0,
                           delta: float = 0.05, n_boot: int = 1000) -> CutoffPosterior:
    """Posterior of the Youden-optimal M1/precuneus cutoff (binormal model) beside the
    bootstrap of the empirical optimum, in probable/definite ALS vs healthy controls at
    baseline (the population of the report's cutoff section)."""
    base = baseline(data)
    keep = base["group"].eq("HC") | (base["group"].eq("ALS")
                                     & base["el_escorial"].isin(["probable", "definite"]))
    ratio = base[keep & base["m1_precuneus_ratio"].notna()]
    return cutoff_posterior((ratio["group"] == "ALS").to_numpy(),
                            ratio["m1_precuneus_ratio"].to_numpy(), direction="<",
                            utility="youden", reference=cutoff, delta=delta, n_draws=4000,
                            n_boot=n_boot, seed=seed, name="m1_precuneus_ratio")
