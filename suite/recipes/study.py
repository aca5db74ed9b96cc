"""What a study recipe (kind `study`) writes beside its per-mode tables: is each pretraining healthy, what did it
cost, and does it beat the alternatives by more than seed noise.

- Pretraining: per job, steps × batch × window = bases seen, training time (the sum of the gaps between logged
  steps, so a run resumed in pieces counts only its training), FLOPs (torch's counter over one step of the job's
  configuration × steps) and three health checks on the last 10 % of steps: masked-base accuracy above the
  corpus's majority-base accuracy, MNM loss below the corpus's base-frequency entropy, and teacher targets neither
  collapsed (entropy < 5 % of its maximum) nor uniform (> 99 %: nothing left to distil). Curves as a figure.
- Per mode: mean ± std over seeds per task and entry; per comparison [entry, baseline] the Wilcoxon signed-rank
  test per task over seed-paired runs (with 3 seeds its smallest two-sided p is 0.25, so it cannot reach 0.05 on
  one task) and across tasks on the task means (n = tasks); Friedman over the tasks with the Nemenyi critical
  difference, drawn as a CD diagram (suite/reports/stats.py, Demšar 2006).
- Planted motif: a linear probe on every entry's backbone (pretrained or not) on the planted-motif task, so a
  pretraining is seen to help (or not) on a task where the answer is known before the GUE grid is read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from suite.errors import SuiteError
from suite.recipes.plan import PretrainJob, RecipePlan

HEALTH_TAIL = 0.1  # the share of the last steps the health checks average over
CURVES = {"train/mnm_loss": "MNM loss (nats)", "train/cl_loss": "CL loss", "train/teacher_entropy": "teacher entropy",
          "train/mnm_accuracy": "masked-base accuracy"}


@dataclass
class JobHealth:
    job: PretrainJob
    steps: int
    bases_seen: int
    train_seconds: float
    flops: float
    accuracy: float
    majority: float
    mnm_loss: float
    base_entropy: float
    teacher_entropy: float | None  # None: no teacher (CM-MNM)
    teacher_entropy_max: float | None
    history: dict[str, list[tuple[int, float]]]

    def problems(self) -> list[str]:
        """What fails the checks; [] for a healthy pretraining."""
        found = []
        if not self.accuracy > self.majority:
            found.append(f"masked-base accuracy {self.accuracy:.3f} ≤ majority base {self.majority:.3f}")
        if not self.mnm_loss < self.base_entropy:
            found.append(f"MNM loss {self.mnm_loss:.4f} ≥ base-frequency entropy {self.base_entropy:.4f}")
        if self.teacher_entropy is not None and self.teacher_entropy_max:
            share = self.teacher_entropy / self.teacher_entropy_max
            if share < 0.05:
                found.append(f"teacher targets collapsed (entropy {share:.0%} of its maximum)")
            elif share > 0.99:
                found.append(f"teacher targets uniform (entropy {share:.1%} of its maximum)")
        return found


def _tail_mean(points: list[tuple[int, float]]) -> float:
    if not points:
        return math.nan
    n = max(1, int(len(points) * HEALTH_TAIL))
    return float(np.mean([v for _, v in points[-n:]]))


def training_seconds(uri: str | None, run_id: str) -> float:
    """The seconds a pretraining run trained, from the times its steps were logged (the loop logs every step)."""
    from suite.tracking import client

    return active_seconds([m.timestamp for m in client(uri).get_metric_history(run_id, "train/loss")])


def active_seconds(stamps_ms: list[int]) -> float:
    """Sum of the gaps between consecutive step times, in time order (a resumed run logs the steps after its last
    checkpoint again, so step order is not time order); a gap over 10× the median (the run stopped, then resumed)
    counts as one median step, so the time a resumed run waited is left out. Steps trained twice count twice."""
    gaps = np.diff(np.sort(np.asarray(stamps_ms, dtype=np.float64))) / 1000.0
    if gaps.size == 0:
        return math.nan
    typical = float(np.median(gaps))
    waited = gaps > 10 * max(typical, 1e-3)
    return float(gaps[~waited].sum() + typical * waited.sum() + typical)  # + the first step, before any gap


def step_flops(config) -> float:
    """FLOPs of one pretraining step of this configuration (forward, backward, optimiser; the teacher's forward
    included), counted by torch on random windows."""
    import torch

    from suite.recipes.cost import _inputs, pretrain_step
    from suite.train.cost import count_flops

    data = _inputs(config.window_len, config.batch_size, config.seed)
    step, _ = pretrain_step(config, data, torch.device("cpu"))
    return count_flops(step)


def job_health(job: PretrainJob, uri: str | None) -> JobHealth:
    from suite.tracking import metric_history, run_metrics

    run_id = job.mlflow_run_id
    if run_id is None:
        raise SuiteError(f"{job.folder} has no MLflow run recorded", "pretrain it again with tracking on")
    metrics = run_metrics(uri, run_id)
    history = {key: metric_history(uri, run_id, key) for key in CURVES}
    teacher = _tail_mean(history["train/teacher_entropy"]) if history["train/teacher_entropy"] else None
    config = job.config
    return JobHealth(job, config.total_steps, config.total_steps * config.batch_size * config.window_len,
                     training_seconds(uri, run_id), step_flops(config) * config.total_steps,
                     _tail_mean(history["train/mnm_accuracy"]), metrics.get("corpus/majority_base_accuracy", math.nan),
                     _tail_mean(history["train/mnm_loss"]), metrics.get("corpus/base_entropy", math.nan), teacher,
                     metrics.get("train/teacher_entropy_max"), history)


def motif_probe(trial, seed: int) -> float:
    """Test accuracy of a linear probe on the frozen backbone of `trial` (a TrialSpec: its model, size, weights,
    recipe and overrides; its probe settings) on the planted-motif task (suite/data/planted.py). The backbone
    embeds each split once, as a probe trial does, and the head trains on the vectors."""
    import torch

    device, threads = torch.device("cpu"), torch.get_num_threads()
    torch.set_num_threads(1)  # one thread: the same accuracy whatever process computes it (and small data)
    try:
        return _motif_probe(trial, seed, device)
    finally:
        torch.set_num_threads(threads)


def _motif_probe(trial, seed: int, device) -> float:
    from suite.cards import build
    from suite.data.planted import planted_splits
    from suite.models import build_model
    from suite.models.spec import ModelSpec
    from suite.train.config import FitConfig
    from suite.train.embeddings import features
    from suite.train.evaluate import SplitData, evaluate
    from suite.train.loop import fit, seed_everything

    cfg = FitConfig.from_hparams(trial.hparams)
    seed_everything(seed)
    model = build_model(build(ModelSpec, trial.model, f"trial {trial.key}: model"), 2, size=trial.size,
                        recipe=trial.recipe, overrides=trial.backbone, weights=trial.weights != "none")
    model.set_mode("probe")
    splits = {}
    for name, (seqs, labels) in planted_splits().items():
        split = SplitData(seqs, labels, np.arange(len(labels)))
        splits[name] = SplitData(seqs, labels, split.rows, vectors=features(model, split, cfg.eval_batch_size, device))
    fit(model, splits["train"], splits["dev"], cfg, "accuracy", device=device)
    return float(evaluate(model, splits["test"], cfg.eval_batch_size, device)[0]["accuracy"])


def motif_section(plan: RecipePlan) -> list[str]:
    """The planted-motif health check of a probe plan: per entry, linear-probe test accuracy on the planted motif
    over the plan's seeds; per comparison, whether the entry's backbone is above its baseline's."""
    accuracy = {}
    for entry_plan in plan.entries:
        trial = entry_plan.plan.trials[0]
        accuracy[entry_plan.entry.label] = np.array([motif_probe(trial, seed) for seed in plan.seeds])
    lines = ["## Planted motif: linear probe on each backbone", "",
             "Test accuracy (chance 0.5) of a linear probe with the study's probe settings on the planted-motif task "
             "(suite/data/planted.py: an 8-bp motif at a random place in half of 1,200 random 60-bp sequences), mean "
             f"± std over seeds {','.join(map(str, plan.seeds))}. A pretraining that taught its backbone anything "
             "about local sequence should make the motif easier to read out than from the untrained network.", "",
             "| backbone | accuracy |", "|---|---|"]
    lines += [f"| {label} | {acc.mean():.3f} ± {acc.std(ddof=1) if len(acc) > 1 else 0:.3f} |"
              for label, acc in accuracy.items()]
    if plan.recipe.comparisons:
        lines += ["", "| entry | baseline | Δ accuracy | above |", "|---|---|---|---|"]
        for entry, baseline in plan.recipe.comparisons:
            diff = accuracy[entry].mean() - accuracy[baseline].mean()
            lines.append(f"| {entry} | {baseline} | {diff:+.3f} | {'yes' if diff > 0 else '**no**'} |")
    return lines + [""]


def scores_frame(plan: RecipePlan, runs: pd.DataFrame) -> pd.DataFrame:
    """Tidy (entry, task, seed, fold, score ×100) of exactly the runs each entry planned."""
    frames = []
    for entry_plan in plan.entries:
        keys = {t.key for t in entry_plan.plan.trials}
        mine = runs[runs["run_key"].isin(keys)]
        frames.append(pd.DataFrame({"entry": entry_plan.entry.label, "task": mine["task"], "seed": mine["seed"],
                                    "fold": mine["fold"], "score": mine["primary"] * 100}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["entry", "task", "seed",
                                                                                       "fold", "score"])


def _fmt_p(p: float) -> str:
    return "–" if p is None or math.isnan(p) else f"{p:.3g}"


def mode_section(plan: RecipePlan, scores: pd.DataFrame, out: Path) -> list[str]:
    """The markdown of one mode: scores, paired tests, Friedman + CD diagram (written to out/cd_<mode>.png)."""
    from suite.reports.plots import cd_diagram
    from suite.reports.stats import friedman, wilcoxon

    recipe, labels = plan.recipe, [e.entry.label for e in plan.entries]
    lines = [f"## {plan.mode}: test score ×100 (mean ± std over seeds)", ""]
    grouped = scores.groupby(["task", "entry"])["score"]
    means, stds, counts = grouped.mean().unstack(), grouped.std(ddof=1).unstack(), grouped.count().unstack()
    lines += ["| task | " + " | ".join(labels) + " |", "|---" * (len(labels) + 1) + "|"]
    for task in plan.tasks:
        cells = []
        for label in labels:
            if task in means.index and label in means.columns and not math.isnan(means.at[task, label]):
                std = stds.at[task, label]
                cells.append(f"{means.at[task, label]:.2f} ± {0 if math.isnan(std) else std:.2f}"
                             + ("" if counts.at[task, label] == len(plan.seeds) else f" (n={counts.at[task, label]})"))
            else:
                cells.append("–")
        lines.append(f"| {task} | " + " | ".join(cells) + " |")
    # the tasks every entry with runs has (an entry without any run is left out of the averages and ranks)
    complete = means.reindex(index=plan.tasks, columns=labels).dropna(axis=1, how="all").dropna(axis=0, how="any")
    if len(complete):
        lines.append(f"| **average ({len(complete)} tasks)** | "
                     + " | ".join(f"**{complete[label].mean():.2f}**" if label in complete else "–" for label in labels)
                     + " |")
    lines.append("")
    if recipe.comparisons:
        lines += ["### Paired tests", "",
                  "Per task: Wilcoxon signed-rank (two-sided) on seed-paired runs; across tasks: the same test on the "
                  "task means. Δ = entry − baseline.", "",
                  "| entry | baseline | task | Δ mean | Wilcoxon p |", "|---|---|---|---|---|"]
        for entry, baseline in recipe.comparisons:
            for task in plan.tasks:
                a = scores[(scores["entry"] == entry) & (scores["task"] == task)]
                b = scores[(scores["entry"] == baseline) & (scores["task"] == task)]
                pairs = a.merge(b, on=["seed", "fold"], suffixes=("_a", "_b"))
                if pairs.empty:
                    continue
                _, p = wilcoxon(pairs["score_a"].to_numpy(), pairs["score_b"].to_numpy())
                diff = float((pairs["score_a"] - pairs["score_b"]).mean())
                lines.append(f"| {entry} | {baseline} | {task} | {diff:+.2f} | {_fmt_p(p)} |")
            if entry in complete.columns and baseline in complete.columns and len(complete) > 0:
                _, p = wilcoxon(complete[entry].to_numpy(), complete[baseline].to_numpy())
                diff = complete[entry] - complete[baseline]
                lines.append(f"| **{entry}** | **{baseline}** | **across {len(complete)} tasks** "
                             f"(wins {int((diff > 0).sum())}, losses {int((diff < 0).sum())}) | "
                             f"**{diff.mean():+.2f}** | **{_fmt_p(p)}** |")
        lines.append("")
    if complete.shape[0] >= 2 and complete.shape[1] >= 3:
        result = friedman(complete)
        figure = cd_diagram(result.mean_ranks, result.cd, out / f"cd_{plan.mode}.png",
                            title=f"{recipe.name} · {plan.mode}: mean rank over {result.n_tasks} tasks")
        lines += [f"### Friedman test over {result.n_tasks} tasks", "",
                  f"χ² = {result.statistic:.2f}, p = {_fmt_p(result.p)}; Nemenyi CD (α = {result.alpha}) = "
                  f"{result.cd:.2f}. Mean ranks (1 = best): "
                  + ", ".join(f"{name} {rank:.2f}" for name, rank in result.mean_ranks.items()) + ".", "",
                  f"![critical difference diagram]({figure.name})", ""]
    return lines


def pretraining_section(healths: list[JobHealth], out: Path) -> list[str]:
    from suite.reports.plots import pretraining_curves

    lines = ["## Pretraining (matched budgets)", "",
             "| job | for | steps | batch × window | bases seen | training time (s) | FLOPs | masked-base acc. "
             "(majority) | MNM loss (base entropy) | teacher entropy (max) | health |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for h in healths:
        config = h.job.config
        teacher = "no teacher" if h.teacher_entropy is None else \
            f"{h.teacher_entropy:.3f} ({h.teacher_entropy_max:.3f})" if h.teacher_entropy_max else f"{h.teacher_entropy:.3f}"
        lines.append(f"| {h.job.folder.name} | {', '.join(h.job.entries)} | {h.steps:,} | {config.batch_size} × "
                     f"{config.window_len} | {h.bases_seen:,} | {h.train_seconds:.3g} | {h.flops:.3g} | "
                     f"{h.accuracy:.4f} ({h.majority:.4f}) | {h.mnm_loss:.4f} ({h.base_entropy:.4f}) | {teacher} | "
                     f"{'; '.join(h.problems()) or 'healthy'} |")
    histories = {", ".join(h.job.entries): h.history for h in healths}
    floors = {", ".join(h.job.entries): {"train/mnm_accuracy": h.majority, "train/mnm_loss": h.base_entropy,
                                         **({"train/teacher_entropy": h.teacher_entropy_max}
                                            if h.teacher_entropy_max else {})} for h in healths}
    figure = pretraining_curves(histories, CURVES, out / "pretraining_curves.png", floors,
                                title="pretraining curves (dashed: composition floors, uniform entropy)")
    lines += ["", f"Health on the last {HEALTH_TAIL:.0%} of steps. ![pretraining curves]({figure.name})", ""]
    return lines


def write_study(plans: list[RecipePlan], runs: pd.DataFrame, uri: str | None, out: Path, command: str) -> Path:
    """out/study.md (with its figures) for the plans of one study recipe (one per mode)."""
    recipe = plans[0].recipe
    out.mkdir(parents=True, exist_ok=True)
    healths = [job_health(job, uri) for job in plans[0].jobs if job.present]
    lines = [f"# {recipe.title}", "", recipe.description.strip(), "", f"Command: `{command}`", "",
             f"Profile {plans[0].request.profile}; seeds {','.join(map(str, plans[0].seeds))}; tasks: "
             f"{', '.join(plans[0].tasks)}.", ""]
    lines += pretraining_section(healths, out) if healths else ["No pretraining is finished yet.", ""]
    probe = next((plan for plan in plans if plan.mode == "probe"), None)
    if healths and probe is not None and all(e.job is None or e.job.present for e in probe.entries):
        lines += motif_section(probe)
    for plan in plans:
        lines += mode_section(plan, scores_frame(plan, runs), out)
    lines += [f"- {note}" for note in recipe.notes]
    path = out / "study.md"
    path.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")
    return path
