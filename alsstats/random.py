"""Seeds: one ``seed`` argument, turned into generators once.

Replicates and workers get child seeds from :meth:`numpy.random.SeedSequence.spawn`
so that results do not depend on how work is split across processes.
"""

from __future__ import annotations

import numpy as np

__all__ = ["SeedLike", "as_generator", "spawn_seeds"]

SeedLike = int | np.random.SeedSequence | np.random.Generator | None


def as_generator(seed: SeedLike) -> np.random.Generator:
    """Return a :class:`numpy.random.Generator` for ``seed`` (a Generator is returned as is)."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def spawn_seeds(seed: int | np.random.SeedSequence | None, n: int) -> list[np.random.SeedSequence]:
    """``n`` independent child seeds of ``seed``; child ``i`` is the same for any ``n > i``."""
    root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    return root.spawn(n)
