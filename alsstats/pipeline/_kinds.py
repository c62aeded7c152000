"""The result kinds ``alsstats report --from`` renders (light: the CLI lists them in --help).

``result`` is any JSON result a command writes (``--out x.json`` or ``--json``), recognized
by its ``kind`` field and rendered as its inputs, values and tables.
"""

KINDS = ("cohort", "longitudinal", "diagnostic", "cv", "power", "trial", "result")

#: Command results rendered by the trial-planning sections (kind ``trial``).
TRIAL_RESULT_KINDS = ("power.sequential", "power.assurance", "power.enrichment")
