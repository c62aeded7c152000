"""The result kinds ``alsstats report --from`` renders (light: the CLI lists them in --help)."""

KINDS = ("cohort", "longitudinal", "diagnostic", "cv", "power")
