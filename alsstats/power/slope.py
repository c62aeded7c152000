r"""Sample size, power and detectable effect for slope-endpoint trials (GLS information).

One engine answers every slope-trial question.  Each subject ``i`` of arm ``g``
contributes the visits ``1..k`` it completed (``k`` = its last visit), with the
linear mixed model

.. math::

    y_{ij} = x_{gj}^\top \theta + \varepsilon_{ij}, \qquad
    \operatorname{Cov}(y_{i,1..k}) = V_{[1..k]},

where ``V`` is the within-subject covariance of the complete visit schedule: either
the random-intercept/slope form :math:`V = Z G Z^\top + \sigma^2_e I` with
:math:`Z = [1, t]`, or any positive-definite matrix (exchangeable, AR(1), ...).
The expected Fisher information per randomised subject averages over arms and
completion patterns,

.. math::

    \mathcal I = \sum_g \pi_g \sum_k p_{gk}\, X_{g,[1..k]}^\top V_{[1..k]}^{-1} X_{g,[1..k]},

(``π_g`` the arm fractions, ``p_gk`` the share of arm ``g`` whose last visit is ``k``)
and the generalised-least-squares estimate of a contrast :math:`c^\top\theta` has
:math:`\operatorname{Var}(c^\top\hat\theta) = c^\top \mathcal I^{-1} c / N`.  For the
slope trial :math:`\theta` holds the control intercept, the arm difference in
intercepts (dropped with ``common_baseline=True``: randomisation makes the arms share
their baseline mean), the control slope and the slope difference :math:`\Delta`, the
tested contrast.  Writing :math:`\operatorname{Var}(\hat\Delta) = v / n_c` (``n_c`` the
control-arm size, ``n_t = r n_c`` with allocation ratio ``r``), the normal-theory
relations of Diggle et al. (2002, §2.4) and Liu & Liang (1997) are

.. math::

    n_c = \frac{(z_{1-\alpha/s} + z_{1-\beta})^2\, v}{\Delta^2}, \qquad
    1 - \beta = \Phi\!\left(\frac{|\Delta|}{\sqrt{v / n_c}} - z_{1-\alpha/s}\right),

with ``s = 2`` for a two-sided and ``s = 1`` for a one-sided test.  As in those papers
(and in R's longpower) the probability of rejecting in the wrong direction,
:math:`\Phi(-|\Delta|/\mathrm{SE} - z)`, is ignored; it is below ``α/2``.

With complete data and the random-effects covariance this reduces to the classical
:math:`v = 2\,(\sigma^2_{b_1} + \sigma^2_e / \sum_j (t_j - \bar t)^2)` for equal arms,
and with an exchangeable covariance to Diggle's
:math:`2\sigma^2(1-\rho)/\sum_j (t_j-\bar t)^2`.  :func:`edland_sample_size` gives the
Edland (2009) / Ard & Edland (2011) formula, which weights per-pattern slope
variances instead of pooling the full information; it equals the GLS answer for
complete data and is slightly conservative under dropout.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from alsstats import _gauss
from alsstats.errors import AlsStatsError
from alsstats.power._normal import (
    check_alternative,
    check_positive,
    check_probability,
    critical_z,
    exactly_one_missing,
)
from alsstats.power._results import SampleSize

__all__ = [
    "ArmDesign",
    "SlopePowerResult",
    "edland_sample_size",
    "exchangeable_covariance",
    "gls_contrast_variance",
    "liu_liang_sample_size",
    "random_effects_covariance",
    "slope_difference_variance",
    "slope_sample_size",
]


@dataclass(frozen=True)
class ArmDesign:
    """One arm of a GLS design: fraction of subjects, design matrix, covariance, dropout.

    ``design`` is visits × parameters (the row of visit ``j`` is :math:`x_{gj}`),
    ``covariance`` the visits × visits within-subject covariance of the complete
    schedule and ``last_visit_shares[k]`` the share of the arm whose last visit is
    visit ``k`` (0-based; they sum to 1).
    """

    fraction: float
    design: np.ndarray
    covariance: np.ndarray
    last_visit_shares: np.ndarray


def _check_times(times: Sequence[float]) -> np.ndarray:
    t = np.asarray(times, dtype=float)
    if t.ndim != 1 or t.size < 2:
        raise AlsStatsError(f"times must list at least 2 visit times, got {list(np.ravel(t))}")
    if not np.all(np.isfinite(t)) or np.any(np.diff(t) <= 0):
        raise AlsStatsError(f"visit times must be finite and strictly increasing, got {t.tolist()}")
    return t


def _check_covariance(cov: np.ndarray, n_visits: int, name: str = "covariance") -> np.ndarray:
    v = np.asarray(cov, dtype=float)
    if v.shape != (n_visits, n_visits):
        raise AlsStatsError(f"{name} must be {n_visits}×{n_visits} (one row per visit), "
                            f"got shape {v.shape}")
    if not np.all(np.isfinite(v)) or not np.allclose(v, v.T, rtol=1e-10, atol=1e-12):
        raise AlsStatsError(f"{name} must be a finite symmetric matrix")
    try:
        np.linalg.cholesky(v)
    except np.linalg.LinAlgError:
        raise AlsStatsError(f"{name} is not positive definite") from None
    return v


def _check_shares(dropout: Sequence[float] | None, n_visits: int, name: str) -> np.ndarray:
    if dropout is None:
        shares = np.zeros(n_visits)
        shares[-1] = 1.0
        return shares
    shares = np.asarray(dropout, dtype=float)
    if shares.shape != (n_visits,):
        raise AlsStatsError(f"{name} must give one share per visit ({n_visits}), "
                            f"got {np.ravel(shares).tolist()}")
    if not np.all(np.isfinite(shares)) or np.any(shares < 0) or abs(shares.sum() - 1) > 1e-8:
        raise AlsStatsError(f"{name} shares (last visit = each visit) must be >= 0 and sum to 1, "
                            f"got {shares.tolist()} (sum {shares.sum():.6g})")
    return shares


def random_effects_covariance(times: Sequence[float], var_intercept: float, var_slope: float,
                              cov_intercept_slope: float, var_residual: float) -> np.ndarray:
    r"""Within-subject covariance :math:`Z G Z^\top + \sigma^2_e I`, random intercept and slope.

    ``Z = [1, t]`` and ``G = [[var_intercept, cov], [cov, var_slope]]``; ``G`` must be
    positive semi-definite and ``var_residual`` > 0.
    """
    t = _check_times(times)
    var_intercept = check_positive("var_intercept", var_intercept, allow_zero=True)
    var_slope = check_positive("var_slope", var_slope, allow_zero=True)
    var_residual = check_positive("var_residual", var_residual)
    cov = float(cov_intercept_slope)
    if cov * cov > var_intercept * var_slope * (1 + 1e-12):
        raise AlsStatsError(
            f"cov_intercept_slope {cov:g} implies |correlation| > 1 with var_intercept "
            f"{var_intercept:g} and var_slope {var_slope:g}")
    z = np.column_stack([np.ones_like(t), t])
    g = np.array([[var_intercept, cov], [cov, var_slope]])
    return z @ g @ z.T + var_residual * np.eye(t.size)


def exchangeable_covariance(n_visits: int, variance: float, rho: float) -> np.ndarray:
    r"""Compound-symmetry covariance :math:`\sigma^2((1-\rho) I + \rho J)`, ``-1/(m-1) < ρ < 1``."""
    variance = check_positive("variance", variance)
    m = int(n_visits)
    if m < 1:
        raise AlsStatsError(f"n_visits must be >= 1, got {n_visits}")
    rho = float(rho)
    lower = -1.0 / (m - 1) if m > 1 else -1.0
    if not (lower < rho < 1):
        raise AlsStatsError(f"rho must lie in ({lower:g}, 1) for {m} visits, got {rho}")
    return variance * ((1 - rho) * np.eye(m) + rho * np.ones((m, m)))


def gls_contrast_variance(arms: Sequence[ArmDesign], contrast: Sequence[float]) -> float:
    r"""``c' I⁻¹ c`` with ``I`` the expected GLS information per randomised subject.

    ``Var(c'θ̂) = gls_contrast_variance(...) / N`` for ``N`` subjects in total.  Raises
    :class:`~alsstats.errors.AlsStatsError` if the contrast is not estimable (e.g.
    everybody drops out after baseline).
    """
    c = np.asarray(contrast, dtype=float)
    info = np.zeros((c.size, c.size))
    for arm in arms:
        x_full = np.asarray(arm.design, dtype=float)
        if x_full.shape[1] != c.size:
            raise AlsStatsError(f"design has {x_full.shape[1]} columns but the contrast "
                                f"{c.size} entries")
        for k, share in enumerate(arm.last_visit_shares):
            if share <= 0:
                continue
            x = x_full[: k + 1]
            info += arm.fraction * share * (
                x.T @ np.linalg.solve(arm.covariance[: k + 1, : k + 1], x))
    # Estimability: c must lie in the row space of the information matrix.
    eigval, eigvec = np.linalg.eigh(info)
    tol = eigval.max(initial=0.0) * 1e-10
    null = eigvec[:, eigval <= tol]
    if eigval.max(initial=0.0) <= 0 or np.linalg.norm(null.T @ c) > 1e-8 * np.linalg.norm(c):
        raise AlsStatsError("the contrast is not estimable with this design and dropout pattern "
                            "(too few visits completed)")
    keep = eigval > tol
    return float(c @ (eigvec[:, keep] / eigval[keep]) @ eigvec[:, keep].T @ c)


def slope_difference_variance(times: Sequence[float], covariance: np.ndarray, *,
                              allocation: float = 1.0,
                              dropout: Sequence[float] | None = None,
                              common_baseline: bool = False,
                              covariance_treatment: np.ndarray | None = None,
                              dropout_treatment: Sequence[float] | None = None) -> float:
    r"""``v`` with :math:`\operatorname{Var}(\hat\Delta) = v / n_c` for the slope difference.

    Parameters
    ----------
    times : visit times (e.g. years from randomisation).
    covariance : within-subject covariance of the complete schedule (control arm).
    allocation : ``r = n_treatment / n_control``.
    dropout : share of subjects whose last visit is each visit (default: complete data).
    common_baseline : one intercept shared by both arms (randomised trial) instead of
        separate arm intercepts.
    covariance_treatment, dropout_treatment : treatment-arm values if they differ.
    """
    t = _check_times(times)
    r = check_positive("allocation", allocation)
    cov_c = _check_covariance(covariance, t.size)
    cov_t = cov_c if covariance_treatment is None else _check_covariance(
        covariance_treatment, t.size, "covariance_treatment")
    shares_c = _check_shares(dropout, t.size, "dropout")
    shares_t = shares_c if dropout_treatment is None else _check_shares(
        dropout_treatment, t.size, "dropout_treatment")
    one, zero = np.ones_like(t), np.zeros_like(t)
    if common_baseline:   # θ = (intercept, control slope, slope difference)
        x_c = np.column_stack([one, t, zero])
        x_t = np.column_stack([one, t, t])
    else:                 # θ = (control intercept, intercept difference, control slope, Δ)
        x_c = np.column_stack([one, zero, t, zero])
        x_t = np.column_stack([one, one, t, t])
    contrast = np.zeros(x_c.shape[1])
    contrast[-1] = 1.0
    arms = [ArmDesign(1 / (1 + r), x_c, cov_c, shares_c),
            ArmDesign(r / (1 + r), x_t, cov_t, shares_t)]
    # Var(Δ̂) = c'I⁻¹c / N with N = (1 + r) n_c.
    return gls_contrast_variance(arms, contrast) / (1 + r)


@dataclass(frozen=True)
class SlopePowerResult:
    """Answer of :func:`slope_sample_size` and :func:`edland_sample_size`.

    The fields ``n_control``, ``n_treatment`` and ``n_total`` are the continuous
    solutions (unrounded; kept for backward compatibility).  :attr:`n` is the control
    arm in whole subjects (rounded up) and :attr:`n_exact` its unrounded value, as in
    every other sizing result; :meth:`to_dict` also carries each arm rounded up.
    """

    n_control: float
    n_treatment: float
    n_total: float
    delta: float
    power: float
    alpha: float
    alternative: str
    allocation: float
    variance_unit: float
    method: str

    @property
    def se(self) -> float:
        """Standard error of the estimated slope difference at ``n_control``."""
        return math.sqrt(self.variance_unit / self.n_control)

    @property
    def n(self) -> int:
        """Control-arm subjects, rounded up (whole subjects to recruit per control arm)."""
        return math.ceil(self.n_control - 1e-9)

    @property
    def n_exact(self) -> float:
        """The unrounded control-arm n (``n_control``)."""
        return self.n_control

    def to_dict(self) -> dict:
        """Inputs and answer as a JSON-ready dict: ``n``/``n_exact`` (control arm, rounded
        up / unrounded), each arm rounded up, the continuous fields and ``se``."""
        d = {"n": self.n, "n_exact": self.n_exact, **asdict(self)}
        d["se"] = self.se
        d["n_control_ceiling"] = self.n
        d["n_treatment_ceiling"] = math.ceil(self.n_treatment - 1e-9)
        d["n_total_ceiling"] = d["n_control_ceiling"] + d["n_treatment_ceiling"]
        return d


def _solve(variance_unit: float, *, delta, n, power, alpha, alternative, allocation,
           method) -> SlopePowerResult:
    target = exactly_one_missing(delta=delta, n=n, power=power)
    z_a = critical_z(alpha, alternative)
    if target == "n":
        delta = check_positive("delta", abs(delta))
        z_b = _gauss.ppf(check_probability("power", power))
        n = (z_a + z_b) ** 2 * variance_unit / delta**2
    elif target == "power":
        delta = check_positive("delta", abs(delta))
        n = check_positive("n", n)
        power = _gauss.cdf(delta / math.sqrt(variance_unit / n) - z_a)
    else:
        n = check_positive("n", n)
        z_b = _gauss.ppf(check_probability("power", power))
        delta = (z_a + z_b) * math.sqrt(variance_unit / n)
    return SlopePowerResult(n_control=float(n), n_treatment=float(allocation * n),
                            n_total=float((1 + allocation) * n), delta=float(delta),
                            power=float(power), alpha=float(alpha),
                            alternative=check_alternative(alternative),
                            allocation=float(allocation), variance_unit=float(variance_unit),
                            method=method)


def _effect(delta: float | None, pct_change: float | None, slope: float | None) -> float | None:
    if pct_change is None:
        if slope is not None:
            raise AlsStatsError("slope is only used with pct_change (delta = pct_change × |slope|)")
        return delta
    if delta is not None:
        raise AlsStatsError("give either delta or pct_change (with slope), not both")
    pct = float(pct_change)
    if not (0 < pct <= 1):
        raise AlsStatsError(
            f"pct_change is a fraction in (0, 1] (0.3 = 30% slowing), got {pct_change}")
    if slope is None:
        raise AlsStatsError("pct_change needs the mean slope it slows (slope)")
    return pct * abs(check_positive("|slope|", abs(float(slope))))


def _covariance_from_args(times, covariance, var_intercept, var_slope, cov_intercept_slope,
                          var_residual) -> np.ndarray:
    re_args = (var_intercept, var_slope, cov_intercept_slope, var_residual)
    if covariance is not None:
        if any(a is not None for a in re_args):
            raise AlsStatsError("give either a covariance matrix or the random-effect variances, "
                                "not both")
        return _check_covariance(covariance, len(times))
    if var_slope is None or var_residual is None:
        raise AlsStatsError("give var_slope and var_residual (and optionally var_intercept, "
                            "cov_intercept_slope) or a covariance matrix")
    return random_effects_covariance(times, var_intercept or 0.0, var_slope,
                                     cov_intercept_slope or 0.0, var_residual)


def slope_sample_size(times: Sequence[float], *, delta: float | None = None,
                      pct_change: float | None = None, slope: float | None = None,
                      n: float | None = None, power: float | None = None,
                      var_intercept: float | None = None, var_slope: float | None = None,
                      cov_intercept_slope: float | None = None,
                      var_residual: float | None = None,
                      covariance: np.ndarray | None = None, alpha: float = 0.05,
                      alternative: str = "two-sided", allocation: float = 1.0,
                      dropout: Sequence[float] | None = None,
                      common_baseline: bool = False) -> SlopePowerResult:
    """Solve for the control-arm ``n``, the ``power`` or the detectable ``delta``.

    Give all but one of (effect, ``n``, ``power``); the effect is ``delta`` (absolute
    slope difference) or ``pct_change`` × ``|slope|`` (``pct_change=0.3`` = 30% slowing).
    The covariance is the random-effects form (``var_intercept``, ``var_slope``,
    ``cov_intercept_slope``, ``var_residual``) or any ``covariance`` matrix.  See the
    module docstring for the model; ``n`` is the control-arm size, the treatment arm
    has ``allocation × n``.
    """
    t = _check_times(times)
    delta = _effect(delta, pct_change, slope)
    cov = _covariance_from_args(t, covariance, var_intercept, var_slope, cov_intercept_slope,
                                var_residual)
    v = slope_difference_variance(t, cov, allocation=allocation, dropout=dropout,
                                  common_baseline=common_baseline)
    method = "GLS information, " + ("common baseline" if common_baseline else "separate intercepts")
    return _solve(v, delta=delta, n=n, power=power, alpha=alpha, alternative=alternative,
                  allocation=float(allocation), method=method)


def edland_sample_size(times: Sequence[float], *, var_slope: float, var_residual: float,
                       delta: float | None = None, n: float | None = None,
                       power: float | None = None, alpha: float = 0.05,
                       alternative: str = "two-sided", allocation: float = 1.0,
                       dropout: Sequence[float] | None = None,
                       var_slope_treatment: float | None = None,
                       var_residual_treatment: float | None = None,
                       dropout_treatment: Sequence[float] | None = None) -> SlopePowerResult:
    r"""Edland (2009) / Ard & Edland (2011) sample size for a random-slope model with dropout.

    A subject whose last visit is ``k`` estimates its own slope with variance
    :math:`s_k = \sigma^2_{b_1} + \sigma^2_e / \sum_{j \le k}(t_j - \bar t_{[k]})^2`
    (the random intercept and its covariance cancel from the per-subject GLS slope).
    The arm's slope is the precision-weighted mean, with per-subject variance
    :math:`\sigma^2_g = (\sum_k p_{gk} / s_k)^{-1}`, and
    :math:`\operatorname{Var}(\hat\Delta) = \sigma^2_c / n_c + \sigma^2_t / n_t`.
    Subjects with a single visit carry no slope information.
    """
    t = _check_times(times)
    r = check_positive("allocation", allocation)

    def arm_variance(vs, ve, shares) -> float:
        vs = check_positive("var_slope", vs, allow_zero=True)
        ve = check_positive("var_residual", ve)
        precision = 0.0
        for k, share in enumerate(shares):
            if share > 0 and k >= 1:
                tk = t[: k + 1]
                precision += share / (vs + ve / np.sum((tk - tk.mean()) ** 2))
        if precision <= 0:
            raise AlsStatsError("no subject completes two visits: the slope is not estimable")
        return 1.0 / precision

    shares_c = _check_shares(dropout, t.size, "dropout")
    shares_t = shares_c if dropout_treatment is None else _check_shares(
        dropout_treatment, t.size, "dropout_treatment")
    var_c = arm_variance(var_slope, var_residual, shares_c)
    var_t = arm_variance(var_slope if var_slope_treatment is None else var_slope_treatment,
                         var_residual if var_residual_treatment is None else var_residual_treatment,
                         shares_t)
    return _solve(var_c + var_t / r, delta=delta, n=n, power=power, alpha=alpha,
                  alternative=alternative, allocation=r, method="Edland (2009)")


def liu_liang_sample_size(u: Sequence[np.ndarray], v: Sequence[np.ndarray],
                          covariance: np.ndarray, *, delta: float,
                          power: float = 0.8, alpha: float = 0.05,
                          alternative: str = "two-sided",
                          fractions: Sequence[float] | None = None) -> SampleSize:
    r"""Liu & Liang (1997) total sample size for the first covariate of interest.

    Arm ``g`` has design :math:`[u_g, v_g]` (visits × (q + r): covariates of interest
    ``u_g`` and nuisance covariates ``v_g``), all arms share ``covariance``, and
    ``fractions`` of the ``N`` subjects (default equal).  For one tested coefficient
    the score test of Liu & Liang reduces to the GLS information engine:
    :math:`N = (z_{1-\alpha/s} + z_{1-\beta})^2\, c^\top \mathcal I^{-1} c / \delta^2`.

    Returns
    -------
    SampleSize
        The total ``N`` (a float; ``.n_exact``) and ``.n`` rounded up.
    """
    if len(u) != len(v) or len(u) < 1:
        raise AlsStatsError("u and v must list one matrix per arm, the same number of arms")
    n_arms = len(u)
    fr = np.full(n_arms, 1.0 / n_arms) if fractions is None else np.asarray(fractions, float)
    if fr.shape != (n_arms,) or np.any(fr <= 0) or abs(fr.sum() - 1) > 1e-8:
        raise AlsStatsError(f"fractions must be positive, one per arm, summing to 1; got {fr}")
    designs = [np.column_stack([np.reshape(ug, (len(ug), -1)), np.reshape(vg, (len(vg), -1))])
               for ug, vg in zip(u, v, strict=True)]
    m = designs[0].shape[0]
    cov = _check_covariance(covariance, m)
    shares = _check_shares(None, m, "dropout")
    contrast = np.zeros(designs[0].shape[1])
    contrast[0] = 1.0
    arms = [ArmDesign(f, x, cov, shares) for f, x in zip(fr, designs, strict=True)]
    var_unit = gls_contrast_variance(arms, contrast)
    z_a = critical_z(alpha, alternative)
    z_b = _gauss.ppf(check_probability("power", power))
    n = (z_a + z_b) ** 2 * var_unit / check_positive("delta", abs(delta)) ** 2
    return SampleSize(float(n), design="Liu-Liang total sample size",
                      settings={"delta": float(delta), "power": float(power),
                                "alpha": float(alpha), "alternative": alternative,
                                "fractions": [float(f) for f in fr]})
