"""`suite pretrain`'s progress: a line per snapshot and epoch end (not per step), the mean loss since the last
line, an ETA from this call's own pace; the loop calls it after every step."""

import io
import re

from rich.console import Console

from suite.pretrain.loop import pretrain
from suite.pretrain.progress import PretrainProgress
from tests.pretrain.test_loop import tiny

STAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (.*)$")


def lines(console: Console) -> list[str]:
    return [m.group(1) for line in console.file.getvalue().splitlines() if (m := STAMP.match(line))]


class ManualClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def losses(step: int) -> dict:
    return {"train/loss": float(step), "train/mnm_loss": 1.0, "train/cl_loss": 0.5}


def test_a_line_at_the_first_step_every_snapshot_every_epoch_end_and_the_last_step():
    console, clock = Console(file=io.StringIO(), width=100), ManualClock()
    progress = PretrainProgress("findna-quick", total_steps=10, steps_per_epoch=4, save_every=5, console=console,
                                clock=clock)
    with progress:
        for step in range(1, 11):
            clock.now = 2.0 * step  # 2 s a step
            progress(step, losses(step))
    assert lines(console) == [
        "pretraining findna-quick: step 1/10 · epoch 1/3 · loss 1.0000 (mnm 1.0000, cl 0.5000)",  # no pace yet
        "pretraining findna-quick: step 4/10 · epoch 1/3 · loss 3.0000 (mnm 1.0000, cl 0.5000) · ETA 12 s",
        "pretraining findna-quick: step 5/10 · epoch 2/3 · loss 5.0000 (mnm 1.0000, cl 0.5000) · ETA 10 s",
        "pretraining findna-quick: step 8/10 · epoch 2/3 · loss 7.0000 (mnm 1.0000, cl 0.5000) · ETA 4 s",
        "pretraining findna-quick: step 10/10 · epoch 3/3 · loss 9.5000 (mnm 1.0000, cl 0.5000)",
    ]


def test_a_resumed_run_takes_its_pace_from_its_own_steps():
    console, clock = Console(file=io.StringIO(), width=100), ManualClock()
    progress = PretrainProgress("findna-quick", total_steps=100, steps_per_epoch=50, save_every=1000,
                                console=console, clock=clock)
    clock.now = 500.0  # building the model and sampling windows took long: not a step's pace
    progress(61, losses(61))
    clock.now = 510.0
    progress(62, losses(62))
    assert progress.eta() == 380.0  # 1 step in 10 s, 38 left
    assert lines(console)[0].startswith("pretraining findna-quick: step 61/100 · epoch 2/2")


def test_the_loop_reports_every_step(tmp_path, cohn_fasta):
    seen = []
    result = pretrain(tiny(steps=3), cohn_fasta, tmp_path, track=False, device="cpu",
                      on_step=lambda step, metrics: seen.append((step, "train/loss" in metrics)))
    assert seen == [(1, True), (2, True), (3, True)] and result.step == 3
