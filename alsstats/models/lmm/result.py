"""Result containers of :mod:`alsstats.models.lmm.engine` (fit summary, Wald intervals, LRT)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["LMMResult", "LRTResult"]


@dataclass
class LMMResult:
    """A fitted linear mixed model (see the module docstring for the notation).

    ``deviance`` is the REML criterion for ``method="reml"`` and −2 log-likelihood
    for ``"ml"``; ``loglik`` is −deviance/2 (lme4's convention for both).
    ``aic``/``bic`` count p fixed effects, q(q+1)/2 covariance parameters and σ.
    ``random_effects`` are the conditional modes b̂_i (rows follow ``subjects``)
    and ``random_effects_cov`` their conditional covariances σ²W_i.
    """

    method: str
    fixed_names: list[str]
    fixed: np.ndarray
    fixed_cov: np.ndarray
    random_names: list[str]
    random_cov: np.ndarray
    sigma: float
    theta: np.ndarray
    deviance: float
    n_obs: int
    n_subjects: int
    converged: bool
    singular: bool
    message: str
    n_evaluations: int
    subjects: np.ndarray = field(repr=False)
    random_effects: np.ndarray = field(repr=False)
    random_effects_cov: np.ndarray = field(repr=False)

    @property
    def fixed_se(self) -> np.ndarray:
        """Standard errors of the fixed effects."""
        return np.sqrt(np.diag(self.fixed_cov))

    @property
    def random_sd(self) -> np.ndarray:
        """Standard deviations of the random effects."""
        return np.sqrt(np.diag(self.random_cov))

    @property
    def random_corr(self) -> np.ndarray:
        """Correlation matrix of the random effects (NaN where an SD is 0)."""
        sd = self.random_sd
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.random_cov / np.outer(sd, sd)

    @property
    def n_params(self) -> int:
        q = len(self.random_names)
        return len(self.fixed) + q * (q + 1) // 2 + 1

    @property
    def loglik(self) -> float:
        return -0.5 * self.deviance

    @property
    def aic(self) -> float:
        return self.deviance + 2.0 * self.n_params

    @property
    def bic(self) -> float:
        return self.deviance + np.log(self.n_obs) * self.n_params

    def conf_int(self, level: float = 0.95) -> np.ndarray:
        """Wald intervals β̂ ± z·SE, shape (p, 2)."""
        z = stats.norm.ppf(0.5 + level / 2.0)
        se = self.fixed_se
        return np.column_stack([self.fixed - z * se, self.fixed + z * se])

    def coef(self, name: str) -> float:
        """The fixed effect called ``name``."""
        return float(self.fixed[self._index(name)])

    def se(self, name: str) -> float:
        """Standard error of the fixed effect called ``name``."""
        return float(self.fixed_se[self._index(name)])

    def _index(self, name: str) -> int:
        try:
            return self.fixed_names.index(name)
        except ValueError:
            raise KeyError(f"no fixed effect {name!r}; have {self.fixed_names}") from None

    def summary(self, level: float = 0.95) -> pd.DataFrame:
        """Fixed effects with SE, Wald z, two-sided p and Wald interval."""
        ci = self.conf_int(level)
        z = self.fixed / self.fixed_se
        pct = f"{100 * level:g}%"
        return pd.DataFrame({"estimate": self.fixed, "se": self.fixed_se, "z": z,
                             "p": 2 * stats.norm.sf(np.abs(z)),
                             f"lower_{pct}": ci[:, 0], f"upper_{pct}": ci[:, 1]},
                            index=pd.Index(self.fixed_names, name="term"))

    def to_dict(self) -> dict:
        """JSON-ready summary of the fit."""
        q = len(self.random_names)
        corr = self.random_corr
        return {
            "method": self.method,
            "fixed_effects": {n: {"estimate": float(b), "se": float(s)}
                              for n, b, s in zip(self.fixed_names, self.fixed, self.fixed_se,
                                                 strict=True)},
            "random_sd": dict(zip(self.random_names, map(float, self.random_sd), strict=True)),
            "random_corr": {f"{self.random_names[a]}:{self.random_names[b]}": float(corr[a, b])
                            for a in range(q) for b in range(a)},
            "residual_sd": float(self.sigma),
            "deviance": float(self.deviance), "loglik": self.loglik,
            "aic": self.aic, "bic": self.bic,
            "n_obs": self.n_obs, "n_subjects": self.n_subjects,
            "converged": self.converged, "singular": self.singular,
        }


@dataclass(frozen=True)
class LRTResult:
    """Likelihood-ratio test of a reduced model within a full one."""

    statistic: float
    df: int
    p_value: float
