r"""Harrell's optimism-corrected bootstrap with the location-shifted percentile interval.

A statistic ``θ`` of a fitted model (here the IDI or the continuous NRI of a model with
added markers over the base model) is estimated by the *apparent* value ``θ_app`` (models
fitted to the sample and evaluated on it) minus its *optimism* (Efron 1983; Harrell, Lee &
Mark 1996; Steyerberg 2019, ch. 5).  In bootstrap replicate ``b = 1 … B`` the models are
fitted to a resample ``x*_b``; ``θ*_b`` is their apparent value on ``x*_b`` and
``θ*_b,orig`` their value on the original sample:

.. math::

    \hat O = \frac{1}{B}\sum_{b=1}^{B}\left(\theta^*_b - \theta^*_{b,\mathrm{orig}}\right),
    \qquad \hat\theta = \theta_\mathrm{app} - \hat O.

The interval is the **location-shifted bootstrap interval** of Noma et al. (2021, Stat
Med 40:5691): the percentile interval of the apparent values ``θ*_b``, shifted by the
same optimism,

.. math::

    \left[\,Q_{\alpha/2}(\theta^*) - \hat O,\; Q_{1-\alpha/2}(\theta^*) - \hat O\,\right],

which carries the variability of refitting the models (each ``θ*_b`` comes from a refit)
without a second, nested bootstrap.
"""

from __future__ import annotations

import numpy as np

__all__ = ["optimism_corrected"]


def optimism_corrected(apparent: np.ndarray, boot_apparent: np.ndarray,
                       boot_original: np.ndarray, alpha: float
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Harrell's corrected estimate, location-shifted interval and optimism, per column.

    Parameters
    ----------
    apparent : array (q,)
        ``θ_app``: the statistics of the models fitted to the sample, on the sample.
    boot_apparent, boot_original : arrays (B, q)
        ``θ*_b`` and ``θ*_b,orig``: the statistics of replicate ``b``'s models on their
        resample and on the original sample.  Rows with a NaN in either (failed
        replicates) are dropped.
    alpha : float
        1 − confidence level.

    Returns
    -------
    estimate, lower, upper, optimism : arrays (q,)
        ``θ_app − Ô``, ``Q_{α/2}(θ*) − Ô``, ``Q_{1−α/2}(θ*) − Ô`` and ``Ô``; all NaN when
        fewer than 20 replicates are usable.
    """
    ok = ~(np.isnan(boot_apparent).any(axis=1) | np.isnan(boot_original).any(axis=1))
    if ok.sum() < 20:
        nan = np.full(np.shape(apparent), np.nan)
        return nan, nan, nan, nan
    optimism = (boot_apparent[ok] - boot_original[ok]).mean(axis=0)
    lo, hi = np.quantile(boot_apparent[ok], [alpha / 2, 1 - alpha / 2], axis=0)
    return apparent - optimism, lo - optimism, hi - optimism, optimism
