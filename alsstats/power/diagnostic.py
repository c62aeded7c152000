r"""Sample size for diagnostic-accuracy studies: interval widths and tests.

Confidence intervals for a proportion ``p`` (sensitivity, specificity) from ``n``
subjects, :math:`z = z_{1-\alpha/2}`, :math:`x = pn` (continuous ``x`` is allowed, as
in presize, so that widths are smooth functions of ``n``):

* Wald: :math:`p \pm z\sqrt{p(1-p)/n}`;
* Wilson: :math:`\frac{x + z^2/2}{n+z^2} \pm \frac{z\sqrt n}{n+z^2}\sqrt{p(1-p) + z^2/(4n)}`;
* Agresti–Coull: :math:`\tilde n = n + z^2`, :math:`\tilde p = (x + z^2/2)/\tilde n`,
  :math:`\tilde p \pm z\sqrt{\tilde p(1-\tilde p)/\tilde n}`;
* exact (Clopper–Pearson): beta quantiles
  :math:`B_{\alpha/2}(x, n-x+1)` and :math:`B_{1-\alpha/2}(x+1, n-x)`.

Every width is the interval's *full* width ``w`` (``conf_width``, as presize), never a
half-width.  The sample size for a target width solves ``width(n) = w`` numerically.
Buderer (1996): :math:`n_D = z^2\,Se(1-Se)/(w/2)^2` diseased subjects, and
:math:`n_D / \text{prevalence}` in total.

Study sizes are :class:`StudySize` results: every ``n`` is rounded up to whole subjects
(the ceiling of its own continuous solution), with the continuous value beside it as
``n_..._exact``.

AUC precision uses the Hanley & McNeil (1982) variance

.. math::

    \operatorname{Var}(\hat A) = \frac{A(1-A) + (n_D-1)(Q_1-A^2) + (n_H-1)(Q_2-A^2)}{n_D n_H},
    \quad Q_1 = \frac{A}{2-A},\ Q_2 = \frac{2A^2}{1+A}.

Testing an AUC against a null value uses the binormal variance of Obuchowski &
McClish (1997) with :math:`a = \sqrt{1+b^2}\,\Phi^{-1}(A)` and ``κ = n_H/n_D``:

.. math::

    n_D \operatorname{Var}(\hat A) = f^2\Big(1 + \frac{b^2}{\kappa} + \frac{a^2}{2}\Big)
       + g^2\,\frac{b^2(1+\kappa)}{2\kappa},\quad
    f = \frac{e^{-a^2/(2(1+b^2))}}{\sqrt{2\pi(1+b^2)}},\ g = -\frac{ab\,e^{-a^2/(2(1+b^2))}}
       {\sqrt{2\pi(1+b^2)^3}},

and :math:`n_D = (z_{1-\alpha}\sqrt{V_0} + z_{1-\beta}\sqrt{V_1})^2/(A_1-A_0)^2`
(Obuchowski 1998).  Testing a sensitivity above a bound uses the exact binomial test;
its power is a saw-tooth in ``n``, so both the first ``n`` reaching the power and the
smallest ``n`` from which every larger ``n`` keeps it are reported.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy import optimize, stats

from alsstats.errors import AlsStatsError
from alsstats.power._normal import check_alternative, check_positive, check_probability
from alsstats.power._results import SampleSize
from alsstats.validation.intervals import clopper_pearson_interval, wilson_interval

__all__ = [
    "CI_METHODS",
    "BinomialTestSampleSize",
    "StudySize",
    "auc_ci_sample_size",
    "auc_test_sample_size",
    "binormal_auc_variance",
    "buderer_sample_size",
    "hanley_mcneil_se",
    "proportion_ci",
    "proportion_ci_sample_size",
    "sensitivity_test_sample_size",
]

CI_METHODS = ("wilson", "agresti-coull", "exact", "wald")


def _z(conf_level: float) -> float:
    return float(stats.norm.isf((1 - check_probability("conf_level", conf_level)) / 2))


def _method(method: str) -> str:
    m = str(method).lower().replace("_", "-").replace(" ", "-")
    m = {"ac": "agresti-coull", "clopper-pearson": "exact", "buderer": "wald"}.get(m, m)
    if m not in CI_METHODS:
        raise AlsStatsError(f"method must be one of {CI_METHODS}, got {method!r}")
    return m


def proportion_ci(p: float, n: float, method: str = "wilson",
                  conf_level: float = 0.95) -> tuple[float, float]:
    """Confidence interval of a proportion ``p`` observed in ``n`` subjects (``x = p n``)."""
    p = check_probability("p", p, open_interval=False)
    n = check_positive("n", n)
    method = _method(method)
    z = _z(conf_level)
    x = p * n
    if method == "wald":
        half = z * math.sqrt(p * (1 - p) / n)
        return p - half, p + half
    if method == "wilson":
        lo, hi = wilson_interval(x, n, conf_level)
        return float(lo), float(hi)
    if method == "agresti-coull":
        n_t = n + z * z
        p_t = (x + z * z / 2) / n_t
        half = z * math.sqrt(p_t * (1 - p_t) / n_t)
        return p_t - half, p_t + half
    lo, hi = clopper_pearson_interval(x, n, conf_level)
    return float(lo), float(hi)


#: Largest sample size searched for a target interval width.
_MAX_N = 1e9


def proportion_ci_sample_size(p: float, width: float, method: str = "wilson",
                              conf_level: float = 0.95) -> SampleSize:
    """The ``n`` whose ``method`` interval for ``p`` has total width ``width``.

    Returns
    -------
    SampleSize
        The continuous solution (a float; ``.n_exact``) and ``.n`` rounded up.
    """
    p = check_probability("p", p)
    width = check_probability("width", width)
    method = _method(method)

    def gap(n: float) -> float:
        lo, hi = proportion_ci(p, n, method, conf_level)
        return (hi - lo) - width

    if gap(1.0) <= 0:
        raise AlsStatsError(f"width {width} is already reached with n = 1")
    if gap(_MAX_N) > 0:
        raise AlsStatsError(f"width {width:g} needs more than {_MAX_N:.0e} subjects with the "
                            f"{method} interval; give a wider --conf-width")
    exact = float(optimize.brentq(gap, 1.0, _MAX_N, xtol=1e-10, rtol=1e-14))
    return SampleSize(exact, design=f"{method} interval of a proportion, width {width:g}",
                      settings={"p": p, "conf_width": width, "method": method,
                                "conf_level": float(conf_level)})


def _whole(x: float | None) -> int | None:
    # Guard against 138.0000000001-style round-off pushing an exact integer up.
    return None if x is None else math.ceil(x - 1e-9)


@dataclass(frozen=True)
class StudySize:
    """A diagnostic-study size: whole subjects (rounded up) with the continuous values beside.

    ``n_diseased`` and ``n_non_diseased`` are each the ceiling of their own continuous
    solution ``n_..._exact`` (``None`` where the design does not size that group).
    ``n_total`` is the ceiling of ``n_total_exact`` for designs sized on the whole cohort
    at a prevalence, and the sum of the two rounded groups for designs that size the
    groups (``by_group``).  ``settings`` holds the design's inputs and by-products.
    """

    design: str
    n_total_exact: float
    n_diseased_exact: float | None = None
    n_non_diseased_exact: float | None = None
    settings: dict = field(default_factory=dict)
    by_group: bool = False

    @property
    def n_total(self) -> int:
        if self.by_group:
            return self.n_diseased + self.n_non_diseased
        return _whole(self.n_total_exact)

    @property
    def n_diseased(self) -> int | None:
        return _whole(self.n_diseased_exact)

    @property
    def n_non_diseased(self) -> int | None:
        return _whole(self.n_non_diseased_exact)

    def to_dict(self) -> dict:
        return {"design": self.design,
                "n_total": self.n_total, "n_total_exact": self.n_total_exact,
                "n_diseased": self.n_diseased, "n_diseased_exact": self.n_diseased_exact,
                "n_non_diseased": self.n_non_diseased,
                "n_non_diseased_exact": self.n_non_diseased_exact, **self.settings}


def buderer_sample_size(*, sensitivity: float | None = None, specificity: float | None = None,
                        conf_width: float, prevalence: float,
                        conf_level: float = 0.95) -> StudySize:
    """Buderer (1996) Wald sample sizes for sensitivity and/or specificity.

    ``conf_width`` is the full width of the interval (sensitivity ± ``conf_width``/2).
    Returns the diseased (non-diseased) subjects needed and the total cohort size
    implied by ``prevalence``; the total is the larger of the two totals (both are in
    ``settings`` as ``n_total_sensitivity_exact`` / ``n_total_specificity_exact``).
    """
    if sensitivity is None and specificity is None:
        raise AlsStatsError("give sensitivity and/or specificity")
    d = check_probability("conf_width", conf_width) / 2
    prev = check_probability("prevalence", prevalence)
    z = _z(conf_level)
    settings: dict = {"prevalence": prev, "conf_width": 2 * d, "conf_level": conf_level,
                      "sensitivity": sensitivity, "specificity": specificity}
    n_d = n_h = None
    totals = []
    if sensitivity is not None:
        se = check_probability("sensitivity", sensitivity)
        n_d = z * z * se * (1 - se) / d**2
        settings["n_total_sensitivity_exact"] = n_d / prev
        totals.append(n_d / prev)
    if specificity is not None:
        sp = check_probability("specificity", specificity)
        n_h = z * z * sp * (1 - sp) / d**2
        settings["n_total_specificity_exact"] = n_h / (1 - prev)
        totals.append(n_h / (1 - prev))
    return StudySize("buderer", max(totals), n_d, n_h, settings)


def hanley_mcneil_se(auc: float, n_diseased: float, n_healthy: float) -> float:
    """Hanley & McNeil (1982) standard error of an AUC."""
    a = check_probability("auc", auc)
    n1 = check_positive("n_diseased", n_diseased)
    n2 = check_positive("n_healthy", n_healthy)
    q1, q2 = a / (2 - a), 2 * a * a / (1 + a)
    var = (a * (1 - a) + (n1 - 1) * (q1 - a * a) + (n2 - 1) * (q2 - a * a)) / (n1 * n2)
    return math.sqrt(var)


def auc_ci_sample_size(auc: float, width: float, prevalence: float,
                       conf_level: float = 0.95) -> StudySize:
    """Total ``n`` whose Wald interval ``AUC ± z·SE_HM`` has full width ``width``."""
    a = check_probability("auc", auc)
    width = check_probability("width", width)
    prev = check_probability("prevalence", prevalence)
    z = _z(conf_level)

    def gap(n: float) -> float:
        return 2 * z * hanley_mcneil_se(a, n * prev, n * (1 - prev)) - width

    low = 2.0 / min(prev, 1 - prev)
    if gap(low) <= 0:
        raise AlsStatsError(f"width {width} is already reached with the smallest possible study")
    n = float(optimize.brentq(gap, low, 1e9, xtol=1e-10, rtol=1e-14))
    return StudySize("auc-width", n, n * prev, n * (1 - prev),
                     {"auc": a, "conf_width": width, "prevalence": prev,
                      "conf_level": conf_level})


def binormal_auc_variance(auc: float, ratio: float = 1.0, b: float = 1.0) -> float:
    """``n_D · Var(AUC)``, binormal model (Obuchowski & McClish 1997); ``ratio = n_H/n_D``."""
    a_auc = check_probability("auc", auc)
    kappa = check_positive("ratio", ratio)
    b = check_positive("b", b)
    s = 1 + b * b
    a = math.sqrt(s) * stats.norm.ppf(a_auc)
    e = math.exp(-a * a / (2 * s))
    f = e / math.sqrt(2 * math.pi * s)
    g = -a * b * e / math.sqrt(2 * math.pi * s**3)
    return f * f * (1 + b * b / kappa + a * a / 2) + g * g * b * b * (1 + kappa) / (2 * kappa)


def auc_test_sample_size(auc_null: float, auc_alt: float, *, power: float = 0.8,
                         alpha: float = 0.05, ratio: float = 1.0, b: float = 1.0,
                         alternative: str = "one-sided") -> StudySize:
    """Diseased (and healthy) subjects to show AUC > ``auc_null`` when it is ``auc_alt``."""
    a0 = check_probability("auc_null", auc_null)
    a1 = check_probability("auc_alt", auc_alt)
    if a1 == a0:
        raise AlsStatsError("auc_alt must differ from auc_null")
    alternative = check_alternative(alternative)
    if alternative == "one-sided" and a1 < a0:
        raise AlsStatsError(f"the one-sided test shows AUC > auc_null = {a0:g}: the "
                            f"anticipated AUC ({a1:g}) must be larger than the null")
    alpha = check_probability("alpha", alpha)
    tail = alpha / 2 if alternative == "two-sided" else alpha
    z_a, z_b = stats.norm.isf(tail), stats.norm.ppf(check_probability("power", power))
    v0, v1 = binormal_auc_variance(a0, ratio, b), binormal_auc_variance(a1, ratio, b)
    n_d = float((z_a * math.sqrt(v0) + z_b * math.sqrt(v1)) ** 2 / (a1 - a0) ** 2)
    return StudySize("auc-test", (1 + ratio) * n_d, n_d, ratio * n_d,
                     {"auc_null": a0, "auc_alt": a1, "power": power, "alpha": alpha,
                      "alternative": alternative, "ratio": ratio, "variance_null": v0,
                      "variance_alt": v1}, by_group=True)


@dataclass(frozen=True)
class BinomialTestSampleSize:
    """Exact one-sided binomial test of ``H0: p <= p0`` when the truth is ``p1``.

    ``n_first`` is the first ``n`` whose power reaches the target; ``n`` the smallest
    from which every larger ``n`` up to ``checked_up_to`` keeps it (the saw-tooth).
    ``critical`` is the smallest number of positives that rejects at ``n``.
    """

    n: int
    n_first: int
    critical: int
    power: float
    attained_alpha: float
    checked_up_to: int

    def to_dict(self) -> dict:
        return asdict(self)


def sensitivity_test_sample_size(sens_null: float, sens_alt: float, *, power: float = 0.8,
                                 alpha: float = 0.05,
                                 check_factor: float = 2.0) -> BinomialTestSampleSize:
    """Diseased subjects for an exact binomial test that sensitivity exceeds ``sens_null``.

    For each ``n`` the test rejects when ``X >= c_n``, the smallest ``c`` with
    ``P(X >= c | sens_null) <= alpha``; power is ``P(X >= c_n | sens_alt)``.  Power
    is evaluated for every ``n`` up to ``check_factor`` × (normal-approximation n) + 50.
    """
    p0 = check_probability("sens_null", sens_null)
    p1 = check_probability("sens_alt", sens_alt)
    if p1 <= p0:
        raise AlsStatsError("sens_alt must exceed sens_null for a test that sensitivity is higher")
    alpha = check_probability("alpha", alpha)
    target = check_probability("power", power)
    z_a, z_b = stats.norm.isf(alpha), stats.norm.ppf(target)
    n_normal = ((z_a * math.sqrt(p0 * (1 - p0)) + z_b * math.sqrt(p1 * (1 - p1))) / (p1 - p0)) ** 2
    n_max = math.ceil(check_factor * n_normal) + 50
    ns = np.arange(1, n_max + 1)
    # Smallest c with P(X >= c) = sf(c - 1) <= alpha; isf gives the smallest k with sf(k) <= alpha.
    crit = stats.binom.isf(alpha, ns, p0).astype(int) + 1
    pw = stats.binom.sf(crit - 1, ns, p1)
    reached = pw >= target
    if not reached.any() or not reached[-1]:
        raise AlsStatsError(f"power {power} not reached by n = {n_max}; raise check_factor")
    n_first = int(ns[np.argmax(reached)])
    below = np.flatnonzero(~reached)
    n_stable = int(ns[below[-1] + 1]) if below.size else 1
    i = n_stable - 1
    return BinomialTestSampleSize(n=n_stable, n_first=n_first, critical=int(crit[i]),
                                  power=float(pw[i]),
                                  attained_alpha=float(stats.binom.sf(crit[i] - 1, n_stable, p0)),
                                  checked_up_to=n_max)
