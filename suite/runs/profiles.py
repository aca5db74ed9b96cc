"""The two run profiles. A profile is the third configuration layer (after the task's paper recipe and the
model card's training defaults): a CPU budget that still converges (quick) or the paper's settings (paper). A
card's `training.<profile>` block then sets what the profile leaves to each model (e.g. its CPU learning rate).
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
        description="CPU: small sizes (scaled to the task's length), random init, the whole train split, trained "
                    "until validation stops improving (patience 3) within a budget of 1,000 optimizer steps",
        model_size="small",
        weights="none",
        # The budget is steps, not wall-clock, so a trial is deterministic whatever the machine's load. No row cap:
        # a small task is seen for many epochs, a large one for as many rows as the budget allows.
        sets={"patience": 3, "max_steps": 1_000, "epochs": 50},
    ),
    "paper": Profile(
        name="paper",
        description="the paper's model size, pretrained weights and hyperparameters; no early stopping (the paper "
                    "and the authors' scripts train every epoch and keep the best validation checkpoint)",
        model_size="paper",
        weights="card",
        sets={"patience": None, "max_steps": None},
    ),
}


def get_profile(name: str) -> Profile:
    if name not in PROFILES:
        raise UnknownName("profile", name, PROFILES)
    return PROFILES[name]
