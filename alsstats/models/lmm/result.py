"""Result containers of :mod:`alsstats.models.lmm.engine` (fit summary, t intervals, LRT)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from alsstats.models.lmm.satterthwaite import satterthwaite_df

__all__ = ["LMMResult", "LRTResult"]


@dataclass
class LMMResult:
    """A fitted linear mixed model (see :mod:`.engine` and :mod:`.profile` for the notation).

    ``deviance`` is the REML criterion for ``method="reml"`` and −2 log-likelihood
    for ``"ml"``; ``loglik`` is −deviance/2 (lme4's convention for both).
    ``aic``/``bic`` count p fixed effects, K·q(q+1)/2 covariance parameters and σ.
    ``random_cov`` is (q, q), or (K, q, q) with one covariance per variance group
    (``variance_groups``; ``subject_variance_group`` gives each subject's).
    ``random_effects`` are the conditional modes b̂_i (rows follow ``subjects``),
    ``random_effects_cov`` their conditional covariances σ²W_i given β̂, and
    ``random_effects_gain`` K_i with b_i | β, y ~ N(b̂_i − K_i(β − β̂), σ²W_i).
    ``fixed_df`` are Satterthwaite degrees of freedom (∞ when not computed);
    ``varpar_cov`` and ``fixed_cov_jac`` give them for any contrast
    (:meth:`contrast`).  ``singular`` marks a boundary fit (a zero SD or a correlation
    of ±1), which is not a failure of the optimiser but must be reported.
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
    fixed_df: np.ndarray | None = field(default=None, repr=False)
    varpar_cov: np.ndarray | None = field(default=None, repr=False)
    fixed_cov_jac: np.ndarray | None = field(default=None, repr=False)
    random_effects_gain: np.ndarray | None = field(default=None, repr=False)
    variance_groups: list[str] = field(default_factory=lambda: ["all"])
    subject_variance_group: np.ndarray | None = field(default=None, repr=False)

    @property
    def fixed_se(self) -> np.ndarray:
        """Standard errors of the fixed effects."""
        return np.sqrt(np.diag(self.fixed_cov))

    @property
    def df(self) -> np.ndarray:
        """Satterthwaite degrees of freedom of each fixed effect (∞: normal reference)."""
        return (np.full(len(self.fixed), np.inf) if self.fixed_df is None
                else np.asarray(self.fixed_df, dtype=float))

    @property
    def random_sd(self) -> np.ndarray:
        """Standard deviations of the random effects, (q,) or (K, q)."""
        return np.sqrt(np.diagonal(self.random_cov, axis1=-2, axis2=-1))

    @property
    def random_corr(self) -> np.ndarray:
        """Correlation matrix of the random effects (NaN where an SD is 0)."""
        sd = self.random_sd
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.random_cov / (sd[..., :, None] * sd[..., None, :])

    @property
    def n_params(self) -> int:
        q = len(self.random_names)
        return len(self.fixed) + len(self.variance_groups) * q * (q + 1) // 2 + 1

    @property
    def loglik(self) -> float:
        return -0.5 * self.deviance

    @property
    def aic(self) -> float:
        return self.deviance + 2.0 * self.n_params

    @property
    def bic(self) -> float:
        return self.deviance + np.log(self.n_obs) * self.n_params

    def contrast(self, c, level: float = 0.95) -> dict[str, float]:
        """Estimate, SE, Satterthwaite df, t, two-sided p and t interval of c'β."""
        c = np.asarray(c, dtype=float)
        est = float(c @ self.fixed)
        se = float(np.sqrt(c @ self.fixed_cov @ c))
        df = float(satterthwaite_df(c, self.fixed_cov, self.varpar_cov, self.fixed_cov_jac)[0])
        q = stats.t.ppf(0.5 + level / 2.0, df)
        t = est / se if se > 0 else np.nan
        return {"estimate": est, "se": se, "df": df, "t": t,
                "p": float(2 * stats.t.sf(abs(t), df)), "lower": est - q * se,
                "upper": est + q * se}

    def conf_int(self, level: float = 0.95) -> np.ndarray:
        """t intervals β̂ ± t_{df}·SE with Satterthwaite df, shape (p, 2)."""
        q = stats.t.ppf(0.5 + level / 2.0, self.df)
        se = self.fixed_se
        return np.column_stack([self.fixed - q * se, self.fixed + q * se])

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
        """Fixed effects with SE, Satterthwaite df, t, two-sided p and t interval."""
        ci = self.conf_int(level)
        t = self.fixed / self.fixed_se
        pct = f"{100 * level:g}%"
        return pd.DataFrame({"estimate": self.fixed, "se": self.fixed_se, "df": self.df,
                             "t": t, "p": 2 * stats.t.sf(np.abs(t), self.df),
                             f"lower_{pct}": ci[:, 0], f"upper_{pct}": ci[:, 1]},
                            index=pd.Index(self.fixed_names, name="term"))

    def _random_dict(self, cov: np.ndarray) -> dict:
        q = len(self.random_names)
        sd = np.sqrt(np.diag(cov))
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = cov / np.outer(sd, sd)
        return {"random_sd": dict(zip(self.random_names, map(float, sd), strict=True)),
                "random_corr": {f"{self.random_names[a]}:{self.random_names[b]}":
                                float(corr[a, b]) for a in range(q) for b in range(a)}}

    def to_dict(self) -> dict:
        """JSON-ready summary of the fit."""
        out = {
            "method": self.method,
            "fixed_effects": {n: {"estimate": float(b), "se": float(s), "df": float(d)}
                              for n, b, s, d in zip(self.fixed_names, self.fixed,
                                                    self.fixed_se, self.df, strict=True)},
            "residual_sd": float(self.sigma),
            "deviance": float(self.deviance), "loglik": self.loglik,
            "aic": self.aic, "bic": self.bic,
            "n_obs": self.n_obs, "n_subjects": self.n_subjects,
            "converged": self.converged, "singular": self.singular,
        }
        if self.random_cov.ndim == 2:
            out.update(self._random_dict(self.random_cov))
        else:
            out["random_by_group"] = {g: self._random_dict(c) for g, c in
                                      zip(self.variance_groups, self.random_cov, strict=True)}
        return out


@dataclass(frozen=True)
class LRTResult:
    """Likelihood-ratio test of a reduced model within a full one."""

    statistic: float
    df: int
    p_value: float
