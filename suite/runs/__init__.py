"""Runs: request → plan (trials with run keys) → Ray Tune fan-out → trainer → MLflow (driver-side writer)."""
