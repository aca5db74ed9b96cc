"""Reports: published reference numbers (and, later, the tables built from MLflow)."""
