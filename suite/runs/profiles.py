"""The two run profiles. A profile is the third configuration layer (after the task's paper recipe and the
model card's training defaults): it caps what a laptop can afford (quick) or leaves the paper's settings (paper).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from suite.errors import UnknownName


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    model_size: str  # a size of the model card (falls back to the card's default size when it has no such size)
    weights: str  # "card" = the card's pretrained weights; "none" = random init (override: --set weights=PATH)
    caps: dict = field(default_factory=dict)  # upper bounds on hparams (epochs, batch_size, max_train_rows)
    sets: dict = field(default_factory=dict)  # values the profile fixes


PROFILES = {
    "quick": Profile(
        name="quick",
        description="CPU-sized: small model size, random init (no pretraining), <= 4 epochs on <= 8,000 training rows",
        model_size="small",
        weights="none",
        caps={"epochs": 4, "batch_size": 128, "max_train_rows": 8_000},
        sets={"patience": 2, "warmup_frac": 0.1},
    ),
    "paper": Profile(
        name="paper",
        description="the paper's model size, pretrained weights and hyperparameters",
        model_size="paper",
        weights="card",
    ),
}


def get_profile(name: str) -> Profile:
    if name not in PROFILES:
        raise UnknownName("profile", name, PROFILES)
    return PROFILES[name]
