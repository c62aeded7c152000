"""Support for tests, demos and benchmarks (not needed to analyse real data).

- :mod:`.inputs` writes synthetic FreeSurfer, LCModel, NIfTI and clinical inputs;
- :mod:`.recovery` draws cohorts from the diagnostic model itself (known parameters).
"""
