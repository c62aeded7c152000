"""Option values that the CLI offers before importing the sampling stack (PyMC is slow to load)."""

SAMPLERS = ("nutpie", "pymc", "advi")
