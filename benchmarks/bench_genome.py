"""Pretraining corpora at genome scale (issue 21): memory stays flat in genome size (not a test).

    python benchmarks/bench_genome.py [--gbp 1.0] [--windows 40000] [--length 256]

Two corpora, each sampled in a fresh process (so peak memory is the sampler's own): the real Arabidopsis thaliana
chromosome 1 in $SUITE_DATA_DIR/pretrain (bgzip `.fna.gz`, 30.4 Mbp), and a synthetic genome of --gbp Gbp written
here as BGZF (several records, 80-bp lines, soft-masked stretches and N runs, as a genome arrives). For each: the
first open (block scan + `.fai`, built once into a private cache), then a warm sample of the same windows, timed,
with the process's peak resident memory. Flat memory means the 1-Gbp genome peaks within 1.5x the chromosome.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from targets import Figure, report

RECORDS = 8  # chromosomes of the synthetic genome
LINE = 80
CHUNK = 1 << 24  # bases generated per step


def write_genome(path: Path, bases: int, seed: int = 0) -> None:
    """A plain FASTA of `bases` bases over RECORDS records: random ACGT, every 7th 64-KiB stretch lowercase
    (soft-masked), one 10-kbp N run per record."""
    rng = np.random.default_rng(seed)
    letters = np.frombuffer(b"ACGTacgt", dtype=np.uint8)
    per_record = bases // RECORDS
    with open(path, "wb") as out:
        for record in range(RECORDS):
            out.write(f">chr{record + 1} synthetic\n".encode())
            done = 0
            while done < per_record:
                n = min(CHUNK, per_record - done) // LINE * LINE or per_record - done
                codes = rng.integers(0, 4, n, dtype=np.uint8)
                stretch = (np.arange(done, done + n) // 65536) % 7 == 0
                seq = letters[codes + 4 * stretch]
                if done == 0:
                    seq[n // 2 : n // 2 + 10_000] = ord("N")
                full = n // LINE * LINE
                lines = np.concatenate([seq[:full].reshape(-1, LINE), np.full((full // LINE, 1), 10, np.uint8)], 1)
                out.write(lines.tobytes())
                if full < n:
                    out.write(seq[full:].tobytes() + b"\n")
                done += n


def measure(fasta: Path, windows: int, length: int, cache: Path) -> dict:
    """First open and a warm sample in a fresh process: seconds each and the process's peak RSS (MiB, the suite's
    one memory probe, PeakMemory: the kernel's peak since the probe was made, not the resource module's max RSS, which
    survives exec on Linux and would carry this parent's peak, the genome it generated). torch is imported first,
    as in any suite process, so both corpora carry the same baseline."""
    code = f"""
import json, time, torch
from suite.data.fasta import sample_windows
from suite.train.cost import PeakMemory
memory = PeakMemory(torch.device("cpu"))
t = time.perf_counter(); sample_windows({str(fasta)!r}, 1, {length}, 0); first = time.perf_counter() - t
t = time.perf_counter(); w = sample_windows({str(fasta)!r}, {windows}, {length}, 42); warm = time.perf_counter() - t
print(json.dumps({{"first_open_s": first, "sample_s": warm, "peak_mib": memory.peak_mb(),
                  "windows_mib": w.nbytes / 2**20}}))
"""
    env = {**os.environ, "SUITE_CACHE_DIR": str(cache)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gbp", type=float, default=1.0, help="size of the synthetic genome (Gbp)")
    parser.add_argument("--windows", type=int, default=40_000)
    parser.add_argument("--length", type=int, default=256)
    args = parser.parse_args()

    from suite.data.fasta import bgzip

    data = Path(os.environ.get("SUITE_DATA_DIR", "../shared/data"))
    chromosome = data / "pretrain" / "arabidopsis_thaliana_tair10_chr1.fna.gz"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        real = measure(chromosome, args.windows, args.length, tmp / "cache-real")
        plain = tmp / "genome.fa"
        write_genome(plain, int(args.gbp * 1e9))
        packed = tmp / "genome.fa.gz"
        bgzip(plain, packed, level=1)
        plain.unlink()
        synthetic = measure(packed, args.windows, args.length, tmp / "cache-synthetic")
        size = packed.stat().st_size / 2**20
    scale = f"{args.windows:,} windows x {args.length} bp"
    report([
        Figure("TAIR10 chr1 (30.4 Mbp BGZF): peak memory", real["peak_mib"], "MiB",
               note=f"sample {real['sample_s']:.1f} s, first open {real['first_open_s']:.1f} s; {scale}"),
        Figure(f"synthetic {args.gbp:g} Gbp BGZF ({size:,.0f} MiB): peak memory", synthetic["peak_mib"], "MiB",
               note=f"sample {synthetic['sample_s']:.1f} s, first open (block scan + .fai) "
                    f"{synthetic['first_open_s']:.1f} s"),
        Figure("peak memory, genome / chromosome", synthetic["peak_mib"] / real["peak_mib"], "x", target=1.5,
               note=f"flat in genome size; the windows themselves hold {real['windows_mib']:.0f} MiB"),
    ], "Pretraining corpora: memory in genome size")


if __name__ == "__main__":
    main()
