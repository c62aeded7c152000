"""Power and sample size: analytic engines and Monte Carlo simulation, local or on Dask."""
