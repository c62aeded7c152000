r"""Minimum sample size to develop a prediction model (Riley et al. 2019, 2020).

Every criterion returns the smallest whole number of subjects meeting it; the final
size is the largest.  ``p`` is the number of candidate predictor *parameters*
(a 3-level factor counts 2), ``S`` the target expected uniform shrinkage (0.9) and
``δ`` the tolerated optimism in R² (0.05).

Binary and time-to-event outcomes (Riley et al. 2019 Stat Med 38:1276, 2020 BMJ 368:m441),
with anticipated Cox–Snell :math:`R^2_{CS}`:

1. small overfitting: :math:`n = p / ((S-1)\ln(1 - R^2_{CS}/S))`;
2. small optimism in Nagelkerke's R²: criterion 1 with
   :math:`S = R^2_{CS} / (R^2_{CS} + \delta\, R^2_{CS,\max})`, where
   :math:`R^2_{CS,\max} = 1 - \exp(2\ell_0/n)` and :math:`\ell_0/n` is the null
   log-likelihood per subject — :math:`\phi\ln\phi + (1-\phi)\ln(1-\phi)` for
   prevalence φ; :math:`\mu\ln\mu - \mu` with :math:`\mu = \lambda\bar f` the expected
   events per subject (event rate λ, mean follow-up :math:`\bar f`) for time-to-event
   outcomes (Riley et al. 2020 and pmsampsize: the exponential null model with the
   events counted per subject, which keeps the bound free of the time unit);
3. precise overall risk — binary: :math:`n = (z_{0.975}/0.05)^2 \phi(1-\phi)`;
   survival: the 95% interval of the cumulative incidence :math:`1-e^{-\lambda t}` at
   the time point, from :math:`\operatorname{Var}\hat\lambda = \lambda/(n\bar f)`, lies
   within ±0.05 of it (reported as the smallest n meeting it; pmsampsize instead
   reports the larger of criteria 1–2 when that n already meets it).

For a binary outcome the anticipated :math:`R^2_{CS}` may instead come from a C statistic
(AUC) ``C`` (Riley, Van Calster & Collins 2021, Stat Med 40:859; pmsampsize
``cstatistic``): the linear predictor is taken as normal with unit variance in
non-events and events, shifted by :math:`\mu = \sqrt2\,\Phi^{-1}(C)` (so that
:math:`P(x_1 > x_0) = C`), and :math:`R^2_{CS} = 1 - \exp(-LR/n)` is that of the
logistic calibration model :math:`\eta = a + bx` fitted to this population.  The
paper and pmsampsize fit it to one simulated data set of 10⁶ subjects; here the
population is used exactly: with equal variances the log-odds are linear in ``x``
(:math:`b = \mu`, :math:`a = \operatorname{logit}\phi - \mu^2/2`), so

.. math::

    \frac{LR}{2n} = \phi\,E_1[-\log(1+e^{-\eta})] + (1-\phi)\,E_0[-\log(1+e^{\eta})]
                   - \phi\ln\phi - (1-\phi)\ln(1-\phi),

with the two normal expectations by 200-point Gauss–Hermite quadrature.

Continuous outcomes (Riley et al. 2019 Stat Med 38:1262), anticipated adjusted R²:

1. Van Houwelingen's shrinkage
   :math:`S = 1 + (p-2) / (n \ln(1 - R^2_{app}))`, with the apparent
   :math:`R^2_{app} = (R^2_{adj}(n-p-1) + p)/(n-1)`, reaches ``S``;
2. optimism :math:`R^2_{app} - R^2_{adj} \le \delta`: :math:`n = 1 + p(1-R^2_{adj})/\delta`;
3. precise residual SD: the upper 95% multiplicative margin
   :math:`\sqrt{(n-p-1)/\chi^2_{0.025,n-p-1}} \le 1.1`;
4. precise intercept (mean outcome with centred predictors): starting from the largest
   of 1–3, the 95% interval :math:`\beta_0 \pm t_{0.975,n-p-1}\,\sigma\sqrt{1/n}` with
   residual :math:`\sigma = \mathrm{SD}_y\sqrt{1-R^2_{adj}}` lies within
   :math:`[\beta_0/m, \beta_0 m]` for the multiplicative margin ``m`` (1.1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from scipy import optimize, stats

from alsstats import _gauss
from alsstats.errors import AlsStatsError
from alsstats.power._normal import check_positive, check_probability

__all__ = [
    "Criterion",
    "PredictionSampleSize",
    "binary_sample_size",
    "continuous_sample_size",
    "cstatistic_to_r2_cs",
    "survival_sample_size",
]


@dataclass(frozen=True)
class Criterion:
    """One of Riley's criteria: its name, the n it needs and the shrinkage at that n."""

    name: str
    n: int
    shrinkage: float | None = None


@dataclass(frozen=True)
class PredictionSampleSize:
    """Result: every criterion, the final (largest) n, events and events per parameter."""

    outcome: str
    parameters: int
    criteria: list[Criterion]
    n: int
    events: float | None = None
    details: dict = field(default_factory=dict)

    @property
    def events_per_parameter(self) -> float | None:
        return None if self.events is None else self.events / self.parameters

    def to_dict(self) -> dict:
        return {"outcome": self.outcome, "parameters": self.parameters, "n": self.n,
                "events": self.events, "events_per_parameter": self.events_per_parameter,
                "criteria": [{"name": c.name, "n": c.n, "shrinkage": c.shrinkage}
                             for c in self.criteria],
                **self.details}


def _ceil(x: float) -> int:
    # Guard against 662.0000000001-style round-off pushing an exact integer up.
    return math.ceil(x - 1e-9)


def _check_parameters(parameters: int) -> int:
    p = int(parameters)
    if p != parameters or p < 1:
        raise AlsStatsError(f"parameters must be a positive whole number, got {parameters}")
    return p


def _shrinkage_n(p: int, r2_cs: float, shrinkage: float) -> float:
    if r2_cs >= shrinkage:
        raise AlsStatsError(f"Cox–Snell R² {r2_cs} must be below the target shrinkage {shrinkage}")
    return p / ((shrinkage - 1) * math.log(1 - r2_cs / shrinkage))


def _riley_12(p: int, r2_cs: float, max_r2_cs: float, shrinkage: float, delta: float):
    if r2_cs >= max_r2_cs:
        raise AlsStatsError(f"Cox–Snell R² {r2_cs} exceeds its maximum {max_r2_cs:.4f} for this "
                            "outcome frequency")
    n1 = _ceil(_shrinkage_n(p, r2_cs, shrinkage))
    s2 = r2_cs / (r2_cs + delta * max_r2_cs)
    n2 = _ceil(_shrinkage_n(p, r2_cs, s2))
    return (Criterion("1: shrinkage", n1, shrinkage),
            Criterion("2: optimism in Nagelkerke R²", n2, s2))


def cstatistic_to_r2_cs(cstatistic: float, prevalence: float) -> float:
    """Cox–Snell R² implied by a C statistic at outcome proportion ``prevalence``.

    The exact population value of Riley, Van Calster & Collins (2021); see the module
    docstring.  ``C = 0.5`` gives 0.
    """
    import numpy as np

    c = check_probability("cstatistic", cstatistic)
    if c < 0.5:
        raise AlsStatsError(f"cstatistic must be at least 0.5, got {cstatistic}")
    phi = check_probability("prevalence", prevalence)
    mu = math.sqrt(2.0) * _gauss.ppf(c)
    a = math.log(phi / (1 - phi)) - mu * mu / 2
    nodes, weights = np.polynomial.hermite_e.hermegauss(200)
    weights = weights / math.sqrt(2 * math.pi)
    eta_events = a + mu * (mu + nodes)
    eta_non_events = a + mu * nodes
    ll_model = (phi * float(weights @ -np.logaddexp(0.0, -eta_events))
                + (1 - phi) * float(weights @ -np.logaddexp(0.0, eta_non_events)))
    ll_null = phi * math.log(phi) + (1 - phi) * math.log(1 - phi)
    return float(-math.expm1(-2.0 * max(ll_model - ll_null, 0.0)))


def binary_sample_size(r2_cs: float | None, parameters: int, prevalence: float, *,
                       shrinkage: float = 0.9, delta: float = 0.05, margin: float = 0.05,
                       cstatistic: float | None = None) -> PredictionSampleSize:
    """Riley criteria 1–3 for a binary outcome (pmsampsize ``type = "b"``).

    Give the anticipated Cox–Snell ``r2_cs``, or ``r2_cs=None`` and ``cstatistic`` (its
    R² then comes from :func:`cstatistic_to_r2_cs` and is reported as ``r2_cs``).
    """
    p = _check_parameters(parameters)
    phi = check_probability("prevalence", prevalence)
    if (r2_cs is None) == (cstatistic is None):
        raise AlsStatsError("give exactly one of the Cox-Snell R² and the C statistic")
    if cstatistic is not None:
        r2_cs = cstatistic_to_r2_cs(cstatistic, phi)
    r2 = check_probability("r2_cs", r2_cs)
    shrinkage = check_probability("shrinkage", shrinkage)
    delta = check_probability("delta", delta)
    margin = check_probability("margin", margin)
    ll0 = phi * math.log(phi) + (1 - phi) * math.log(1 - phi)
    max_r2 = 1 - math.exp(2 * ll0)
    c1, c2 = _riley_12(p, r2, max_r2, shrinkage, delta)
    n3 = _ceil((stats.norm.isf(0.025) / margin) ** 2 * phi * (1 - phi))
    criteria = [c1, c2, Criterion("3: precise overall risk", n3)]
    n = max(c.n for c in criteria)
    return PredictionSampleSize("binary", p, criteria, n, events=n * phi,
                                details={"max_r2_cs": max_r2, "prevalence": phi, "r2_cs": r2,
                                         "cstatistic": cstatistic})


def survival_sample_size(r2_cs: float, parameters: int, rate: float, timepoint: float,
                         mean_follow_up: float, *, shrinkage: float = 0.9,
                         delta: float = 0.05, margin: float = 0.05) -> PredictionSampleSize:
    """Riley criteria 1–3 for a time-to-event outcome (pmsampsize ``type = "s"``).

    ``rate`` is the overall event rate per unit of person-time, ``timepoint`` the
    horizon of the predicted risk and ``mean_follow_up`` the anticipated mean follow-up
    (same time unit).
    """
    p = _check_parameters(parameters)
    rate = check_positive("rate", rate)
    timepoint = check_positive("timepoint", timepoint)
    fup = check_positive("mean_follow_up", mean_follow_up)
    r2 = check_probability("r2_cs", r2_cs)
    shrinkage = check_probability("shrinkage", shrinkage)
    delta = check_probability("delta", delta)
    margin = check_probability("margin", margin)
    events_per_subject = rate * fup
    ll0 = events_per_subject * math.log(events_per_subject) - events_per_subject
    max_r2 = 1 - math.exp(2 * ll0)
    c1, c2 = _riley_12(p, r2, max_r2, shrinkage, delta)
    z = stats.norm.isf(0.025)
    risk = 1 - math.exp(-rate * timepoint)

    def excess(n: float) -> float:
        half = z * math.sqrt(rate / (n * fup))
        upper = 1 - math.exp(-(rate + half) * timepoint)
        lower = 1 - math.exp(-max(rate - half, 0.0) * timepoint)
        return max(upper - risk, risk - lower) - margin

    high = 1.0
    while excess(high) > 0:
        high *= 2
    n3 = _ceil(optimize.brentq(excess, high / 2 if high > 1 else 1e-6, high, xtol=1e-10))
    criteria = [c1, c2, Criterion("3: precise overall risk at timepoint", n3)]
    n = max(c.n for c in criteria)
    return PredictionSampleSize("survival", p, criteria, n, events=n * events_per_subject,
                                details={"max_r2_cs": max_r2, "risk_at_timepoint": risk,
                                         "person_time": n * fup})


def continuous_sample_size(r2_adj: float, parameters: int, intercept: float, sd: float, *,
                           shrinkage: float = 0.9, delta: float = 0.05,
                           mmoe: float = 1.1) -> PredictionSampleSize:
    """Riley criteria 1–4 for a continuous outcome (pmsampsize ``type = "c"``)."""
    p = _check_parameters(parameters)
    r2 = check_probability("r2_adj", r2_adj)
    sd = check_positive("sd", sd)
    shrinkage = check_probability("shrinkage", shrinkage)
    delta = check_probability("delta", delta)
    if not mmoe > 1:
        raise AlsStatsError(f"mmoe (multiplicative margin of error) must exceed 1, got {mmoe}")
    if intercept == 0:
        raise AlsStatsError("a multiplicative margin for the intercept needs a non-zero intercept")

    def van_houwelingen(n: float) -> float:
        r2_app = (r2 * (n - p - 1) + p) / (n - 1)
        return 1 + (p - 2) / (n * math.log(1 - r2_app))

    def smallest(pred, start: int) -> int:
        """Smallest integer n >= start with pred(n) true (pred monotone in n)."""
        high = max(start, 1)
        while not pred(high):
            high *= 2
        low = max(start, high // 2)
        while low < high:
            mid = (low + high) // 2
            if pred(mid):
                high = mid
            else:
                low = mid + 1
        return low

    n1 = smallest(lambda n: van_houwelingen(n) >= shrinkage - 1e-12, p + 3)
    n2 = _ceil(1 + p * (1 - r2) / delta)
    n3 = smallest(lambda n: math.sqrt((n - p - 1) / stats.chi2.ppf(0.025, n - p - 1)) <= mmoe,
                  p + 2)
    sigma = sd * math.sqrt(1 - r2)
    b0 = abs(float(intercept))

    def intercept_ok(n: int) -> bool:
        half = stats.t.isf(0.025, n - p - 1) * sigma / math.sqrt(n)
        return b0 - half >= b0 / mmoe and b0 + half <= b0 * mmoe

    n4 = smallest(intercept_ok, max(n1, n2, n3))
    criteria = [Criterion("1: shrinkage", n1, van_houwelingen(n1)),
                Criterion("2: optimism in R²", n2, van_houwelingen(n2)),
                Criterion("3: precise residual SD", n3, van_houwelingen(n3)),
                Criterion("4: precise intercept", n4, van_houwelingen(n4))]
    half4 = stats.t.isf(0.025, n4 - p - 1) * sigma / math.sqrt(n4)
    return PredictionSampleSize(
        "continuous", p, criteria, n4,
        details={"residual_sd": sigma,
                 "intercept_ci": [float(intercept) - half4, float(intercept) + half4]})
