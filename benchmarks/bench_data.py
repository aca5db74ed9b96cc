"""Data benchmark (not a test): encoding throughput and the cached reload of the largest task.

The largest task, human_ensembl_regulatory (231,348 train + 57,713 test sequences, median 401 bp, max 802), is not
on this machine, so the script writes a file of the same shape in the official layout (random bases, lengths drawn
uniformly from 71..802) into a temporary data folder and loads it through the real code path:
raw csv.gz → parse → encode → cache write (cold), then memory-mapped reload (warm).

    python benchmarks/bench_data.py [--scale 1.0]
"""

from __future__ import annotations

import argparse
import gzip
import os
import tempfile
import time
from pathlib import Path

import numpy as np


def write_split(path: Path, n: int, rng: np.random.Generator) -> int:
    lengths = rng.integers(71, 803, size=n)
    letters = np.frombuffer(b"ACGT", dtype=np.uint8)
    bases = letters[rng.integers(0, 4, size=int(lengths.sum()))].tobytes().decode()
    ends = np.cumsum(lengths)
    rows = [f"{bases[e - l:e]},{i % 3}\n" for i, (e, l) in enumerate(zip(ends, lengths))]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(("seq,label\n" + "".join(rows)).encode(), compresslevel=6))
    return int(lengths.sum())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the real task size")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        os.environ["SUITE_DATA_DIR"] = str(root / "data")
        os.environ["SUITE_CACHE_DIR"] = str(root / "cache")
        from suite.data.cache import load_split
        from suite.data.encode import encode
        from suite.tasks import get_task

        task = get_task("human_ensembl_regulatory")
        sizes = {"train": int(231_348 * args.scale), "test": int(57_713 * args.scale)}
        bases = {s: write_split(root / "data" / "genomic_benchmarks" / task.source / f"{s}.csv.gz", n, rng) for s, n in sizes.items()}
        total_bases = sum(bases.values())

        seqs = ["".join(rng.choice(list("ACGTacgtN"), size=400)) for _ in range(20_000)]
        start = time.perf_counter()
        encode(seqs)
        encode_rate = 20_000 * 400 / (time.perf_counter() - start)

        start = time.perf_counter()
        for split in sizes:
            load_split(task, split)
        cold = time.perf_counter() - start
        start = time.perf_counter()
        for split in sizes:
            data = load_split(task, split)
            _ = int(data.seqs.codes[-1])  # touch the memory map
        warm = time.perf_counter() - start

    print("| measure | value |\n|---|---|")
    print(f"| encoder alone (20k x 400 bp, in memory) | {encode_rate / 1e6:.0f} M bases/s |")
    print(f"| {task.name} size | {sum(sizes.values()):,} sequences, {total_bases / 1e6:.1f} M bases |")
    print(f"| cold load: read csv.gz + encode + write cache | {cold:.2f} s ({total_bases / cold / 1e6:.1f} M bases/s end to end) |")
    print(f"| cached reload (sha256 memo + memory map) | {warm:.3f} s |")


if __name__ == "__main__":
    main()
