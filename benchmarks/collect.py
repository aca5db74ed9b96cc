"""One table of every performance figure of a `make bench` run (issue 20): the benchmarks append their figures to
$BENCH_OUT (benchmarks/targets.py `report`); this prints them together, each beside its target, met or missed.

    python benchmarks/collect.py runs/bench.jsonl [--out reports/performance.md]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
from pathlib import Path

from targets import Figure, markdown


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("figures", help="the JSON lines the benchmarks wrote ($BENCH_OUT)")
    parser.add_argument("--out", help="also write the table to this markdown file")
    args = parser.parse_args()

    rows = [json.loads(line) for line in Path(args.figures).read_text().splitlines() if line.strip()]
    fields = set(Figure.__dataclass_fields__)
    figures = [Figure(**{k: v for k, v in row.items() if k in fields}) for row in rows]
    met = [f.met for f in figures if f.met is not None]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    text = (f"{markdown(figures)}\n\n{sum(met)} of {len(met)} targets met; {platform.machine()}, "
            f"{os.cpu_count()} CPU cores, load average {load:.1f} when collected.\n")
    print(text)
    if args.out:
        Path(args.out).write_text(f"# Performance: `make bench`\n\n{text}")


if __name__ == "__main__":
    main()
