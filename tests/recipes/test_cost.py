"""suite.recipes.cost: training cost side by side in one process (paper Tables 6 and 8), on tiny cards."""

from __future__ import annotations

import math

import pytest

from suite.errors import SuiteError
from suite.recipes.cost import CostEntry, CostResult, measure, ratios

SMALL = {"length": 64, "batch": 2, "repeats": 1, "device": "cpu"}
T8 = [CostEntry("FinDNA", "findna", "pretrain", "tiny"), CostEntry("CM-MNM", "cm_mnm", "pretrain", "tiny")]
T6 = [CostEntry("FinDNA", "findna", "finetune", "tiny"), CostEntry("DNABERT-2", "dnabert2", "finetune", "tiny")]


@pytest.fixture(scope="module")
def t8() -> tuple[list[CostResult], str]:
    return measure(T8, **SMALL)


def by_label(results: list[CostResult]) -> dict[str, CostResult]:
    return {r.entry.label: r for r in results}


def test_self_distillation_step_counts_more_flops_than_mnm_only(t8):
    results, _ = t8
    r = by_label(results)
    assert [x.entry for x in results] == T8
    # the teacher's forward and the K [CLS] tokens are extra work on top of the MNM student step
    assert r["FinDNA"].flops_per_batch > r["CM-MNM"].flops_per_batch > 0


def test_flops_and_parameters_are_reproducible(t8):
    again, _ = measure(T8, **SMALL)
    for first, second in zip(t8[0], again, strict=True):
        assert first.flops_per_batch == second.flops_per_batch
        assert first.parameters == second.parameters


def test_reference_ratio_is_one_and_figures_are_positive(t8):
    results, device = t8
    factors = ratios(results, "FinDNA")
    assert factors["FinDNA"] == {"time": 1.0, "memory": 1.0, "flops": 1.0}
    assert factors["CM-MNM"]["flops"] == pytest.approx(
        by_label(results)["CM-MNM"].flops_per_batch / by_label(results)["FinDNA"].flops_per_batch)
    for r in results:
        assert r.seconds_per_batch > 0 and r.peak_memory_mb > 0
        assert all(math.isfinite(v) for v in factors[r.entry.label].values())
    assert device.startswith("cpu: ") and "torch threads" in device


def test_student_parameters_match_build_backbone(t8):
    from suite.pretrain.loop import build_backbone, profile_config

    _, backbone, _ = build_backbone(profile_config("findna", "quick", size="tiny", window_len=SMALL["length"]))
    head = backbone.width * 5 + 5  # the student's Linear(E → 5) MNM/CL head; the teacher is not trained
    expected = sum(p.numel() for p in backbone.parameters() if p.requires_grad) + head
    assert by_label(t8[0])["FinDNA"].parameters == expected


def test_finetune_step_of_a_native_and_a_hub_card():
    results, _ = measure(T6, **SMALL)
    factors = ratios(results, "FinDNA")
    assert factors["FinDNA"] == {"time": 1.0, "memory": 1.0, "flops": 1.0}
    for r in results:
        assert r.flops_per_batch > 0 and r.parameters > 0 and r.seconds_per_batch > 0


@pytest.mark.parametrize("entry, message", [
    (CostEntry("X", "no_such_model", "finetune"), "unknown model"),
    (CostEntry("DNABERT-2", "dnabert2", "pretrain"), "no pretraining step"),
    (CostEntry("FinDNA", "findna", "inference"), "unknown step kind"),
    (CostEntry("FinDNA", "findna", "pretrain", "huge"), "size of model"),
])
def test_bad_entries_are_one_line_errors_before_anything_runs(entry, message):
    with pytest.raises(SuiteError, match=message) as caught:
        measure([CostEntry("ok", "findna", "pretrain", "tiny"), entry], **SMALL)
    assert "\n" not in str(caught.value)


def test_ratios_need_the_reference(t8):
    with pytest.raises(SuiteError, match="no result labelled"):
        ratios(t8[0], "NT-500M-human")


def test_entries_too_big_together_are_timed_one_at_a_time(monkeypatch):
    import suite.recipes.cost as cost

    monkeypatch.setattr(cost, "available_mb", lambda device: 1.0)  # pretend the machine is nearly full
    results, device = measure(T8, **SMALL)
    assert "timed one entry after another" in device
    assert all(r.seconds_per_batch > 0 for r in results)
    monkeypatch.undo()
    together, device_together = measure(T8, **SMALL)
    assert "one entry after another" not in device_together
    assert [r.flops_per_batch for r in results] == [r.flops_per_batch for r in together]
