"""MCMC convergence checks: rank-normalised R-hat, bulk and tail ESS, divergences.

Criteria (Vehtari, Gelman, Simpson, Carpenter & Bürkner 2021, *Bayesian
Analysis* 16:667): R-hat ≤ 1.01 for every scalar parameter, bulk and tail ESS
≥ 100 per chain, and no divergent transitions.  A fit that misses any of them
is *not converged*: :func:`warn_if_not_converged` raises a
:class:`~alsstats.errors.ConvergenceWarning`, and every output made from the fit
carries the flag.  A variational (ADVI) fit is never "converged".
"""

from __future__ import annotations

import json
import warnings
from dataclasses import asdict, dataclass

import arviz as az
import numpy as np

from alsstats.errors import ConvergenceWarning

__all__ = ["Convergence", "check_convergence", "warn_if_not_converged"]


@dataclass(frozen=True)
class Convergence:
    """Convergence summary of a fit over the checked parameters (worst values)."""

    max_rhat: float
    min_ess_bulk: float
    min_ess_tail: float
    divergences: int
    chains: int
    draws: int
    worst_parameter: str
    approximate: bool = False
    rhat_max_allowed: float = 1.01
    ess_per_chain_min: float = 100.0

    @property
    def ok(self) -> bool:
        """True when every criterion is met (never for a variational fit)."""
        need = self.ess_per_chain_min * self.chains
        return (not self.approximate and self.max_rhat <= self.rhat_max_allowed
                and self.min_ess_bulk >= need and self.min_ess_tail >= need
                and self.divergences == 0)

    def problems(self) -> list[str]:
        """Human-readable list of the criteria that failed."""
        if self.approximate:
            return ["variational (ADVI) approximation: no MCMC convergence guarantee"]
        need = self.ess_per_chain_min * self.chains
        out = []
        if self.chains < 2:
            out.append("R-hat needs 2 or more chains")
        elif not self.max_rhat <= self.rhat_max_allowed:
            out.append(f"max R-hat {self.max_rhat:.3f} > {self.rhat_max_allowed} "
                       f"({self.worst_parameter})")
        if not self.min_ess_bulk >= need:
            out.append(f"min bulk ESS {self.min_ess_bulk:.0f} < {need:.0f}")
        if not self.min_ess_tail >= need:
            out.append(f"min tail ESS {self.min_ess_tail:.0f} < {need:.0f}")
        if self.divergences:
            out.append(f"{self.divergences} divergent transitions")
        return out

    def to_dict(self) -> dict:
        return {**asdict(self), "ok": self.ok}

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> Convergence:
        data = json.loads(text)
        data.pop("ok", None)
        return cls(**data)


def check_convergence(idata: az.InferenceData, var_names: list[str], *,
                      approximate: bool = False) -> Convergence:
    """Compute the worst R-hat, bulk/tail ESS and the divergence count over ``var_names``."""
    post = idata.posterior
    chains, draws = int(post.sizes["chain"]), int(post.sizes["draw"])
    if approximate:
        return Convergence(np.nan, np.nan, np.nan, 0, chains, draws, "", approximate=True)
    names = [v for v in var_names if v in post and post[v].size > 0]
    rhat = az.rhat(post, var_names=names)
    bulk = az.ess(post, var_names=names, method="bulk")
    tail = az.ess(post, var_names=names, method="tail")
    worst_name, worst_rhat = "", -np.inf
    for v in names:
        vals = np.asarray(rhat[v]).ravel()
        if vals.size and np.nanmax(vals) > worst_rhat:
            worst_rhat, worst_name = float(np.nanmax(vals)), v
    min_bulk = min(float(np.nanmin(np.asarray(bulk[v]))) for v in names)
    min_tail = min(float(np.nanmin(np.asarray(tail[v]))) for v in names)
    div = 0
    stats = getattr(idata, "sample_stats", None)
    if stats is not None and "diverging" in stats:
        div = int(np.asarray(stats["diverging"]).sum())
    return Convergence(worst_rhat, min_bulk, min_tail, div, chains, draws, worst_name)


def warn_if_not_converged(conv: Convergence, what: str = "fit") -> None:
    """Emit a :class:`ConvergenceWarning` listing the failed criteria, if any."""
    if not conv.ok:
        warnings.warn(f"{what} did not converge: {'; '.join(conv.problems())}. Treat its "
                      "results as unreliable (more tuning/draws, or check the data).",
                      ConvergenceWarning, stacklevel=3)
