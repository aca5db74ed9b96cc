"""Reports: MLflow runs (collect.py) and published numbers (published.py) → the paper's tables (tables.py),
statistics (stats.py), plots (plots.py), written as md / tex / html / csv (render.py) by report.py; ui.py serves
the MLflow UI. Importing this package imports nothing heavy."""
