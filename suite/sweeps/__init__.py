"""Sweeps: Optuna searches over the settings of one model x task, cross-validated on train (the only package
that imports optuna)."""
