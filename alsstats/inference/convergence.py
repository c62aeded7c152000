r"""MCMC convergence: one policy for every Bayesian model, checked and enforced.

The policy (Vehtari, Gelman, Simpson, Carpenter & Bürkner 2021, *Bayesian
Analysis* 16:667) is, for every scalar parameter checked,

.. math::

    \hat R \le 1.01,\qquad \mathrm{ESS}_{bulk} \ge 400,\qquad
    \mathrm{ESS}_{tail} \ge 400,\qquad \text{divergent transitions} \le 0,

with R-hat the rank-normalised split R-hat and the ESS *totals over chains*
(400 is Vehtari et al.'s recommendation for four chains of 100; it does not
shrink with fewer chains).  The thresholds are a :class:`ConvergencePolicy`,
editable in each model's TOML spec (``[convergence]``).  A fit that misses
any of them is *not converged*: :func:`warn_if_not_converged` emits one
:class:`~alsstats.errors.ConvergenceWarning` line naming the worst parameter
and what to try, and every output made from the fit carries the flag.  A
variational (ADVI) fit is never converged.  Fits by optimisation (REML/ML)
report :class:`OptimizerConvergence` with the same ``ok``/``problems``/``message``/
``to_dict`` interface.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import asdict, dataclass, field, fields

import arviz as az
import numpy as np

from alsstats.errors import ConvergenceWarning, SpecError

__all__ = ["Convergence", "ConvergencePolicy", "OptimizerConvergence", "check_convergence",
           "warn_if_not_converged"]


@dataclass(frozen=True)
class ConvergencePolicy:
    """Thresholds a fit must meet: max R-hat, min bulk and tail ESS (totals over
    chains) and the largest number of divergent transitions allowed."""

    max_rhat: float = 1.01
    min_ess_bulk: float = 400.0
    min_ess_tail: float = 400.0
    max_divergences: int = 0

    def to_dict(self) -> dict[str, float]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data, source: str = "spec") -> ConvergencePolicy:
        """Validate a ``[convergence]`` table (missing keys take the defaults)."""
        if not isinstance(data, dict):
            raise SpecError(f"{source}: [convergence] must be a table")
        allowed = {f.name for f in fields(cls)}
        extra = sorted(set(data) - allowed)
        if extra:
            raise SpecError(f"{source}: unknown [convergence] key {', '.join(map(repr, extra))}; "
                            f"allowed: {', '.join(sorted(allowed))}")
        for key, value in data.items():
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise SpecError(f"{source}: [convergence] {key} must be a non-negative number; "
                                f"got {value!r}")
        if data.get("max_rhat", 1.01) < 1:
            raise SpecError(f"{source}: [convergence] max_rhat must be >= 1; "
                            f"got {data['max_rhat']!r}")
        div = data.get("max_divergences", 0)
        if int(div) != div:
            raise SpecError(f"{source}: [convergence] max_divergences must be an integer; "
                            f"got {div!r}")
        return cls(max_rhat=float(data.get("max_rhat", 1.01)),
                   min_ess_bulk=float(data.get("min_ess_bulk", 400.0)),
                   min_ess_tail=float(data.get("min_ess_tail", 400.0)),
                   max_divergences=int(div))


@dataclass(frozen=True)
class Convergence:
    """Convergence summary of a fit over the checked parameters (worst values), and the
    policy it is judged by.  ``worst_parameter`` has the largest R-hat,
    ``lowest_ess_parameter`` the smallest bulk or tail ESS."""

    max_rhat: float
    min_ess_bulk: float
    min_ess_tail: float
    divergences: int
    chains: int
    draws: int
    worst_parameter: str
    approximate: bool = False
    lowest_ess_parameter: str = ""
    policy: ConvergencePolicy = field(default_factory=ConvergencePolicy)

    @property
    def ok(self) -> bool:
        """True when every criterion is met (never for a variational fit)."""
        return not self.problems()

    def problems(self) -> list[str]:
        """The criteria that failed, one phrase each (empty when converged)."""
        if self.approximate:
            return ["variational (ADVI) approximation: no MCMC convergence guarantee"]
        p = self.policy
        out = []
        if self.chains < 2:
            out.append("R-hat needs 2 or more chains")
        elif not self.max_rhat <= p.max_rhat:
            out.append(f"max R-hat {self.max_rhat:.3f} > {p.max_rhat:g} ({self.worst_parameter})")
        if not self.min_ess_bulk >= p.min_ess_bulk:
            out.append(f"min bulk ESS {self.min_ess_bulk:.0f} < {p.min_ess_bulk:.0f} "
                       f"({self.lowest_ess_parameter})")
        if not self.min_ess_tail >= p.min_ess_tail:
            out.append(f"min tail ESS {self.min_ess_tail:.0f} < {p.min_ess_tail:.0f} "
                       f"({self.lowest_ess_parameter})")
        if self.divergences > p.max_divergences:
            out.append(f"{self.divergences} divergent transitions")
        return out

    def advice(self) -> str:
        """What to try for the failed criteria."""
        if self.approximate:
            return "use the nutpie sampler for inference"
        tips = []
        if self.divergences > self.policy.max_divergences:
            tips.append("a higher target_accept (0.95, 0.99)")
        if self.chains < 2 or self.max_rhat > self.policy.max_rhat \
                or self.min_ess_bulk < self.policy.min_ess_bulk \
                or self.min_ess_tail < self.policy.min_ess_tail:
            tips.append(f"more tune/draws (e.g. twice the {self.draws} draws per chain"
                        f"{', 2+ chains' if self.chains < 2 else ''})")
        return "try " + " or ".join(tips)

    def message(self, what: str = "fit") -> str:
        """One line: what failed, on which parameter, and what to try."""
        return f"{what} did not converge: {'; '.join(self.problems())}; {self.advice()}"

    def to_dict(self) -> dict:
        out = asdict(self)
        out["ok"] = self.ok
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> Convergence:
        """Read :meth:`to_json` output (also the older per-chain ESS form)."""
        data = json.loads(text)
        data.pop("ok", None)
        if "policy" in data:
            data["policy"] = ConvergencePolicy(**data["policy"])
        else:   # alsstats <= 0.x: R-hat limit and ESS per chain
            per_chain = data.pop("ess_per_chain_min", 100.0) * data["chains"]
            data["policy"] = ConvergencePolicy(max_rhat=data.pop("rhat_max_allowed", 1.01),
                                               min_ess_bulk=per_chain, min_ess_tail=per_chain)
        return cls(**data)


@dataclass(frozen=True)
class OptimizerConvergence:
    """Convergence of a REML/ML fit: the optimiser's verdict, and whether the fit is
    singular (a variance component at zero or a correlation at ±1)."""

    optimizer_converged: bool
    singular: bool
    optimizer_message: str

    @property
    def ok(self) -> bool:
        return self.optimizer_converged

    def problems(self) -> list[str]:
        return [] if self.ok else [f"optimizer did not converge ({self.optimizer_message})"]

    def message(self, what: str = "fit") -> str:
        return (f"{what} did not converge: {'; '.join(self.problems())}; try rescaling "
                "the outcome or time, or a simpler random-effects structure")

    def to_dict(self) -> dict:
        return {"optimizer_converged": self.optimizer_converged, "singular": self.singular,
                "optimizer_message": self.optimizer_message, "ok": self.ok}


def check_convergence(idata: az.InferenceData, var_names: list[str], *,
                      approximate: bool = False,
                      policy: ConvergencePolicy | None = None) -> Convergence:
    """Worst R-hat, bulk/tail ESS and the divergence count over ``var_names``."""
    policy = policy or ConvergencePolicy()
    post = idata.posterior
    chains, draws = int(post.sizes["chain"]), int(post.sizes["draw"])
    if approximate:
        return Convergence(np.nan, np.nan, np.nan, 0, chains, draws, "", approximate=True,
                           policy=policy)
    names = [v for v in var_names if v in post and post[v].size > 0]
    with warnings.catch_warnings():   # ArviZ warns on 1 chain; the policy reports it
        warnings.simplefilter("ignore", UserWarning)
        rhat = az.rhat(post, var_names=names)
        bulk = az.ess(post, var_names=names, method="bulk")
        tail = az.ess(post, var_names=names, method="tail")
    worst_name, worst_rhat = "", -np.inf
    low_name, min_bulk, min_tail = "", np.inf, np.inf
    for v in names:
        r = np.asarray(rhat[v]).ravel()
        if r.size and np.nanmax(r) > worst_rhat:
            worst_rhat, worst_name = float(np.nanmax(r)), v
        b, t = float(np.nanmin(np.asarray(bulk[v]))), float(np.nanmin(np.asarray(tail[v])))
        if min(b, t) < min(min_bulk, min_tail):
            low_name = v
        min_bulk, min_tail = min(min_bulk, b), min(min_tail, t)
    div = 0
    stats = getattr(idata, "sample_stats", None)
    if stats is not None and "diverging" in stats:
        div = int(np.asarray(stats["diverging"]).sum())
    return Convergence(worst_rhat, min_bulk, min_tail, div, chains, draws, worst_name,
                       lowest_ess_parameter=low_name, policy=policy)


def warn_if_not_converged(conv: Convergence, what: str = "fit") -> None:
    """Emit one :class:`ConvergenceWarning` line (:meth:`Convergence.message`) if not ok."""
    if not conv.ok:
        warnings.warn(conv.message(what), ConvergenceWarning, stacklevel=3)
