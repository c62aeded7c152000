"""Option values the CLI offers before importing the modules that use them.

Kept at the bottom layer so that building the parser (``alsstats --help``) imports
neither NumPy nor pandas nor PyMC.
"""

CUTOFF_METHODS = ("youden", "fixed-spec", "fixed-sens", "cost")
SAMPLERS = ("nutpie", "pymc", "advi")
BACKENDS = ("auto", "numba", "jax")
