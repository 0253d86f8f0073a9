"""Numerical core: rating data, models, metrics. Pure numpy/scipy/pandas, never Qt."""
