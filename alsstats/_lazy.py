"""Lazy public names for packages whose modules import heavy libraries (PyMC, ArviZ, nibabel).

A package's ``__init__`` lists where each public name lives; the module is imported on
first attribute access, so ``import alsstats.models`` (and the CLI's ``--help``) stays fast.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module

__all__ = ["lazy_exports"]


def lazy_exports(package: str, where: dict[str, str]) -> tuple[Callable, Callable]:
    """Return ``(__getattr__, __dir__)`` that import ``package.<module>`` for each name.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    where : dict
        Public name -> module (relative to ``package``) that defines it.
    """

    def __getattr__(name: str):
        if name in where:
            return getattr(import_module(f"{package}.{where[name]}"), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(where)

    return __getattr__, __dir__
