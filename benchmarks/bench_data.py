"""Data benchmark (not a test): encoder throughput on one core and the cold load of the largest task (issue 20).

The largest task, human_ensembl_regulatory (231,348 train + 57,713 test sequences, median 401 bp, max 802), is not
on this machine, so the script writes a file of the same shape in the official layout (random bases, lengths drawn
uniformly from 71..802) into a temporary data folder and loads it through the real code path:
raw csv.gz → inflate → parse → encode → cache write (cold), then memory-mapped reload (warm).
Everything runs on one thread (numpy and torch are held to one); rates are per cpu-second of this process, i.e. one
core's throughput, with the wall-clock rate and the machine's load beside them in the note.

    python benchmarks/bench_data.py [--scale 1.0] [--repeats 3]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):  # before numpy is imported
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import gzip  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from targets import Figure, report  # noqa: E402


def write_split(path: Path, n: int, rng: np.random.Generator) -> int:
    lengths = rng.integers(71, 803, size=n)
    letters = np.frombuffer(b"ACGT", dtype=np.uint8)
    bases = letters[rng.integers(0, 4, size=int(lengths.sum()))].tobytes().decode()
    ends = np.cumsum(lengths)
    rows = [f"{bases[e - l:e]},{i % 3}\n" for i, (e, l) in enumerate(zip(ends, lengths))]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(("seq,label\n" + "".join(rows)).encode(), compresslevel=6))
    return int(lengths.sum())


def best_of(repeats: int, run) -> tuple[float, float]:
    """(wall, cpu) seconds of run(), each the least of `repeats` runs. The cpu time (this process, one thread) is
    what one core spends; on a loaded machine the wall time also counts the waits for a core."""
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        run()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the real task size")
    parser.add_argument("--repeats", type=int, default=3, help="timings per figure; the best is kept")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        os.environ["SUITE_DATA_DIR"] = str(root / "data")
        from suite.data.cache import load_split
        from suite.data.encode import JoinedSequences, encode
        from suite.data.formats import gunzip, inflater
        from suite.tasks import get_task

        task = get_task("human_ensembl_regulatory")
        sizes = {"train": int(231_348 * args.scale), "test": int(57_713 * args.scale)}
        files = {s: root / "data" / "genomic_benchmarks" / task.source / f"{s}.csv.gz" for s in sizes}
        total_bases = sum(write_split(files[s], n, rng) for s, n in sizes.items())

        seqs = ["".join(rng.choice(list("ACGTacgtN"), size=400)) for _ in range(20_000)]
        encode_s = best_of(args.repeats, lambda: encode(seqs))
        joined = JoinedSequences("".join(seqs).encode(), np.arange(20_001, dtype=np.int64) * 400)
        joined_s = best_of(args.repeats, lambda: encode(joined))
        compressed = [f.read_bytes() for f in files.values()]
        inflate_s = best_of(args.repeats, lambda: [gunzip(c) for c in compressed])

        def cold() -> None:  # a fresh cache each time: sha256, inflate, parse, encode, write
            cache = root / "cache"
            shutil.rmtree(cache, ignore_errors=True)
            for split in sizes:
                load_split(task, split, cache_root=cache)

        cold_s = best_of(args.repeats, cold)

        def warm() -> None:
            for split in sizes:
                _ = int(load_split(task, split, cache_root=root / "cache").seqs.codes[-1])  # touch the memory map

        warm_s = best_of(args.repeats, warm)

    load = f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"

    def rate(bases: float, seconds: tuple[float, float]) -> tuple[float, str]:
        """M bases per cpu-second (the figure: one core's throughput), and the wall-clock rate for the note."""
        return bases / seconds[1] / 1e6, f"wall {bases / seconds[0] / 1e6:.0f} M bases/s at {load}"

    encode_rate, encode_wall = rate(20_000 * 400, encode_s)
    joined_rate, joined_wall = rate(20_000 * 400, joined_s)
    cold_rate, cold_wall = rate(total_bases, cold_s)
    inflate_rate, inflate_wall = rate(total_bases, inflate_s)
    size = f"{sum(sizes.values()):,} sequences, {total_bases / 1e6:.1f} M bases"
    report([
        Figure("encoder alone, one core", encode_rate, "M bases/s", 300, "higher",
               f"20k x 400 bp str (ACGTacgtN) → uint8 codes; {encode_wall}; 193 on main before issue 20"),
        Figure("encoder on joined bytes, one core", joined_rate, "M bases/s", None, "higher",
               f"the same bases as one ASCII buffer + offsets (what the csv reader hands over); {joined_wall}"),
        Figure(f"cold load {task.name}", cold_rate, "M bases/s", 100, "higher",
               f"{size}: sha256 + csv.gz inflate ({inflater()}) + parse + encode + cache write, "
               f"{cold_s[1]:.2f} cpu-s; {cold_wall}; 41 on main"),
        Figure("gzip inflate alone", inflate_rate, "M bases/s", None, "higher",
               f"{inflater()}: the ceiling of a cold load from csv.gz; {inflate_wall}"),
        Figure("cached reload", warm_s[0], "s", None, "lower", "sha256 memo + memory map, both splits (wall)"),
    ], "Data loading (benchmarks/bench_data.py)")


if __name__ == "__main__":
    main()
