"""Sampling configuration, BLAS thread control, convergence checks, posterior scoring."""

from alsstats.inference.threads import single_threaded_blas

__all__ = ["single_threaded_blas"]
