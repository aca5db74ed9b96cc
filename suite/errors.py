"""Errors a user can act on: each says what went wrong and how to fix it, in one line."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class SuiteError(Exception):
    """An error caused by input (names, files, data), printed by the CLI as one line, exit code 2."""

    def __init__(self, what: str, fix: str = "") -> None:
        self.what = what
        self.fix = fix
        super().__init__(self.line())

    def line(self) -> str:
        return f"{self.what}; {self.fix}" if self.fix else self.what


def closest(name: str, known: Iterable[str]) -> str | None:
    matches = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return matches[0] if matches else None


class UnknownName(SuiteError):
    """A name (task, group, model, loader, metric …) that no registry or card knows."""

    def __init__(self, kind: str, name: str, known: Iterable[str]) -> None:
        known = sorted(known)
        guess = closest(name, known)
        hint = f"did you mean '{guess}'? " if guess else ""
        shown = ", ".join(known[:12]) + (" …" if len(known) > 12 else "")
        super().__init__(f"unknown {kind} '{name}'", f"{hint}known: {shown}")
        self.name = name


class InvalidResult(SuiteError):
    """A trial whose result would mean nothing (a non-finite loss or metric, no training step, a split too small
    for its metric): the trial ends FAILED with this reason, never FINISHED, and is not retried."""


class CardError(SuiteError):
    """A card (YAML file) that cannot be read into its Spec."""


class DataNotFound(SuiteError):
    """No copy of a task's split was found in any of the places the suite looks."""


class CorruptData(SuiteError):
    """A data file that exists but cannot be read, or whose contents are wrong."""


class BadSequence(SuiteError):
    """A sequence holding a character that is neither a nucleotide nor an IUPAC code."""


class MissingWeights(SuiteError):
    """Pretrained weights (a checkpoint folder or a hub snapshot) that are not on this machine."""
