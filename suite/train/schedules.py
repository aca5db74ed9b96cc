"""Schedules as per-step arrays (DINO's `cosine_scheduler`): value[step] is what step `step` uses, so resuming at
any step lands on exactly the same position of the schedule."""

from __future__ import annotations

import math

import numpy as np

from suite.errors import SuiteError


def _check_steps(total_steps: int) -> None:
    if total_steps < 1:
        raise SuiteError(f"a schedule needs at least 1 step, got {total_steps}", "raise --steps or the epochs")


def cosine_with_warmup(base_value: float, total_steps: int, warmup_fraction: float = 0.3,
                       final_value: float = 0.0) -> np.ndarray:
    """Linear warm-up from 0 over the first W = floor(warmup_fraction · total_steps) steps, then a half
    cosine from base_value to final_value (FinDNA pretraining: 30 % warm-up, facts §2.7).

    Equal to transformers' get_cosine_schedule_with_warmup (num_cycles 0.5) stepped once per iteration:
    value[s] = base · s / W for s < W, else final + (base - final) · ½(1 + cos(π (s - W) / (S - W)))."""
    _check_steps(total_steps)
    if not 0.0 <= warmup_fraction < 1.0:
        raise SuiteError(f"warmup_fraction must be in [0, 1), got {warmup_fraction}", "use e.g. 0.3")
    warmup = int(warmup_fraction * total_steps)
    ramp = base_value * np.arange(warmup, dtype=np.float64) / max(warmup, 1)
    progress = np.arange(total_steps - warmup, dtype=np.float64) / (total_steps - warmup)
    decay = final_value + (base_value - final_value) * 0.5 * (1.0 + np.cos(math.pi * progress))
    return np.concatenate([ramp, decay])


def cosine(base_value: float, final_value: float, total_steps: int) -> np.ndarray:
    """Half cosine from base_value (step 0) towards final_value (DINO): the EMA teacher momentum λ of Eq. 9,
    0.996 → 1 (paper §3.4): λ(s) = 1 - 0.002 · (1 + cos(π s / S)) (facts §2.6)."""
    _check_steps(total_steps)
    steps = np.arange(total_steps, dtype=np.float64)
    return final_value + 0.5 * (base_value - final_value) * (1.0 + np.cos(math.pi * steps / total_steps))
