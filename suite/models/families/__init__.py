"""Backbone families; each module registers `build` with @FAMILIES.register (see suite/models/__init__.py)."""
