"""BLAS thread control around model fits.

The numpy and scipy wheels each bundle OpenBLAS with a thread pool.  With two
MCMC chains on two cores, every small Cholesky waits for spinning BLAS threads;
this made sampling 3–25× slower on the project machine (see the PyMC notes).
Every fit runs inside :func:`single_threaded_blas`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from threadpoolctl import threadpool_limits

__all__ = ["single_threaded_blas"]


@contextlib.contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Limit every loaded BLAS library (numpy's and scipy's) to one thread."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield
