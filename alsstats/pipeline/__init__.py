"""Analysis pipelines that compute what reports show (the demo and per-result reports)."""
