"""Option values that the CLI offers before importing the validation modules."""

METHODS = ("youden", "fixed-spec", "fixed-sens", "cost")
