"""Statistical models: the Bayesian diagnostic model and the longitudinal decline model."""
